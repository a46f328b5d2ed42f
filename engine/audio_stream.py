"""A PortAudio output stream whose callback is ganshot's C mixer (no Python on the audio path).

Real-time contract: the stream's callback is ``ganshot_callback`` from engine/_cmixer.c,
handed to PortAudio as a C function pointer through sounddevice's ``_StreamBase`` with
``wrap_callback=None``. The audio thread never allocates, logs, locks or waits for the
GIL; this module only opens, starts and stops the stream and reads the C side's clock.

Clock: every callback publishes (frame at block start, currentTime, outputBufferDacTime)
in a seqlock'd snapshot. ``frame_at(time_s)`` maps a *PortAudio stream time* (the clock
of ``stream_time()``, ``timeInfo``) to the stream frame heard at the DAC then, by a line
fitted through the snapshots of the last 2 s (each call adds the newest), so the ±5-sample
per-block jitter of PortAudio's DAC time on JACK averages out and device-clock drift is
followed (measured on JACK dummy under load: frames ran 0.3 % fast against stream time).
An xrun breaks that line (time runs on while frames are lost): a snapshot more than half a
block off the line through the previous one moves the window's snapshots by the jump when it
is whole blocks (JACK loses whole periods), else clears them, so the fit follows the new
offset at once instead of lagging for 2 s (``clock_resets`` counts them).
The mapping is for turning wall-clock events into frames; timing between voices stays
exact because it is reckoned in frames.

On JACK the stream also holds the C side's *clock lock* (engine/_cmixer_jack_clock.h): a client
preempted for k periods is woken once for all of them, and the lock mixes the lost cycles unheard,
so everything scheduled after a stall still sounds at its frame on JACK's timeline instead of k - 1
periods late (``clock_lock`` says whether it holds, ``clock_lock_why`` why not; the mixer's
counters ``clock_catch_ups``, ``frames_caught_up`` and ``clock_rebases`` say what it did). ``frame_at_monotonic(t)`` does the same for ``time.monotonic()``
values, translated through a fresh stream-time reading. Schedule an event that arrived at
time t at ``frame_at(t) + lead_frames`` for a constant latency without late starts.

Cheat sheet::

    mixer = Mixer(48000)
    with AudioStream(mixer, device="system", block_size=128) as stream:
        mixer.play(hit, 0.8, 0.8, start_frame=stream.now_frame() + stream.lead_frames)
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from ._cmixer import ffi, lib
from .errors import UserInputError
from .limits import check_int

__all__ = ["AudioStream", "check_block_size", "check_output_settings", "list_output_devices", "resolve_output_device",
           "MIN_BLOCK_SIZE", "MAX_BLOCK_SIZE"]

CHANNELS = 2
# Below 16 frames a block costs more in callback overhead than it plays (on JACK dummy, 48 kHz:
# block 7 gave 18 underflows in 2 s); 0 ("the host decides") let PortAudio re-block on JACK.
MIN_BLOCK_SIZE = 16
MAX_BLOCK_SIZE = 16384
_CLOCK_WINDOW_S = 2.0  # snapshots older than this are dropped (sound card vs clock drift)
_CLOCK_POINTS = 64
_FIT_MIN_POINTS, _FIT_MIN_SPAN_S = 8, 0.25  # below this, nominal rate and median offset
_FIT_MAX_RATE_ERROR = 0.05  # a fitted rate further than 5 % from nominal is noise
_JUMP_S = 0.001  # beyond half a block plus this, a snapshot that breaks the line is an xrun
_SNAP_FRAMES = 16  # an xrun this close to whole blocks lost them exactly (the rest is DAC-time jitter)
_NO_DEVICE_HINT = "choose one with --device NUMBER|NAME, or start JACK (no sound card: jackd -d dummy)"


def _sounddevice():
    try:
        import sounddevice
    except OSError as err:  # libportaudio missing
        raise UserInputError(f"PortAudio is not available ({err}); install libportaudio2") from None
    return sounddevice


def _is_jack(sd, device: int) -> bool:
    return "JACK" in sd.query_hostapis(sd.query_devices(device)["hostapi"])["name"]


def list_output_devices() -> list[dict]:
    """Devices with output channels: index, name, hostapi, channels, default_sample_rate, default."""
    sd = _sounddevice()
    hostapis = sd.query_hostapis()
    default_out = sd.default.device[1]
    return [
        {"index": d["index"], "name": d["name"], "hostapi": hostapis[d["hostapi"]]["name"],
         "channels": d["max_output_channels"], "default_sample_rate": d["default_samplerate"],
         "default": d["index"] == default_out}
        for d in sd.query_devices() if d["max_output_channels"] > 0
    ]


def _describe(devices: list[dict]) -> str:
    if not devices:
        return "none"
    return "; ".join(f"{d['index']} '{d['name']}' ({d['hostapi']}, {d['channels']} out)" for d in devices)


def check_output_settings(device: int, sample_rate: int, block_size: int) -> None:
    """Refuse, in one line and before any slow set-up, what the device cannot play: a block
    size outside MIN_BLOCK_SIZE..MAX_BLOCK_SIZE, or a sample rate it cannot open (the message
    names the rate it runs at, e.g. a JACK server's)."""
    check_block_size(block_size)
    sd = _sounddevice()
    try:
        sd.check_output_settings(device=device, samplerate=sample_rate, channels=CHANNELS, dtype="float32")
    except Exception as err:  # sounddevice.PortAudioError, or ValueError for an impossible setting
        info = sd.query_devices(device)
        rate = int(round(info["default_samplerate"]))
        raise UserInputError(f"output device {device} '{info['name']}' cannot play at {sample_rate} Hz "
                             f"(it runs at {rate} Hz: use --sample-rate {rate}); "
                             f"PortAudio says: {' '.join(str(err).split())}") from None


def check_block_size(block_size) -> None:
    """Refuse (one line) a block size outside MIN_BLOCK_SIZE..MAX_BLOCK_SIZE frames."""
    check_int(block_size, "block size (frames; 128 or 256 suit most devices)", MIN_BLOCK_SIZE, MAX_BLOCK_SIZE)


def resolve_output_device(device: int | str | None = None) -> int:
    """The PortAudio index of a stereo output device: None (default), a number, or a name part.

    A name matches case-insensitively anywhere in "name, host API" ("system", "JACK").
    Raises a one-line UserInputError naming the devices found when none fits.
    """
    devices = list_output_devices()
    usable = [d for d in devices if d["channels"] >= CHANNELS]
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)
    if device is None:
        chosen = [d for d in usable if d["default"]] or usable[:1]
        if chosen:
            return chosen[0]["index"]
        raise UserInputError(f"no usable stereo output device (found: {_describe(devices)}); {_NO_DEVICE_HINT}")
    if isinstance(device, int) and not isinstance(device, bool):
        for d in usable:
            if d["index"] == device:
                return device
        raise UserInputError(f"output device {device} is not a stereo output device "
                             f"(found: {_describe(devices)}); {_NO_DEVICE_HINT}")
    if not isinstance(device, str):
        raise UserInputError(f"device must be a number, a name or None, got {device!r}")
    needle = device.strip().lower()
    matches = [d for d in usable if needle in f"{d['name']}, {d['hostapi']}".lower()]
    exact = [d for d in matches if d["name"].lower() == needle]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]["index"]
    what = "matches several devices" if matches else "matches no stereo output device"
    raise UserInputError(f"device {device!r} {what} (found: {_describe(matches or devices)}); {_NO_DEVICE_HINT}")


