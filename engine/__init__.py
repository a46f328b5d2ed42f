"""ganshot.engine — the ground floor: model bundles, generator runtime, audio.

Cheat sheet::

    from ganshot.engine import load_bundle, OnnxGenerator, GanshotError
    bundle = load_bundle("presets/models/drums-v0")   # validated, hash-checked, no torch
    bundle.latent_dim, bundle.num_samples, bundle.sample_rate
    audio = OnnxGenerator(bundle).render(z)          # float32[B, latent_dim] -> [B, num_samples]

The engine never imports ``ganshot.training`` or ``ganshot.bridges``. Modules that
need torch import it lazily, so an ONNX-only runtime works without torch.
"""

from .errors import FormatError, GanshotError, IntegrityError, UserInputError

__all__ = ["GanshotError", "FormatError", "IntegrityError", "UserInputError", "load_bundle", "ModelBundle", "OnnxGenerator"]

_LAZY = {"load_bundle": "bundle", "ModelBundle": "bundle", "OnnxGenerator": "onnx_runtime"}


def __getattr__(name):  # lazy: keeps `import ganshot.engine` light (no onnxruntime, no torch)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(name)
