"""ganshot.engine — the ground floor: model bundles, generator runtime, audio, kits.

Cheat sheet::

    from ganshot.engine import Engine, AudioStream, load_bundle, load_kit
    bundle = load_bundle("presets/models/drums-v2")       # validated, hash-checked, no torch
    kit = load_kit("presets/kits/default.json", latent_dim=bundle.latent_dim)
    engine = Engine(bundle, kit, sample_rate=48000)       # runtime + render worker + C mixer
    engine.stream = AudioStream(engine.mixer, device="system", sample_rate=48000, block_size=128)
    engine.stream.start()
    engine.trigger_note(36, velocity=0.9)                 # the command API (see engine.engine)
    engine.apply("pad.0.gain_db", -6.0)                   # any knob: a target of kit_schema.TARGETS
    engine.status()                                       # underflows, late, voices, render ms

    OnnxGenerator(bundle).render(z)                       # float32[B, latent_dim] -> [B, num_samples]
    render_events(engine, [(0.0, 36, 127), (0.5, 38, 100)])  # offline, same C mixer -> [frames, 2]
    Enhancer(bundle).run(audio)                           # a bundle's post-filter, [B, num_samples] -> same

Every bound (directions, latent size, pitch, pads, notes) is defined once in
:mod:`.limits`, with the one range check (``check_int``, ``check_float``).
The engine never imports ``ganshot.training`` or ``ganshot.bridges``. Names are loaded
lazily, so ``import ganshot.engine`` stays light (no torch, no onnxruntime).
"""

from .errors import FormatError, GanshotError, IntegrityError, UserInputError

_LAZY = {
    "load_bundle": "bundle", "ModelBundle": "bundle", "OnnxGenerator": "onnx_runtime",
    "load_generator_runtime": "runtime", "GeneratorRuntime": "runtime", "RenderWorker": "render_worker",
    "PostProcess": "postprocess", "Mixer": "mixer", "AudioStream": "audio_stream", "Engine": "engine",
    "Kit": "kit", "Pad": "kit", "load_kit": "kit", "save_kit": "kit", "render_events": "offline",
    "render_midi_file": "offline", "Enhancer": "enhancer", "enhance_file": "enhancer",
}

__all__ = ["GanshotError", "FormatError", "IntegrityError", "UserInputError", *_LAZY]


def __getattr__(name):  # lazy: keeps `import ganshot.engine` light (no onnxruntime, no torch)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(name)
