"""The C mixer, offline: sample-exact starts at any block size, gains, stealing, choke,
late starts, buffer lifetime, bad input and command floods. No audio device needed."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.mixer import FADE_FRAMES, FINISH_REASONS, MAX_RELEASE_FRAMES, Mixer

BLOCK_SIZES = [1, 64, 65, 128, 1024, 8193]
SR = 48000
QUIET = np.float32(1 / 128)  # tests of the mixing sums keep them under the limiter's 0 dBFS (exact: a power of 2)


def render_in_blocks(mixer: Mixer, total: int, block: int) -> np.ndarray:
    parts, done = [], 0
    while done < total:
        n = min(block, total - done)
        parts.append(mixer.render(n))
        done += n
    return np.concatenate(parts)


def impulse(value: float = 1.0, frames: int = 1) -> np.ndarray:
    buf = np.zeros(frames, np.float32)
    buf[0] = value
    return buf


def fade_curve() -> np.ndarray:
    """What a constant 1.0 becomes from the frame a fade starts (same float ops as the C side)."""
    return np.array([np.float32(k) / np.float32(FADE_FRAMES) for k in range(FADE_FRAMES - 1, -1, -1)], np.float32)


START_FRAMES = [0, 1, 63, 64, 65, 127, 128, 1000, 8192, 8193, 8194, 16385]


@pytest.mark.parametrize("block", BLOCK_SIZES)
def test_voice_starts_on_its_frame_whatever_the_block_size(block):
    mixer = Mixer(SR)
    for frame in START_FRAMES:
        mixer.play(impulse(), 1.0, 0.5, start_frame=frame)
    out = render_in_blocks(mixer, 20000, block)
    assert np.flatnonzero(out[:, 0]).tolist() == START_FRAMES
    assert np.all(out[START_FRAMES, 0] == 1.0) and np.all(out[START_FRAMES, 1] == 0.5)
    assert mixer.frame == 20000
    assert mixer.counters()["late_starts"] == 0


def busy_scenario(mixer: Mixer) -> None:
    """Chokes, explicit chokes, steals, tail cuts, master gain: everything that can move a sample."""
    rng = np.random.default_rng(7)
    for i in range(40):
        buf = rng.uniform(-0.5, 0.5, int(rng.integers(50, 3000))).astype(np.float32)
        mixer.play(buf, float(rng.uniform(0, 1)), float(rng.uniform(0, 1)), start_frame=int(rng.integers(0, 9000)),
                   choke_group=int(rng.integers(0, 3)))
    mixer.choke(1, at_frame=4321)
    mixer.choke(2, at_frame=8195)
    mixer.set_master_gain(0.5)


@pytest.mark.parametrize("block", BLOCK_SIZES)
def test_output_is_identical_whatever_the_block_size(block):
    reference = Mixer(SR, max_voices=4)
    busy_scenario(reference)
    want = reference.render(12000)
    mixer = Mixer(SR, max_voices=4)
    busy_scenario(mixer)
    got = render_in_blocks(mixer, 12000, block)
    np.testing.assert_array_equal(got, want)
    assert mixer.counters()["voices_stolen"] == reference.counters()["voices_stolen"] > 0


def test_gains_are_per_channel_and_exact():
    mixer = Mixer(SR)
    buf = np.linspace(-1, 1, 100, dtype=np.float32)
    mixer.play(buf, 0.25, -0.75, start_frame=10)
    out = mixer.render(200)
    np.testing.assert_array_equal(out[10:110, 0], buf * np.float32(0.25))
    np.testing.assert_array_equal(out[10:110, 1], buf * np.float32(-0.75))
    assert not out[:10].any() and not out[110:].any()
    assert out.dtype == np.float32 and out.shape == (200, 2)


def test_64_voices_sound_together_and_the_65th_steals_the_oldest():
    mixer = Mixer(SR, max_voices=64)
    ones = np.full(1000, QUIET, np.float32)
    mixer.play(ones, 1.0, 0.0, start_frame=0)  # the oldest, alone on the left
    for i in range(1, 64):
        mixer.play(ones, 0.0, 1.0, start_frame=i)
    out = mixer.render(100)
    assert mixer.counters()["voices_sounding"] == 64 and mixer.counters()["voices_stolen"] == 0
    assert out[99, 1] == 63 * QUIET
    mixer.play(ones, 0.0, 1.0, start_frame=100)
    out = mixer.render(200)
    counters = mixer.counters()
    assert counters["voices_stolen"] == 1 and counters["voices_sounding"] == 64
    np.testing.assert_array_equal(out[:FADE_FRAMES, 0], fade_curve() * QUIET)  # the fade starts on frame 100
    assert not out[FADE_FRAMES:, 0].any()
    assert out[0, 1] == 64 * QUIET  # the new voice started anyway


def test_stealing_picks_the_oldest_voice_not_the_first_slot():
    mixer = Mixer(SR, max_voices=4)
    long = np.full(1000, QUIET, np.float32)
    mixer.play(np.full(10, QUIET, np.float32), 0.0, 1.0, start_frame=0)  # ends at 10, frees slot 0
    mixer.play(long, 1.0, 0.0, start_frame=1)  # the oldest survivor, alone on the left
    mixer.play(long, 0.0, 1.0, start_frame=2)
    mixer.play(long, 0.0, 1.0, start_frame=3)
    mixer.play(long, 0.0, 1.0, start_frame=20)  # reuses slot 0
    mixer.play(long, 0.0, 1.0, start_frame=30)  # steals the voice started at frame 1
    out = mixer.render(200)
    np.testing.assert_array_equal(out[30:30 + FADE_FRAMES, 0], fade_curve() * QUIET)
    assert np.all(out[1:30, 0] == QUIET) and not out[30 + FADE_FRAMES:, 0].any()
    assert np.all(out[30 + FADE_FRAMES:, 1] == 4 * QUIET)


def test_choke_fades_from_the_exact_start_frame_of_the_new_voice():
    mixer = Mixer(SR)
    ones = np.ones(5000, np.float32)
    mixer.play(ones, 1.0, 0.0, start_frame=0, choke_group=3)  # open hat
    mixer.play(ones, 0.0, 0.5, start_frame=0, choke_group=4)  # another group: untouched
    mixer.play(impulse(), 0.0, 0.25, start_frame=1000, choke_group=3)  # closed hat
    out = render_in_blocks(mixer, 3000, 128)
    assert np.all(out[:1000, 0] == 1.0)
    np.testing.assert_array_equal(out[1000:1000 + FADE_FRAMES, 0], fade_curve())
    assert not out[1000 + FADE_FRAMES:, 0].any()
    assert out[1000, 1] == 0.75 and np.all(out[1001:3000, 1] == 0.5)


def test_choke_command_at_a_frame_and_group_zero_is_never_choked():
    mixer = Mixer(SR)
    ones = np.ones(5000, np.float32)
    mixer.play(ones, 1.0, 0.0, start_frame=0, choke_group=2)
    mixer.play(ones, 0.0, 0.5, start_frame=0, choke_group=0)
    mixer.play(impulse(), 0.0, 0.5, start_frame=10, choke_group=0)  # group 0 chokes nothing
    mixer.choke(2, at_frame=777)
    mixer.play(ones, 1.0, 0.0, start_frame=2000, choke_group=2)  # scheduled after the choke: plays
    out = render_in_blocks(mixer, 3000, 65)
    np.testing.assert_array_equal(out[777:777 + FADE_FRAMES, 0], fade_curve())
    assert not out[777 + FADE_FRAMES:2000, 0].any() and np.all(out[2000:, 0] == 1.0)
    assert np.all(out[:, 1] == np.where(np.arange(3000) == 10, 1.0, 0.5))


def release_curve(frames: int) -> np.ndarray:
    """A constant 1.0 from the frame a release of ``frames`` starts (the C side's float ops)."""
    return np.array([np.float32(k) / np.float32(frames) for k in range(frames - 1, -1, -1)], np.float32)


@pytest.mark.parametrize("at_frame, release_frames, block", [
    (0, 1, 64), (1, 1000, 65), (777, 4800, 128), (8191, 3, 8192), (5000, 20000, 63)])
def test_release_fades_the_one_voice_from_its_exact_frame(at_frame, release_frames, block):
    mixer = Mixer(SR)
    ones = np.ones(40000, np.float32)
    held = mixer.play(ones, 1.0, 0.0, start_frame=0)
    other = mixer.play(ones, 0.0, 0.5, start_frame=0)  # another voice: untouched
    assert held and other and mixer.release(held, release_frames, at_frame=at_frame)
    out = render_in_blocks(mixer, 40000, block)
    assert np.all(out[:at_frame, 0] == 1.0)
    np.testing.assert_array_equal(out[at_frame:at_frame + release_frames, 0], release_curve(release_frames))
    assert not out[at_frame + release_frames:, 0].any() and np.all(out[:, 1] == 0.5)
    assert mixer.counters()["finished_released"] == 1


def test_release_of_an_ended_or_unstarted_voice_changes_nothing():
    mixer = Mixer(SR)
    short = mixer.play(impulse(0.5, 100), start_frame=0)
    later = mixer.play(np.ones(500, np.float32), start_frame=2000)
    mixer.release(short, 48, at_frame=1000)  # ended at 100
    mixer.release(later, 48, at_frame=1500)  # not started until 2000
    out = render_in_blocks(mixer, 3000, 128)
    assert out[0, 0] == 0.5 and np.all(out[2000:2500, 0] == 1.0) and not out[2500:].any()
    counters = mixer.counters()
    assert counters["finished_released"] == 0 and counters["finished_ended"] == 2


def test_a_release_at_the_start_frame_and_bad_arguments():
    mixer = Mixer(SR)
    token = mixer.play(np.ones(1000, np.float32), start_frame=10)
    mixer.release(token, 4, at_frame=10)  # queued after the play: same frame, fades from its first frame
    out = mixer.render(100)
    np.testing.assert_array_equal(out[10:14, 0], release_curve(4))
    assert not out[14:].any()
    for bad in (0, -1, MAX_RELEASE_FRAMES + 1, 1.5, float("nan")):
        with pytest.raises(UserInputError, match="release_frames"):
            mixer.release(token, bad)
    with pytest.raises(UserInputError, match="token"):
        mixer.release(0, 10)


def test_late_start_plays_at_the_next_block_and_is_counted():
    mixer = Mixer(SR)
    mixer.render(1000)
    mixer.play(impulse(0.5), start_frame=500)  # 500 frames in the past
    mixer.play(impulse(0.25))  # as soon as possible: never late
    out = mixer.render(100)
    assert out[0, 0] == 0.75 and not out[1:].any()
    counters = mixer.counters()
    assert counters["late_starts"] == 1 and counters["max_late_frames"] == 500


def test_buffers_are_released_once_the_mixer_is_done_with_them():
    mixer = Mixer(SR)
    played, choked, cancelled = (np.ones(n, np.float32) for n in (100, 100000, 50))
    refs = [weakref.ref(b) for b in (played, choked, cancelled)]
    mixer.play(played, start_frame=0)
    mixer.play(choked, start_frame=0, choke_group=1)
    mixer.play(cancelled, start_frame=10**6)
    del played, choked, cancelled
    mixer.render(64)
    assert mixer.counters()["buffers_held"] == 3
    mixer.choke(1)
    mixer.stop_all()
    mixer.render(200)
    gc.collect()
    assert mixer.counters()["buffers_held"] == 0
    assert [r() for r in refs] == [None, None, None]


def test_each_returned_buffer_is_counted_under_its_reason():
    mixer = Mixer(SR, max_voices=1)
    long = np.ones(100000, np.float32)
    mixer.play(np.ones(100, np.float32), start_frame=0)   # ends
    mixer.play(long, start_frame=200, choke_group=1)        # choked by the next one
    mixer.play(long, start_frame=300, choke_group=1)        # stolen by the next one
    mixer.play(long, start_frame=400)                       # stopped by stop_all
    mixer.play(long, start_frame=10**6)                     # cancelled by stop_all
    mixer.render(500)
    mixer.stop_all()
    mixer.render(200)
    counters = mixer.counters()
    got = {name: counters[f"finished_{name}"] for name in FINISH_REASONS.values()}
    assert got == {"ended": 1, "choked": 1, "stolen": 1, "stopped": 1, "cancelled": 1, "dropped": 0, "cut": 0,
                   "released": 0}
    assert counters["buffers_held"] == 0


def test_stop_all_fades_everything_and_cancels_the_schedule():
    mixer = Mixer(SR)
    mixer.play(np.ones(10000, np.float32), start_frame=0)
    mixer.play(np.ones(10000, np.float32), start_frame=5000)
    mixer.render(100)
    mixer.stop_all()
    out = mixer.render(6000)
    np.testing.assert_array_equal(out[:FADE_FRAMES, 0], fade_curve())
    assert not out[FADE_FRAMES:].any()


def test_master_gain_ramps_to_its_target():
    mixer = Mixer(SR)
    mixer.play(np.ones(1000, np.float32), start_frame=0)
    mixer.set_master_gain(0.5)
    out = mixer.render(200)
    assert out[FADE_FRAMES - 1, 0] == 0.5 and np.all(out[FADE_FRAMES:, 0] == 0.5)
    assert np.all(np.diff(out[:FADE_FRAMES, 0]) < 0)


@pytest.mark.parametrize("bad", [
    np.ones(10, np.float64), np.ones((10, 2), np.float32), np.ones(20, np.float32)[::2],
    np.array([0.0, np.nan], np.float32), np.array([np.inf], np.float32), np.zeros(0, np.float32), [0.0, 1.0],
])
def test_bad_buffers_are_refused(bad):
    with pytest.raises(UserInputError):
        Mixer(SR).play(bad)


@pytest.mark.parametrize("kwargs", [
    {"gain_l": float("nan")}, {"gain_r": 1e9}, {"gain_l": "loud"}, {"start_frame": -1}, {"start_frame": 1.5},
    {"choke_group": -1}, {"choke_group": 2**31},
])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(UserInputError):
        Mixer(SR).play(impulse(), **kwargs)


def test_bad_mixer_settings_and_misuse_are_refused():
    for kwargs in ({"sample_rate": 0}, {"sample_rate": 44100.0}, {"sample_rate": SR, "max_voices": 0},
                   {"sample_rate": SR, "max_voices": 5000}, {"sample_rate": SR, "queue_size": 1}):
        with pytest.raises(UserInputError):
            Mixer(**kwargs)
    mixer = Mixer(SR)
    with pytest.raises(UserInputError):
        mixer.choke(0)
    with pytest.raises(UserInputError):
        mixer.render(-1)
    owner = object()
    mixer._attach(owner)
    with pytest.raises(RuntimeError, match="render"):
        mixer.render(10)
    mixer._detach(owner)
    assert mixer.render(10).shape == (10, 2)
    assert "sample_rate=48000" in repr(mixer)


def test_a_full_command_ring_counts_drops_and_never_corrupts():
    mixer = Mixer(SR, queue_size=16)
    tokens = [mixer.play(impulse(), start_frame=100 + i) for i in range(40)]
    accepted = [t for t in tokens if t]
    assert len(accepted) == 16 and mixer.counters()["commands_dropped"] == 24
    out = mixer.render(300)
    assert np.flatnonzero(out[:, 0]).tolist() == list(range(100, 116))
    # the event heap is full too: 16 waiting far ahead, 16 more arrive and are dropped (and released)
    for i in range(32):
        mixer.play(impulse(), start_frame=10**6 + i)
    mixer.render(1)
    for i in range(16):
        mixer.play(impulse(), start_frame=10**6 + 100 + i)
    mixer.render(1)
    counters = mixer.counters()
    assert counters["commands_dropped"] == 24 + 16 + 16 and counters["buffers_held"] == 16
    assert counters["finished_overflows"] == 0


def test_concurrent_flood_while_rendering_accounts_for_every_voice():
    mixer = Mixer(SR, max_voices=1024, queue_size=256)
    one = np.full(1, 1 / 1024, np.float32)  # 1024 at one frame still reach only 0 dBFS
    tokens: list[int] = []

    def producer():
        for _ in range(20000):
            tokens.append(mixer.play(one))

    thread = threading.Thread(target=producer)
    thread.start()
    total = 0.0
    while thread.is_alive():
        total += float(mixer.render(256)[:, 0].sum())
    thread.join()
    total += float(mixer.render(256)[:, 0].sum())
    accepted = sum(1 for t in tokens if t)
    counters = mixer.counters()
    assert total * 1024 == accepted and accepted + counters["commands_dropped"] == 20000
    assert counters["buffers_held"] == 0 and counters["voices_stolen"] == 0
    assert counters["finished_overflows"] == 0


def test_a_read_only_buffer_is_scanned_for_nan_once_and_a_writable_one_every_time():
    mixer = Mixer(SR)
    frozen = np.full(100, 0.25, np.float32)
    frozen.setflags(write=False)
    assert mixer.play(frozen) and id(frozen) in mixer._finite  # remembered: it cannot change
    assert mixer.play(frozen)
    view = np.full(100, 0.25, np.float32)
    window = view[10:50]
    window.setflags(write=False)  # read-only, but its base is writable: scanned every time
    assert mixer.play(window) and id(window) not in mixer._finite
    view[20] = np.nan
    with pytest.raises(UserInputError, match="NaN"):
        mixer.play(window)
    key = id(frozen)
    mixer.render(256)
    del frozen
    gc.collect()
    assert key not in mixer._finite  # forgotten with the buffer
