"""CFFI build script for ``ganshot.engine._cmixer`` (API mode, compiled at install time).

setup.py names it in ``cffi_modules``, so ``pip install -e .`` and wheel builds compile
``engine/_cmixer.c`` into ``ganshot/engine/_cmixer.*.so``. No PortAudio headers are
needed: the stream callback's signature is declared in the header (PaStreamCallbackTimeInfo
is three doubles, the status flags an unsigned long).

One declaration: ``engine/_cmixer.h`` is the cdef, read verbatim (python-rtmixer's
``rtmixer_build.py`` reads ``src/rtmixer.h`` the same way), and ``_cmixer.c`` includes it.

Rebuild by hand: ``.venv/bin/pip install -e .`` (or ``python engine/_mixer_build.py``,
which writes the module into the current folder).
"""

import os
from pathlib import Path

from cffi import FFI

_HERE = Path(__file__).resolve().parent  # _cmixer.c includes _cmixer_state.h and _cmixer.h from here
_SOURCES = ("_cmixer.c", "_cmixer_state.h", "_cmixer_jack.h", "_cmixer_jack_clock.h", "_cmixer.h")

ffibuilder = FFI()
ffibuilder.cdef((_HERE / "_cmixer.h").read_text(encoding="utf-8"))
ffibuilder.set_source(
    "ganshot.engine._cmixer",
    (_HERE / "_cmixer.c").read_text(encoding="utf-8"),
    include_dirs=[str(_HERE)],
    # relative to setup.py (the build's cwd), so setuptools rebuilds when the header changes
    depends=[os.path.relpath(_HERE / name) for name in _SOURCES],
    # No FMA contraction: every block size must give the same floats.
    extra_compile_args=["-std=c11", "-O2", "-ffp-contract=off"],
    libraries=["dl"],  # dlopen("libjack.so.0") at run time (_cmixer_jack.h): JACK is optional
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
