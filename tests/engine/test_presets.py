"""The shipped presets: the embedded model and the default kit load, check and play."""

from __future__ import annotations

import numpy as np

from ganshot.engine.engine import Engine
from ganshot.engine.presets import default_kit_path, load_model_and_kit, models_root, seeded_kit

MAX_BUNDLE_BYTES = 25 * 1024 * 1024


def test_embedded_model_is_small_and_hash_checked():
    bundles = [p for p in models_root().iterdir() if (p / "model.json").is_file()]
    assert bundles, "presets/models/ ships no model bundle"
    for path in bundles:
        size = sum(f.stat().st_size for f in path.iterdir())
        assert size <= MAX_BUNDLE_BYTES, f"{path.name} is {size} bytes"
        assert (path / "README.md").is_file()


def test_default_kit_plays_16_gm_pads_of_the_embedded_model():
    bundle, kit = load_model_and_kit()  # the default kit and the model it names (sha256 checked)
    assert default_kit_path().is_file()
    assert [pad.note for pad in kit.pads] == list(range(36, 52))
    assert {pad.choke_group for pad in kit.pads if pad.note in (42, 44, 46)} == {1}
    with Engine(bundle, kit, sample_rate=48000, backend="onnx") as engine:
        engine.trigger_note(36, 1.0, at_frame=engine.mixer.frame)
        out = engine.mixer.render(48000)
        assert np.isfinite(out).all() and np.abs(out).max() > 0.05


def test_seeded_kit_names_gm_pads():
    bundle, _ = load_model_and_kit()
    kit = seeded_kit(bundle, range(16))
    assert kit.pads[0].name == "Kick" and kit.pads[6].name == "Closed Hat" and kit.pads[6].choke_group == 1


def test_the_embedded_grooves_play_drum_hits_on_the_default_kit():
    from ganshot.engine.gm_drums import DRUM_CHANNEL  # noqa: F401 - the grooves are GM drum notes
    from ganshot.engine.pattern_bundle import load_pattern_bundle
    from ganshot.engine.pattern_source import LoopLoader, resolve_source
    from ganshot.engine.presets import patterns_root

    kind, path = resolve_source(patterns_root(), "grooves")
    assert kind == "bundle" and load_pattern_bundle(path).drums  # hash-checked
    loop = LoopLoader().load(kind, path, seed=3)
    _, kit = load_model_and_kit()
    notes = {note for _, note, velocity in loop.hits if velocity > 0}
    assert loop.bars >= 1 and len(loop.hits) >= 8
    assert all(kit.index_for_note(note) >= 0 for note in notes), notes  # every hit has a pad
    assert LoopLoader().load(kind, path, seed=4).hits != loop.hits  # a new seed, a new groove


def test_the_reeds_kit_plays_its_four_instruments_in_tune():
    from ganshot.engine.presets import presets_root

    bundle, kit = load_model_and_kit(kit_path=presets_root() / "kits" / "reeds.json")  # sha256 checked
    assert bundle.pitch_range == (36, 96) and kit.has_instruments
    assert [pad.class_name for pad in kit.pads] == ["alto_sax", "violin", "clarinet", "cello"]
    assert [pad.instrument.channel for pad in kit.pads] == [None, 1, 2, 3]
    with Engine(bundle, kit, sample_rate=48000, backend="onnx") as engine:
        assert engine.wait_ready(120)
        assert engine.kit.index_for_note(60) == 0 and engine.kit.index_for_note(60, channel=3) == 3
        engine.note_on(69, 1.0, at_frame=engine.mixer.frame)  # A4 on the sax
        out = engine.mixer.render(24000)[:, 0].astype(np.float64)
    assert np.isfinite(out).all() and np.abs(out).max() > 0.01
    spectrum = np.abs(np.fft.rfft(out[4800:] * np.hanning(len(out) - 4800)))
    freqs = np.fft.rfftfreq(len(out) - 4800, 1 / 48000)
    partials = [k * 440.0 for k in range(1, 6)]
    peak = freqs[np.argmax(spectrum)]
    assert min(abs(peak - p) for p in partials) < 5.0, peak  # the strongest line is a partial of A4
