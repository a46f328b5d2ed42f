"""Generator architectures by name: the one table bundles, the torch runtime, training and export share.

Cheat sheet::

    from ganshot.engine.generators import ARCHITECTURE_NAMES, spec_from_dict, build_generator
    spec = spec_from_dict("ddsp", bundle.hyperparameters)   # strict, FormatError on bad keys
    model = build_generator(spec)                           # DDSPGenerator(spec)
    spec.architecture                                       # "ddsp": what model.json records

Each spec class carries its name as the class attribute ``architecture``. The modules are
imported only when a spec or generator is asked for, so the bundle loader (no torch) can use
:data:`ARCHITECTURE_NAMES` without importing torch.
"""

from __future__ import annotations

import importlib

from .errors import FormatError

__all__ = ["ARCHITECTURES", "ARCHITECTURE_NAMES", "spec_class", "spec_from_dict", "build_generator"]

#: architecture name -> (module in ganshot.engine, spec class, generator class)
ARCHITECTURES = {
    "wavegan": ("wavegan", "GeneratorSpec", "WaveGANGenerator"),
    "ddsp": ("ddsp", "DDSPSpec", "DDSPGenerator"),
    "specgan": ("specgan", "SpecGANSpec", "SpecGANGenerator"),
    "harmonic": ("harmonic", "HarmonicSpec", "HarmonicGenerator"),
}
ARCHITECTURE_NAMES = tuple(ARCHITECTURES)


def _entry(name: str) -> tuple:
    if name not in ARCHITECTURES:
        raise FormatError(f"architecture {name!r:.60} is not one this ganshot knows ({', '.join(ARCHITECTURE_NAMES)})")
    module, spec_name, generator_name = ARCHITECTURES[name]
    found = importlib.import_module(f"{__package__}.{module}")
    return getattr(found, spec_name), getattr(found, generator_name)


def spec_class(name: str) -> type:
    """The spec dataclass of architecture ``name`` (FormatError for an unknown name)."""
    return _entry(name)[0]


def spec_from_dict(name: str, data: dict):
    """Strictly rebuild architecture ``name``'s spec from its ``to_dict()`` form."""
    return spec_class(name).from_dict(data)


def build_generator(spec):
    """A freshly initialised generator module for ``spec`` (any spec class of the table)."""
    return _entry(getattr(spec, "architecture", ""))[1](spec)