class AudioStream:
    """Plays ``mixer`` on a stereo float32 PortAudio output stream.

    ``device``: None, index or name part (see resolve_output_device); ``sample_rate`` in
    Hz must equal the mixer's; ``block_size`` frames per callback (MIN_BLOCK_SIZE..MAX_BLOCK_SIZE);
    ``latency``: "low", "high" or seconds. Owns the mixer (no render()) until close().
    """

    def __init__(self, mixer, device: int | str | None = None, sample_rate: int = 48000,
                 block_size: int = 128, latency: str | float = "low"):
        self._stream = None
        if sample_rate != mixer.sample_rate:
            raise UserInputError(f"sample_rate {sample_rate} differs from the mixer's {mixer.sample_rate}")
        check_block_size(block_size)
        sd = _sounddevice()
        self.device = resolve_output_device(device)
        self.device_name = sd.query_devices(self.device)["name"]
        self.mixer, self.sample_rate, self.block_size = mixer, sample_rate, block_size
        self._points: deque = deque(maxlen=_CLOCK_POINTS)  # (callbacks, frame, dac_time)
        self.clock_resets = 0  # times an xrun made frame_at() start its fit afresh
        self._jack_clock, self.clock_lock_why = ffi.NULL, "not a JACK device"
        mixer._attach(self)
        try:
            self._stream = sd._StreamBase(
                kind="output", samplerate=sample_rate, blocksize=block_size, device=self.device,
                channels=CHANNELS, dtype="float32", latency=latency,
                callback=ffi.addressof(lib, "ganshot_callback"), userdata=mixer._state, wrap_callback=None)
        except sd.PortAudioError as err:
            mixer._detach(self)
            raise UserInputError(f"cannot open output device {self.device} '{self.device_name}' at "
                                 f"{sample_rate} Hz, block {block_size}: {err}") from None
        except Exception:
            mixer._detach(self)
            raise
        if _is_jack(sd, self.device):
            self._open_clock_lock()

    def _open_clock_lock(self) -> None:
        why = ffi.new("char[]", 256)
        self._jack_clock = lib.ganshot_jack_clock_open(self.mixer._state, b"ganshot-clock", why, 256)
        self.clock_lock_why = None if self._jack_clock != ffi.NULL else ffi.string(why).decode("utf-8", "replace")

    @property
    def clock_lock(self) -> bool:
        """Whether the mixer's frame counter is locked to JACK's frame clock (see the module doc)."""
        return self._jack_clock != ffi.NULL

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> None:
        self._require_open().start()

    def stop(self) -> None:
        """Stop after the blocks already handed to the device have played."""
        self._require_open().stop()

    def close(self) -> None:
        """Stop and close the stream; the mixer can render() offline again."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            clock, self._jack_clock = self._jack_clock, ffi.NULL
            if clock != ffi.NULL:
                lib.ganshot_jack_clock_detach(self.mixer._state, clock)
            try:
                stream.close(ignore_errors=True)
            finally:
                if clock != ffi.NULL:  # no callback runs once the stream is closed
                    lib.ganshot_jack_clock_close(clock)
                self.mixer._detach(self)

    def __enter__(self) -> "AudioStream":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # never leave PortAudio calling into a freed mixer state
        try:
            self.close()
        except Exception:
            pass

    @property
    def active(self) -> bool:
        return self._stream is not None and self._stream.active

    @property
    def latency_s(self) -> float:
        """PortAudio's reported output latency in seconds."""
        return float(self._require_open().latency)

    @property
    def lead_frames(self) -> int:
        """Frames between "heard now" and the first frame a new command surely reaches:
        the output latency plus two blocks (one being mixed, one of callback jitter)."""
        clock = self.mixer._read_clock()
        block = int(clock.block_frames) if clock is not None else self.block_size
        ahead = (clock.dac_time - clock.current_time) if clock is not None else self.latency_s
        return int(round(max(ahead, 0.0) * self.sample_rate)) + 2 * block

    # -- clock ----------------------------------------------------------------------
    def stream_time(self) -> float:
        """PortAudio's stream time now, in seconds (the clock of frame_at)."""
        return float(self._require_open().time)

    def frame_at(self, time_s: float) -> int:
        """The stream frame that reaches the DAC at PortAudio stream time ``time_s``."""
        self._calibrate()
        if not self._points:
            raise RuntimeError("no audio callback has run yet; start() the stream first")
        last_frame = self._points[-1][1]
        frames = np.array([p[1] - last_frame for p in self._points], dtype=np.float64)
        dacs = np.array([p[2] for p in self._points], dtype=np.float64)
        nominal = 1.0 / self.sample_rate
        seconds_per_frame, dac_at_last = nominal, float(np.median(dacs - frames * nominal))
        if len(frames) >= _FIT_MIN_POINTS and -frames[0] * nominal >= _FIT_MIN_SPAN_S:
            slope, intercept = np.polyfit(frames, dacs, 1)  # the device clock against PortAudio's
            if abs(slope / nominal - 1.0) < _FIT_MAX_RATE_ERROR:
                seconds_per_frame, dac_at_last = float(slope), float(intercept)
        return last_frame + int(round((time_s - dac_at_last) / seconds_per_frame))

    def _jump_frames(self, last, point) -> float:
        """How far (in frames) the DAC time moved off the line through the previous snapshot."""
        return (point[2] - last[2]) * self.sample_rate - (point[1] - last[1])

    def _follow_jump(self, jump_frames: float, block_frames: int) -> None:
        """An xrun (time ran on while frames were lost or repeated) moves the line: more than
        half a block plus _JUMP_S off it counts. A jump of whole blocks (JACK loses whole periods)
        moves the old snapshots with it, so the fit keeps its precision; any other clears them."""
        if abs(jump_frames) <= 0.5 * block_frames + _JUMP_S * self.sample_rate:
            return
        self.clock_resets += 1
        whole = round(jump_frames / block_frames) * block_frames if block_frames else 0
        if whole and abs(jump_frames - whole) <= _SNAP_FRAMES:
            shift = whole / self.sample_rate
            moved = [(c, f, d + shift) for c, f, d in self._points]
            self._points.clear()
            self._points.extend(moved)
        else:
            self._points.clear()

    def frame_at_monotonic(self, t: float) -> int:
        """frame_at() for a ``time.monotonic()`` value (e.g. when a message arrived)."""
        before = time.monotonic()
        now_stream = self.stream_time()
        after = time.monotonic()
        return self.frame_at(now_stream + t - 0.5 * (before + after))

    def now_frame(self) -> int:
        """The stream frame being heard now (behind mixer.frame by about the latency)."""
        return self.frame_at(self.stream_time())

    def _calibrate(self) -> None:
        clock = self.mixer._read_clock()
        if clock is None:
            return
        if not self._points or self._points[-1][0] != clock.callbacks:
            point = (int(clock.callbacks), int(clock.block_start_frame), float(clock.dac_time))
            if self._points:
                self._follow_jump(self._jump_frames(self._points[-1], point), int(clock.block_frames))
            self._points.append(point)
        while len(self._points) > 1 and clock.dac_time - self._points[0][2] > _CLOCK_WINDOW_S:
            self._points.popleft()

    def _require_open(self):
        if self._stream is None:
            raise RuntimeError("the AudioStream is closed")
        return self._stream

    def __repr__(self) -> str:
        state = "closed" if self._stream is None else ("active" if self.active else "stopped")
        return (f"AudioStream(device={self.device} '{self.device_name}', sample_rate={self.sample_rate}, "
                f"block_size={self.block_size}, {state})")
