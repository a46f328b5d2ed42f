"""Errors that name the problem in one line.

Every user-facing failure in ganshot (a corrupt file, a bad argument, a missing
device) raises a subclass of :class:`GanshotError`; the command line prints its
message on one line and exits non-zero, with no traceback.
"""

__all__ = ["GanshotError", "FormatError", "IntegrityError", "UserInputError"]


class GanshotError(Exception):
    """Base class for errors a user can act on; ``str(err)`` is one line."""


class FormatError(GanshotError):
    """A file is not in a format/version ganshot knows, or it is malformed."""


class IntegrityError(GanshotError):
    """A file's content does not match its recorded sha256, or a file is missing."""


class UserInputError(GanshotError):
    """An argument or input value is out of range, the wrong shape or not finite."""
