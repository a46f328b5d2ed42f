"""Build hook only: metadata lives in pyproject.toml.

The one thing pyproject.toml cannot say is cffi's ``cffi_modules``: it compiles the
real-time mixer (engine/_cmixer.c) into ``ganshot.engine._cmixer`` for editable
installs and wheels alike.
"""

from setuptools import setup

setup(cffi_modules=["engine/_mixer_build.py:ffibuilder"])
