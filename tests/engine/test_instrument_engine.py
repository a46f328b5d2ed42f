"""Instrument pads in the Engine: every note rendered ahead (progress in status), resampled for a model
without pitch input and rendered at its pitch by a pitch-conditional one, ranges refused against the
model, edits re-rendering the notes, note_on/note_off/sustain through the real C mixer offline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ganshot.engine import latent
from ganshot.engine.engine import Engine
from ganshot.engine.errors import UserInputError
from ganshot.engine.instrument import MAX_RESAMPLE_SEMITONES
from ganshot.engine.kit import save_kit
from tests.support import kit_for
from tests.support.instruments import held_note, instrument_kit

RATE = 48000
TIMEOUT_S = 60.0
CENTRE = float(np.cos(np.pi / 4))  # constant-power pan at 0


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, instrument_kit(tiny_bundle, release_ms=5.0), sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(TIMEOUT_S)
        yield engine


def test_every_note_is_rendered_ahead_by_resampling_the_pad(engine):
    status = engine.status()
    assert (status["instrument_notes_ready"], status["instrument_notes_total"]) == (25, 25)
    root = engine.pad_buffer(1)
    assert engine.instrument_note_buffer(1, 60) is root  # the pad's own note is its buffer
    up, down = engine.instrument_note_buffer(1, 72), engine.instrument_note_buffer(1, 48)
    assert abs(len(up) - len(root) / 2) <= 2 and abs(len(down) - 2 * len(root)) <= 2  # an octave each way
    assert not up.flags.writeable and up.dtype == np.float32
    assert engine.instrument_note_buffer(1, 47) is None and engine.instrument_note_buffer(0, 36) is None
    assert engine.longest_buffer_frames() == len(down)


def test_note_on_plays_the_note_and_note_off_releases_it_on_the_frame(engine):
    buffer = engine.instrument_note_buffer(1, 55)
    start = engine.mixer.frame + 333
    assert engine.note_on(55, 0.5, at_frame=start)
    assert engine.note_off(55, at_frame=start + 2001) == 1
    out = engine.mixer.render(start + len(buffer) + 100 - engine.mixer.frame)
    gain = float(latent.velocity_gain(0.5)) * CENTRE
    base = start - (engine.mixer.frame - len(out))
    np.testing.assert_allclose(out[:, 0], held_note(buffer, gain, base, base + 2001, 240, len(out)), atol=2e-7)
    status = engine.status()
    assert status["notes_on"] == 1 and status["notes_released"] == 1 and status["focus"] == 1


def test_drum_pads_play_one_shots_and_ignore_note_offs(engine):
    buffer = engine.pad_buffer(0)
    start = engine.mixer.frame
    assert engine.note_on(36, 1.0, at_frame=start)
    assert engine.note_off(36, at_frame=start + 100) == 0
    out = engine.mixer.render(len(buffer) + 10)
    np.testing.assert_allclose(out[:len(buffer), 0], buffer * CENTRE, atol=1e-7)
    assert engine.status()["note_offs_ignored"] == 1


def test_trigger_on_an_instrument_pad_plays_its_note_as_a_one_shot(tiny_bundle):
    kit = instrument_kit(tiny_bundle, note=60, root_note=55)
    with Engine(tiny_bundle, kit, sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(TIMEOUT_S)
        note = engine.instrument_note_buffer(1, 60)
        assert len(note) < len(engine.pad_buffer(1))  # heard at 55, so note 60 is shorter
        engine.trigger(1, at_frame=engine.mixer.frame)
        out = engine.mixer.render(len(note) + 10)
        np.testing.assert_allclose(out[:len(note), 0], note * CENTRE, atol=1e-7)
        assert not out[len(note):].any() and not engine.instrument_voices.sounding()


def test_sustain_holds_the_release_until_pedal_up(engine):
    buffer = engine.instrument_note_buffer(1, 50)
    base = engine.mixer.frame
    engine.sustain(True, at_frame=base)
    engine.note_on(50, 1.0, channel=2, at_frame=base + 10)
    engine.note_off(50, channel=2, at_frame=base + 500)
    engine.sustain(False, channel=2, at_frame=base + 4321)
    out = engine.mixer.render(len(buffer) + 100)
    np.testing.assert_allclose(out[:, 0], held_note(buffer, CENTRE, 10, 4321, 240, len(out)), atol=2e-7)


def test_panic_releases_everything(engine):
    engine.note_on(60, 1.0)
    engine.note_on(64, 1.0)
    engine.sustain(True)
    engine.panic()
    assert not engine.instrument_voices.sounding() and not engine.instrument_voices.pedal(0)
    engine.mixer.render(512)
    assert engine.mixer.counters()["voices_sounding"] == 0


def test_a_note_before_its_render_is_dropped_and_counted(tiny_bundle):
    with Engine(tiny_bundle, kit_for(tiny_bundle, num_pads=2), sample_rate=RATE, backend="onnx") as engine:
        engine.instrument_notes.pad_ready = lambda *args: None  # the render-ahead never gets to run
        engine.set_kit(instrument_kit(tiny_bundle), wait=True)
        assert engine.note_on(60, 1.0) == 0
        status = engine.status()
        assert status["notes_not_ready"] == 1
        assert (status["instrument_notes_ready"], status["instrument_notes_total"]) == (0, 25)


def test_a_pad_edit_renders_its_notes_again(engine):
    before = engine.instrument_note_buffer(1, 67)
    engine.set_direction(1, 0, 0.7)
    assert engine.wait_ready(TIMEOUT_S)
    after = engine.instrument_note_buffer(1, 67)
    assert after is not before and not np.array_equal(after[:len(before)], before[:len(after)])
    assert engine.status()["instrument_notes_ready"] == 25
    engine.set_gain(1, -6.0)  # no new sound: the notes stay
    assert engine.wait_ready(TIMEOUT_S) and engine.instrument_note_buffer(1, 67) is after


def test_a_range_far_from_the_root_is_refused_for_a_model_without_pitch(tiny_bundle):
    far = 60 - MAX_RESAMPLE_SEMITONES - 1
    kit = instrument_kit(tiny_bundle, low=far, high=60, channel=1)  # on its channel: the drum keeps note 36
    with pytest.raises(UserInputError, match=rf"pads\[1\].instrument range {far}..60 reaches 37 semitones"):
        Engine(tiny_bundle, kit, sample_rate=RATE, backend="onnx")


def test_a_pitch_model_renders_every_note_at_its_pitch(tiny_pitched_bundle):
    kit = instrument_kit(tiny_pitched_bundle, class_name="keys", low=58, high=62, release_ms=1.0)
    with Engine(tiny_pitched_bundle, kit, sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(TIMEOUT_S)
        assert engine.status()["instrument_notes_ready"] == 5
        z, label = engine.pad_latent(1), engine.pad_label(1)
        for note in (58, 61, 62):
            expected = engine.worker.render_now(z, 0.0, label, note=note)
            np.testing.assert_array_equal(engine.instrument_note_buffer(1, note), expected)
        a, b = engine.instrument_note_buffer(1, 58), engine.instrument_note_buffer(1, 62)
        assert len(a) == len(b) and not np.array_equal(a, b)  # rendered, not resampled
        np.testing.assert_array_equal(engine.pad_buffer(1), engine.instrument_note_buffer(1, 60))


@pytest.mark.parametrize("changes, needle", [
    ({"low": 30, "high": 60, "channel": 1}, "pads[1].instrument range 30..60 lies outside the pitch range 36..96 of the model"),
    ({"root_note": 60}, "pads[1].instrument.root_note must be null: the model pitched is pitch-conditional"),
])
def test_a_pitch_model_refuses_ranges_it_cannot_render(tiny_pitched_bundle, tmp_path, changes, needle):
    kit = instrument_kit(tiny_pitched_bundle, class_name="keys", **changes)
    with pytest.raises(UserInputError) as refused:
        Engine(tiny_pitched_bundle, kit, sample_rate=RATE, backend="onnx")
    assert needle in str(refused.value) and "\n" not in str(refused.value)
    good = instrument_kit(tiny_pitched_bundle, class_name="keys", low=58, high=62)
    with Engine(tiny_pitched_bundle, good, sample_rate=RATE, backend="onnx") as engine:
        path = save_kit(dataclasses.replace(kit), tmp_path / "bad.json")
        with pytest.raises(UserInputError, match="pads\\[1\\].instrument"):
            engine.load_kit(path)
        assert engine.kit is good  # the playing kit is untouched


def test_the_c_midi_input_leaves_instrument_notes_to_python(engine, tiny_bundle):
    from ganshot.engine.jack_midi import note_table_for

    notes, _ = note_table_for(*engine.pads_snapshot())
    assert set(notes) == {36}  # the drum pad; the instrument's notes need their note-offs
    shared = instrument_kit(tiny_bundle, low=30, high=50, note=40, channel=1)  # shares 36 on channel 1
    notes, _ = note_table_for(shared, (engine.pad_buffer(0), engine.pad_buffer(1)))
    assert notes == {}  # the C table has no channel per note: Python tells the two apart


def test_notes_three_octaves_from_the_root_are_resampled(tiny_bundle):
    kit = instrument_kit(tiny_bundle, low=60 - MAX_RESAMPLE_SEMITONES, high=61, note=60, channel=1)
    with Engine(tiny_bundle, kit, sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(TIMEOUT_S)
        status = engine.status()
        assert status["instrument_errors"] == 0 and status["instrument_notes_ready"] == status["instrument_notes_total"]
        lowest = engine.instrument_note_buffer(1, 60 - MAX_RESAMPLE_SEMITONES)
        assert abs(len(lowest) - 8 * len(engine.pad_buffer(1))) <= 8  # three octaves down: 8x as long
