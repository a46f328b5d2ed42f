"""The command API, offline (no audio device): triggers, knobs, morph, kits, counters."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.engine import Engine
from ganshot.engine.errors import FormatError, IntegrityError, UserInputError
from ganshot.engine.kit import ModelRef, load_kit, save_kit
from ganshot.engine.latent import constant_power_pan, seeded_latent, slerp
from tests.support import kit_for

RATE = 48000


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=RATE, backend="onnx") as eng:
        yield eng


def onset(channel: np.ndarray, threshold: float = 1e-6) -> int:
    return int(np.argmax(np.abs(channel) > threshold))


def test_pads_are_rendered_at_the_stream_rate(engine, tiny_bundle):
    buffer = engine.pad_buffer(0)
    assert buffer.dtype == np.float32 and buffer.ndim == 1
    assert len(buffer) == pytest.approx(tiny_bundle.num_samples * RATE / tiny_bundle.sample_rate, abs=2)
    assert np.abs(buffer).max() > 0


def test_trigger_at_frame_is_sample_exact_with_gain_and_pan(engine):
    engine.set_pan(1, -0.5)
    engine.set_gain(1, -6.0)
    target = engine.mixer.frame + 1000
    assert engine.trigger(1, velocity=1.0, at_frame=target)
    out = engine.mixer.render(8000)
    buffer = engine.pad_buffer(1)
    gain_l, gain_r = constant_power_pan(-0.5)
    gain = 10 ** (-6 / 20)
    first = int(np.argmax(np.abs(buffer) > 0))
    assert onset(out[:, 0]) == 1000 + first
    np.testing.assert_allclose(out[1000:1000 + 4000, 0], buffer[:4000] * gain * gain_l, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out[1000:1000 + 4000, 1], buffer[:4000] * gain * gain_r, rtol=1e-5, atol=1e-7)


def test_velocity_curve_scales_the_hit(engine):
    frames = len(engine.pad_buffer(0)) + 64  # each hit ends inside its own render
    engine.trigger(0, velocity=0.5, at_frame=engine.mixer.frame)
    soft = engine.mixer.render(frames)
    engine.trigger(0, velocity=1.0, at_frame=engine.mixer.frame)
    loud = engine.mixer.render(frames)
    np.testing.assert_allclose(soft, loud * 0.25, rtol=1e-5, atol=1e-8)  # square law: -12 dB


def test_knob_swaps_the_buffer_for_the_next_trigger_only(engine):
    before = engine.pad_buffer(0)
    engine.trigger(0, at_frame=engine.mixer.frame)
    engine.set_direction(0, 2, 0.8)
    engine.wait_ready(10)
    after = engine.pad_buffer(0)
    assert after is not before and not np.array_equal(after, before)
    out = engine.mixer.render(len(before))  # the voice already sounding finished with the old buffer
    gain = constant_power_pan(0.0)[0]
    np.testing.assert_allclose(out[:, 0], before * gain, rtol=1e-5, atol=1e-7)
    assert engine.kit.pads[0].directions == (0.0, 0.0, 0.8)


def test_sweep_ends_on_the_last_position(engine):
    for value in np.linspace(-1, 1, 40):
        engine.set_direction(1, 0, float(value))
    engine.wait_ready(10)
    expected = engine.worker.render_now(engine.pad_latent(1))
    np.testing.assert_array_equal(engine.pad_buffer(1), expected)
    assert engine.status()["renders"] < 40  # coalesced


def test_morph_is_slerp_of_the_two_pads(engine, tiny_bundle):
    engine.morph(3, from_pad=0, to_pad=1, t=0.25)
    z0 = seeded_latent(1, tiny_bundle.latent_dim)
    z1 = seeded_latent(2, tiny_bundle.latent_dim)
    np.testing.assert_allclose(engine.pad_latent(3), slerp(z0, z1, 0.25), rtol=1e-5)


def test_choke_group_cuts_the_sounding_voice(engine):
    start = engine.mixer.frame
    engine.trigger(2, at_frame=start)
    engine.trigger(3, at_frame=start + 500)
    out = engine.mixer.render(4000)
    counters = engine.mixer.counters()
    # pad 2 alone would still sound well after 500 + fade; with the choke only pad 3 remains
    only3 = engine.pad_buffer(3)[100: 100 + 4000 - 600] * constant_power_pan(0.0)[0]  # pad 3 began at 500
    np.testing.assert_allclose(out[600:, 0], only3, rtol=1e-4, atol=1e-6)
    assert counters["voices_sounding"] <= 1


def test_note_map_and_unmapped_notes(engine):
    assert engine.trigger_note(37, 1.0) > 0
    assert engine.trigger_note(99, 1.0) == 0
    assert engine.triggers_unmapped == 1


@pytest.mark.parametrize("call, needle", [
    (lambda e: e.trigger(9), "pad must be"),
    (lambda e: e.trigger(0, velocity=float("nan")), "velocity"),
    (lambda e: e.set_latent(0, [0.0] * 3), "z must be 8"),
    (lambda e: e.set_latent(0, [float("nan")] * 8), "finite"),
    (lambda e: e.set_gain(0, 40.0), "gain_db"),
    (lambda e: e.set_pan(0, 2.0), "pan"),
    (lambda e: e.morph(0, 0, 1, 1.5), "t must be"),
    (lambda e: e.set_dim(0, 8, 1.0), "dim must be"),
])
def test_bad_commands_are_one_line_errors_and_change_nothing(engine, call, needle):
    kit = engine.kit
    with pytest.raises(UserInputError, match=needle):
        call(engine)
    assert engine.kit == kit


def test_failed_kit_load_keeps_the_current_kit(engine, tiny_bundle, tmp_path):
    good = tmp_path / "good.json"
    save_kit(kit_for(tiny_bundle, num_pads=2), good)
    engine.load_kit(good, wait=True)
    assert len(engine.kit.pads) == 2
    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text().replace('"version": 1', '"version": 7'))
    with pytest.raises(FormatError, match="version"):
        engine.load_kit(bad)
    other = kit_for(tiny_bundle, num_pads=3)
    other = type(other)(name=other.name, model=ModelRef(name="x", sha256="0" * 64), pads=other.pads)
    with pytest.raises(IntegrityError):
        engine.set_kit(other)
    assert load_kit(good) == engine.kit and engine.trigger(1) > 0


def test_status_counters(engine):
    engine.trigger(0)
    engine.mixer.render(256)
    status = engine.status()
    for key in ("voices", "underflows", "late", "renders", "render_ms_p50", "render_ms_p99", "cache_bytes", "backend"):
        assert key in status
    assert status["renders"] >= 4 and status["cache_bytes"] > 0 and status["backend"].startswith("onnx")
    engine.panic()
    engine.mixer.render(2048)
    assert engine.status()["voices"] == 0


def test_focus_learn_and_controllers(engine, tmp_path):
    from ganshot.engine.kit_schema import Controller

    engine.trigger(2)
    assert engine.focus == 2 and engine.status()["focus"] == 2  # the last pad played
    engine.set_focus(1)
    assert engine.focus == 1
    with pytest.raises(UserInputError, match=r"pad must be an integer in \[0, 3\]"):
        engine.set_focus(4)
    engine.learn("focused.direction.0")
    assert engine.learn_target == "focused.direction.0"
    for bad in ("focused.volume", "pad.7.pan"):
        with pytest.raises(UserInputError):
            engine.learn(bad)
    engine.learn(None)
    assert engine.learn_target is None
    row = Controller(type="pitchbend", number=0, target="pad.3.pitch_semitones", min=-2.0, max=2.0)
    engine.set_controllers([row])
    engine.save_kit(tmp_path / "kit.json")
    assert load_kit(tmp_path / "kit.json").controllers == (row,)
    with pytest.raises(UserInputError, match="names pads"):
        engine.set_controllers([Controller(number=1, target="pad.9.pan", min=-1, max=1)])
    assert engine.kit.controllers == (row,)
    pads = engine.kit.pads
    with pytest.raises(UserInputError, match=r"direction must be an integer in \[0, 7\]"):
        engine.set_direction(0, engine.num_directions, 0.5)  # the model has no such knob
    assert engine.kit.pads == pads  # refused before the kit changed
    engine.set_focus(3)
    engine.set_kit(engine.kit.__class__(name="two", model=engine.kit.model, pads=pads[:2]))
    assert engine.focus == 1 and engine.wait_ready(10)  # the focus stays on a pad the kit has


def test_apply_speaks_every_target_of_the_kit_schema(engine):
    """One vocabulary for OSC knobs, MIDI controllers and kits: each TARGETS row reaches its field."""
    engine.set_focus(2)
    engine.apply("pad.1.gain_db", -6.0)
    engine.apply("focused.pan", 0.5)
    engine.apply("focused.pitch_semitones", 3.0)
    engine.apply("pad.0.direction.2", 0.25)
    engine.apply("master.gain_db", -3.0)
    kit = engine.kit
    assert kit.pads[1].gain_db == -6.0 and kit.pads[2].pan == 0.5 and kit.pads[2].pitch_semitones == 3.0
    assert kit.pads[0].directions == (0.0, 0.0, 0.25) and kit.master_gain_db == -3.0
    engine.apply("focus", 0.6)  # rounded: pad 1
    assert engine.focus == 1
    before = engine.kit
    for target, value, needle in (("pad.1.gain_db", 99.0, r"gain_db must be a number in \[-60, 12\]"),
                                  ("pad.1.volume", 0.0, "not a known target"),
                                  ("focused.direction.8", 0.5, r"direction must be an integer in \[0, 7\]")):
        with pytest.raises(UserInputError, match=needle):
            engine.apply(target, value)
    assert engine.kit is before  # a refused edit changes nothing


def test_a_knob_edit_changes_one_field_in_place(engine, monkeypatch):
    """No pad -> JSON -> parse round trip: parse_pad is not called for a knob."""
    import ganshot.engine.kit as kit_module

    monkeypatch.setattr(kit_module, "parse_pad", None)  # any call would raise TypeError
    pad = engine.kit.pads[0]
    engine.apply("pad.0.gain_db", -12.0)
    assert engine.kit.pads[0] == pad.__class__(**{**pad.__dict__, "gain_db": -12.0})
