"""ganshot.engine — the ground floor: model bundles, generator runtime, audio.

Cheat sheet::

    from ganshot.engine import load_bundle, GanshotError
    bundle = load_bundle("presets/models/default")   # validated, hash-checked
    bundle.latent_dim, bundle.num_samples, bundle.sample_rate

The engine never imports ``ganshot.training`` or ``ganshot.bridges``. Modules that
need torch import it lazily, so an ONNX-only runtime works without torch.
"""

from .errors import FormatError, GanshotError, IntegrityError, UserInputError

__all__ = ["GanshotError", "FormatError", "IntegrityError", "UserInputError", "load_bundle", "ModelBundle"]


def __getattr__(name):  # lazy: keeps `import ganshot.engine` light
    if name in ("load_bundle", "ModelBundle"):
        from . import bundle

        return getattr(bundle, name)
    raise AttributeError(name)
