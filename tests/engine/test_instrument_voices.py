"""Instrument voices on the real C mixer, offline: note-off releases start on the exact frame whatever
the block size, the sustain pedal holds and releases at pedal-up, polyphony steals the oldest, a
retriggered note replaces itself, panic forgets everything."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.instrument import STEAL_FADE_MS, Instrument
from ganshot.engine.instrument_voices import InstrumentVoices
from ganshot.engine.mixer import Mixer
from tests.support.instruments import held_note

RATE = 48000
BLOCK_SIZES = (1, 64, 65, 128, 8192, 8193)


def _buffer(frames: int = 6000, seed: int = 0) -> np.ndarray:
    out = (np.random.default_rng(seed).uniform(-0.5, 0.5, frames)).astype(np.float32)
    out.flags.writeable = False
    return out


def _constant(value: float, frames: int = 20000) -> np.ndarray:
    out = np.full(frames, value, np.float32)
    out.flags.writeable = False
    return out


def _render(mixer: Mixer, total: int, block_size: int) -> np.ndarray:
    return np.concatenate([mixer.render(min(block_size, total - done)) for done in range(0, total, block_size)])


@pytest.mark.parametrize("block_size", BLOCK_SIZES)
@pytest.mark.parametrize("start, release_at, release_ms", [(0, 1, 5.0), (37, 1000, 5.0), (129, 4100, 20.0),
                                                           (8191, 8193, 1.0), (100, 5000, 0.0)])
def test_the_release_starts_on_the_exact_frame(block_size, start, release_at, release_ms):
    mixer = Mixer(RATE)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=40, high=80, release_ms=release_ms)
    buffer = _buffer()
    assert voices.note_on(1, instrument, 60, None, buffer, 0.5, 0.25, at_frame=start)
    assert voices.note_off(60, at_frame=release_at) == 1
    total = start + len(buffer) + 2000
    out = _render(mixer, total, block_size)
    frames = max(1, instrument.release_frames(RATE))
    np.testing.assert_array_equal(out[:, 0], held_note(buffer, 0.5, start, release_at, frames, total))
    np.testing.assert_array_equal(out[:, 1], held_note(buffer, 0.25, start, release_at, frames, total))
    assert mixer.counters()["finished_released"] == 1 and not voices.sounding()


def test_a_note_off_dated_before_its_note_starts_releases_it_where_it_starts():
    mixer = Mixer(RATE)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=40, high=80, release_ms=2.0)
    buffer = _buffer()
    voices.note_on(1, instrument, 60, None, buffer, 1.0, 1.0, at_frame=500)
    voices.note_off(60, at_frame=100)  # a late sender's stamps crossed
    out = mixer.render(3000)
    np.testing.assert_array_equal(out[:, 0], held_note(buffer, 1.0, 500, 500, 96, 3000))


def test_the_sustain_pedal_holds_note_offs_until_it_goes_up_per_channel():
    mixer = Mixer(RATE)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=40, high=80, release_ms=1.0)
    a, b = _buffer(seed=1), _buffer(seed=2)
    voices.note_on(1, instrument, 60, 0, a, 1.0, 1.0, at_frame=10)
    voices.note_on(1, instrument, 64, 1, b, 1.0, 1.0, at_frame=10)
    voices.sustain(True, channel=0, at_frame=50)
    assert voices.note_off(60, channel=0, at_frame=200) == 1  # held
    assert voices.note_off(64, channel=1, at_frame=300) == 1  # channel 1's pedal is up: released
    assert voices.pedal(0) and not voices.pedal(1)
    assert [v.note for v in voices.sounding()] == [60] and voices.sounding()[0].held
    assert voices.sustain(False, channel=0, at_frame=2500) == 1
    out = mixer.render(7000)
    expected = held_note(a, 1.0, 10, 2500, 48, 7000) + held_note(b, 1.0, 10, 300, 48, 7000)
    np.testing.assert_allclose(out[:, 0], expected, atol=1e-7)
    assert not voices.sounding()


def test_an_instrument_without_sustain_ignores_the_pedal():
    mixer = Mixer(RATE)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=40, high=80, release_ms=1.0, sustain=False)
    buffer = _buffer()
    voices.note_on(1, instrument, 60, None, buffer, 1.0, 1.0, at_frame=0)
    voices.sustain(True)  # every channel
    voices.note_off(60, at_frame=700)
    out = mixer.render(6000)
    np.testing.assert_array_equal(out[:, 0], held_note(buffer, 1.0, 0, 700, 48, 6000))


def test_polyphony_steals_the_oldest_voice_from_the_new_note_s_start():
    mixer = Mixer(RATE)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=40, high=80, polyphony=2)
    steal = int(round(STEAL_FADE_MS * RATE / 1000))
    voices.note_on(1, instrument, 60, None, _constant(0.1), 1.0, 1.0, at_frame=0)
    voices.note_on(1, instrument, 62, None, _constant(0.2), 1.0, 1.0, at_frame=100)
    voices.note_on(1, instrument, 64, None, _constant(0.4), 1.0, 1.0, at_frame=1000)
    assert [v.note for v in voices.sounding()] == [62, 64] and voices.stolen == 1
    out = mixer.render(2000)[:, 0]
    np.testing.assert_allclose(out[50], 0.1)
    np.testing.assert_allclose(out[500], 0.3)
    fade = 0.1 * np.arange(steal - 1, -1, -1) / steal
    np.testing.assert_allclose(out[1000:1000 + steal], fade + 0.6, atol=1e-6)  # the oldest fades from 1000
    np.testing.assert_allclose(out[1000 + steal:], 0.6, atol=1e-6)


def test_a_retriggered_note_replaces_its_sounding_voice():
    mixer = Mixer(RATE)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=40, high=80, polyphony=8)
    steal = int(round(STEAL_FADE_MS * RATE / 1000))
    first = voices.note_on(1, instrument, 60, None, _constant(0.25), 1.0, 1.0, at_frame=0)
    second = voices.note_on(1, instrument, 60, None, _constant(0.25), 1.0, 1.0, at_frame=480)
    assert first != second and [v.token for v in voices.sounding()] == [second]
    out = mixer.render(2000)[:, 0]
    np.testing.assert_allclose(out[480 + steal:], 0.25, atol=1e-6)  # one voice, not two
    assert voices.note_off(60, at_frame=2100) == 1 and not voices.sounding()


def test_the_same_note_on_two_pads_or_channels_does_not_steal():
    mixer = Mixer(RATE)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=40, high=80)
    voices.note_on(1, instrument, 60, 0, _constant(0.1), 1.0, 1.0, at_frame=0)
    voices.note_on(1, instrument, 60, 1, _constant(0.1), 1.0, 1.0, at_frame=0)
    voices.note_on(2, instrument, 60, 0, _constant(0.1), 1.0, 1.0, at_frame=0)
    assert len(voices.sounding()) == 3 and voices.stolen == 0
    assert voices.note_off(60, channel=1) == 1 and voices.note_off(60) == 2


def test_panic_forgets_voices_and_lifts_the_pedals():
    mixer = Mixer(RATE)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=40, high=80)
    voices.note_on(1, instrument, 60, None, _constant(0.1), 1.0, 1.0)
    voices.sustain(True)
    voices.panic()
    assert not voices.sounding() and not voices.pedal(0) and voices.note_off(60) == 0


def test_voices_stay_bounded_by_polyphony_when_notes_never_end():
    mixer = Mixer(RATE, max_voices=8)
    voices = InstrumentVoices(mixer)
    instrument = Instrument(low=0, high=87, polyphony=3)
    for note in range(80):
        voices.note_on(1, instrument, note, None, _constant(0.01, 64), 1.0, 1.0)
        if note % 7 == 0:
            mixer.render(64)
    assert len(voices.sounding()) == 3 and voices.stolen == 77
