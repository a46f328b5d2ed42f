"""The Engine's commands for instrument pads: note-on, note-off, the sustain pedal, and the
per-note buffers they play (rendered ahead by :mod:`.instrument_notes`, voiced by
:mod:`.instrument_voices`).

A mixin of :class:`~.engine.Engine` (kept apart so engine.py stays about pads and state). It
relies on ``_lock``, ``_kit``, ``_buffers``, ``mixer``, ``velocity_curve``, ``trigger``,
``triggers``, ``triggers_unmapped`` and ``focus`` of the engine; the engine calls
:meth:`_init_instruments` once, and :class:`InstrumentNotes` whenever a pad buffer becomes current.

Cheat sheet::

    engine.note_on(64, velocity=0.8, channel=0, at_frame=f)   # an instrument note; a drum pad's note triggers it
    engine.note_off(64, channel=0, at_frame=f + 24000)         # its release fade starts on exactly that frame
    engine.sustain(True, channel=0); engine.sustain(False, channel=0, at_frame=g)
    engine.instrument_note_buffer(1, 64)                       # what note 64 of pad 1 plays (None: not ready)
    engine.wait_ready(30)                                      # pad renders, then every instrument note

Channels are 0-based (as in kit files); None means "any" for lookups and "all" for the pedal.
"""

from __future__ import annotations

from . import latent as _latent
from .instrument import root_note
from .instrument_notes import InstrumentNotes
from .instrument_voices import InstrumentVoices
from .limits import MAX_CHANNEL, MAX_NOTE, MIN_NOTE, MAX_VELOCITY, MIN_VELOCITY, check_float, check_int

__all__ = ["InstrumentCommands"]


def _channel_arg(channel) -> int | None:
    return None if channel is None else check_int(channel, "channel (0-based)", 0, MAX_CHANNEL)


class InstrumentCommands:
    """note_on, note_off, sustain, instrument_note_buffer (see the module docstring)."""

    def _init_instruments(self) -> None:
        self.instrument_notes = InstrumentNotes(self)
        self.instrument_voices = InstrumentVoices(self.mixer)
        self.note_offs_ignored = 0  # note-offs of drum pads and unmapped notes

    # -- commands ------------------------------------------------------------------------------
    def note_on(self, note: int, velocity: float = 1.0, channel: int | None = None, at_frame: int | None = None) -> int:
        """Play MIDI ``note`` at ``velocity`` (0..1) as heard on ``channel``: a note of the instrument pad
        whose range holds it (held until :meth:`note_off`), or the drum pad on it (a one-shot, as
        :meth:`trigger`). Returns the mixer's voice token (0: unmapped, not rendered yet, or dropped)."""
        note = check_int(note, "note", MIN_NOTE, MAX_NOTE)
        velocity = check_float(velocity, "velocity", MIN_VELOCITY, MAX_VELOCITY)
        channel = _channel_arg(channel)
        with self._lock:
            index = self._kit.index_for_note(note, channel)
            if index < 0:
                self.triggers_unmapped += 1
                return 0
            pad = self._kit.pads[index]
            if pad.instrument is not None:
                self.triggers += 1
                self.focus = index
        if pad.instrument is None:  # a drum pad: a one-shot
            return self.trigger(index, velocity, at_frame)
        buffer = self.instrument_notes.buffer(index, note)
        if buffer is None:
            self.instrument_notes.count_not_ready()
            return 0
        gain = float(_latent.velocity_gain(velocity, self.velocity_curve)) * float(_latent.db_to_gain(pad.gain_db))
        left, right = _latent.constant_power_pan(pad.pan)
        return self.instrument_voices.note_on(index, pad.instrument, note, channel, buffer, gain * float(left),
                                              gain * float(right), at_frame, pad.choke_group)

    def note_off(self, note: int, channel: int | None = None, at_frame: int | None = None) -> int:
        """Release MIDI ``note`` (on ``channel``; None: any) from ``at_frame`` (None: now) over its
        instrument's ``release_ms``, or hold it while the sustain pedal is down. Drum pads ignore
        note-offs. Returns the voices released or held."""
        note = check_int(note, "note", MIN_NOTE, MAX_NOTE)
        count = self.instrument_voices.note_off(note, _channel_arg(channel), at_frame)
        if not count:
            self.note_offs_ignored += 1
        return count

    def sustain(self, down, channel: int | None = None, at_frame: int | None = None) -> int:
        """The sustain pedal (MIDI CC 64) of ``channel`` (None: all) goes down or up; up releases the
        notes it held from ``at_frame``. Returns the notes released."""
        return self.instrument_voices.sustain(bool(down), _channel_arg(channel), at_frame)

    # -- buffers -------------------------------------------------------------------------------
    def instrument_note_buffer(self, pad_index: int, note: int):
        """The buffer ``note`` of instrument pad ``pad_index`` plays now (float32[frames] mono at the
        stream rate, read-only), or None (a drum pad, a note outside its range, not rendered yet)."""
        with self._lock:
            self._check_index(pad_index)
            instrument = self._kit.pads[pad_index].instrument
        if instrument is None or note not in instrument:
            return None
        return self.instrument_notes.buffer(int(pad_index), int(note))

    def _trigger_buffer(self, index: int, pad, buffer):
        """What :meth:`trigger` plays for pad ``index``: an instrument pad plays its own note as a
        one-shot (that note's buffer; the pad's buffer while it is heard at that note)."""
        if pad.instrument is None:
            return buffer
        note_buffer = self.instrument_notes.buffer(index, pad.note)
        if note_buffer is not None:
            return note_buffer
        heard_at_note = self.worker.pitch_range is not None or root_note(pad) == pad.note
        return buffer if heard_at_note else None

    def _instrument_status(self) -> dict:
        return {**self.instrument_notes.stats(), **self.instrument_voices.stats(),
                "note_offs_ignored": self.note_offs_ignored}

    def _instruments_wait(self, timeout: float | None) -> bool:
        return self.instrument_notes.wait_idle(timeout)
