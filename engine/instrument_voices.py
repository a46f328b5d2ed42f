"""The sounding notes of instrument pads: note-on, note-off with a release fade, sustain pedal,
polyphony and voice stealing, on top of the C mixer's sample-exact ``play`` and ``release``.

Cheat sheet (the Engine owns one; bridges call ``Engine.note_on/note_off/sustain``)::

    voices = InstrumentVoices(mixer)
    voices.note_on(pad=1, instrument=inst, note=64, channel=0, buffer=buf, gain_l=0.7, gain_r=0.7,
                   at_frame=mixer.frame + 480)                  # -> mixer token (0: not played)
    voices.note_off(64, channel=0, at_frame=mixer.frame + 9600)  # release fade from exactly that frame
    voices.sustain(True, channel=0, at_frame=...)                # CC 64 down: note-offs wait
    voices.sustain(False, channel=0, at_frame=f)                 # pedal up: held notes release at f
    voices.panic(); voices.stats()

Rules (one table of voices, bounded: at most ``polyphony`` per pad, MAX_POLYPHONY * MAX_PADS in all):

* note-on: the note's buffer starts on ``at_frame`` (None: the next mixed block). The same note of
  the same pad and channel still sounding (or held by the pedal) is stolen first, and so is the
  pad's oldest voice when ``polyphony`` voices sound: each fades over :data:`~.instrument.STEAL_FADE_MS`
  from the new note's start frame (``stolen``).
* note-off: every voice of that note (on that channel; None: any) fades out over the instrument's
  ``release_ms`` from exactly ``at_frame`` (the C mixer's release; 0 ms is one frame). A note-off
  dated before its note's start frame releases it at its start frame. Drum pads have no voices
  here, so their note-offs change nothing.
* sustain: the pedal is per MIDI channel (None: all 16). While it is down, note-offs of
  instruments with ``sustain`` true mark their voices held; pedal up releases the held voices of
  that channel at the pedal-up frame. A voice's channel is the one its note-on named, else its
  instrument's channel, else 0.
* panic: forgets every voice and lifts every pedal (the Engine also fades everything in the mixer).

A voice that ended on its own (its buffer ran out) stays in the table until its note-off, a steal
or a panic: releasing it then is a no-op in the mixer. Thread-safe; never runs on the audio thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .instrument import STEAL_FADE_MS
from .limits import MAX_CHANNEL

__all__ = ["InstrumentVoices", "Voice"]

_CHANNELS = MAX_CHANNEL + 1


@dataclass
class Voice:
    token: int
    pad: int
    note: int
    channel: int
    start_frame: int | None  # None: started at the first frame of the block after its note-on
    release_frames: int
    sustain: bool  # the pedal may hold it
    held: bool = False  # its note-off came while the pedal was down


class InstrumentVoices:
    """Sounding instrument notes of one :class:`~.mixer.Mixer` (see the module docstring)."""

    def __init__(self, mixer):
        self.mixer = mixer
        self.steal_frames = max(1, int(round(STEAL_FADE_MS * mixer.sample_rate / 1000.0)))
        self._lock = threading.Lock()  # Python threads only; the mixer's own calls are lock-free for C
        self._voices: list[Voice] = []  # oldest first
        self._pedal = [False] * _CHANNELS
        self.notes_on = self.notes_off = self.released = self.held = self.stolen = self.dropped = 0

    # -- commands ------------------------------------------------------------------------------
    def note_on(self, pad: int, instrument, note: int, channel: int | None, buffer, gain_l: float, gain_r: float,
                at_frame: int | None = None, choke_group: int = 0) -> int:
        """Start ``buffer`` as ``note`` of instrument pad ``pad``; returns the mixer token (0: dropped)."""
        channel = self._channel(channel, instrument)
        with self._lock:
            self.notes_on += 1
            mine = [v for v in self._voices if v.pad == pad]
            again = [v for v in mine if v.note == note and v.channel == channel]
            for voice in again:  # a retriggered note: the old one makes room
                self._release(voice, self.steal_frames, at_frame)
                self.stolen += 1
            mine = [v for v in mine if v not in again]
            while len(mine) >= instrument.polyphony:  # over the limit: the oldest goes
                self._release(mine.pop(0), self.steal_frames, at_frame)
                self.stolen += 1
            token = self.mixer.play(buffer, gain_l, gain_r, start_frame=at_frame, choke_group=choke_group)
            if not token:
                self.dropped += 1
                return 0
            self._voices.append(Voice(token, pad, note, channel, at_frame, instrument.release_frames(
                self.mixer.sample_rate), instrument.sustain))
            return token

    def note_off(self, note: int, channel: int | None = None, at_frame: int | None = None) -> int:
        """Release ``note`` (on ``channel``; None: any) from ``at_frame``; returns voices released or held."""
        with self._lock:
            self.notes_off += 1
            count = 0
            for voice in [v for v in self._voices if v.note == note and not v.held
                          and (channel is None or v.channel == channel)]:
                count += 1
                if voice.sustain and self._pedal[voice.channel]:
                    voice.held = True
                    self.held += 1
                else:
                    self._release(voice, voice.release_frames, at_frame)
                    self.released += 1
            return count

    def sustain(self, down: bool, channel: int | None = None, at_frame: int | None = None) -> int:
        """Pedal down or up on ``channel`` (None: all); up releases that channel's held voices at
        ``at_frame``. Returns the voices released."""
        channels = range(_CHANNELS) if channel is None else (channel,)
        with self._lock:
            for ch in channels:
                self._pedal[ch] = bool(down)
            if down:
                return 0
            held = [v for v in self._voices if v.held and v.channel in channels]
            for voice in held:
                self._release(voice, voice.release_frames, at_frame)
                self.released += 1
            return len(held)

    def panic(self) -> None:
        with self._lock:
            self._voices.clear()
            self._pedal = [False] * _CHANNELS

    # -- state -----------------------------------------------------------------------------------
    def sounding(self, pad: int | None = None) -> list[Voice]:
        """Copies of the voices not yet released (of ``pad``, or all), oldest first."""
        with self._lock:
            return [Voice(**vars(v)) for v in self._voices if pad is None or v.pad == pad]

    def pedal(self, channel: int) -> bool:
        with self._lock:
            return self._pedal[channel]

    def stats(self) -> dict:
        with self._lock:
            return {"notes_on": self.notes_on, "notes_off": self.notes_off, "notes_released": self.released,
                    "notes_held": self.held, "notes_stolen": self.stolen, "notes_dropped": self.dropped,
                    "instrument_voices": len(self._voices)}

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _channel(channel, instrument) -> int:
        if channel is not None:
            return int(channel)
        return instrument.channel if instrument.channel is not None else 0

    def _release(self, voice: Voice, frames: int, at_frame: int | None) -> None:
        """Fade ``voice`` out from ``at_frame`` (never before its start) and forget it (lock held)."""
        start = voice.start_frame
        if start is not None and (at_frame is None and start > self.mixer.frame or
                                  at_frame is not None and at_frame < start):
            at_frame = start  # a note-off that would come before its note: release where it starts
        if not self.mixer.release(voice.token, max(1, frames), at_frame):
            self.dropped += 1  # the command queue was full: it plays to its end
        self._voices.remove(voice)

    def __repr__(self) -> str:
        with self._lock:
            return f"InstrumentVoices(voices={len(self._voices)}, steal_frames={self.steal_frames})"
