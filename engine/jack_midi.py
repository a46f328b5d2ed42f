"""MIDI notes played by the C mixer from its own JACK MIDI input: note -> sound is one JACK period.

The C side (engine/_cmixer_jack.h) is a JACK client ("ganshot-midi") with one MIDI input port.
Its process callback maps each note-on through a note table to a pad buffer and hands it to the
mixer, which starts the voice exactly one period after the note's JACK frame: no Python, no
GIL, no jitter. Every other message (CC, pitch bend, program change, note-offs, notes the table
does not play) and each played note comes back to Python through :meth:`JackMidiInput.pop`.

Cheat sheet::

    reason = jack_midi_unavailable()          # None, or why not (no libjack, no server)
    midi = JackMidiInput(engine.mixer, client_name="ganshot-midi", port_name="ganshot")
    notes, gains = note_table_for(kit, buffers, velocity_curve="square")
    midi.publish(notes, gains, channel=None)  # swapped in atomically; old tables freed later
    midi.pop()                                # [MidiMessage(data=b"\\xb0\\x15\\x40", jack_frame=..., pad=None), ...]
    midi.connect("system:midi_capture_1"); midi.sources(); midi.counters()
    midi.close()

A note plays what :meth:`Engine.trigger` would: the pad's buffer at gain
``velocity_gain(velocity / 127, curve) * db_to_gain(pad.gain_db)``, constant-power pan, in the
pad's choke group. Lifetime: a table and its buffers stay referenced here until the JACK
thread can no longer push notes of it and every voice it started came back on the mixer's
finished ring (see _cmixer_jack.h); whatever cannot be proven free at close stays with the Mixer.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from . import latent as _latent
from ._cmixer import ffi, lib
from .errors import UserInputError
from .limits import MAX_CHANNEL, check_int

__all__ = ["JackMidiInput", "JackMidiUnavailable", "NoteSpec", "MidiMessage", "jack_midi_unavailable",
           "note_table_for", "NOTES", "COUNTERS"]

NOTES = int(lib.GANSHOT_MIDI_NOTES)
TOKEN_BASE = int(lib.GANSHOT_MIDI_TOKEN_BASE)
COUNTERS = ("cycles", "events", "notes_played", "notes_forwarded", "note_ring_drops", "other_ring_drops", "garbage",
            "notes_scheduled", "notes_late", "max_late_frames", "mixer_minus_jack", "period_frames",
            "max_events_per_cycle", "active", "shut_down", "cycles_missed")
_POP_BATCH = 256
_NAMES_BYTES = 1 << 16
_CLOSE_WAIT_S = 1.0


class JackMidiUnavailable(UserInputError):
    """The C JACK MIDI input cannot run here (one line: why)."""


@dataclass(frozen=True)
class NoteSpec:
    """What a note plays: a pad's ``buffer`` (float32[frames], read-only) at linear gains for
    velocity gain 1, in ``choke_group`` (0: none); ``pad`` is its index."""
    buffer: np.ndarray
    gain_l: float
    gain_r: float
    choke_group: int
    pad: int


@dataclass(frozen=True)
class MidiMessage:
    """A message from the C input: raw bytes (at most 3; ``size`` is the original length), its
    JACK frame, and the pad it started (None unless the C side played it)."""
    data: bytes
    size: int
    jack_frame: int
    pad: int | None


def jack_midi_unavailable() -> str | None:
    """None when libjack loads here, else the reason (the C input needs a JACK server too)."""
    why = ffi.new("char[]", 256)
    return None if lib.ganshot_jack_available(why, 256) else ffi.string(why).decode(errors="replace")


def note_table_for(kit, buffers, velocity_curve: str = "square") -> tuple[dict[int, NoteSpec], np.ndarray]:
    """The note table of ``kit`` with its pads' current ``buffers`` (None: not rendered yet, so
    not played in C) -> ({note: NoteSpec}, float32[128] velocity -> gain). The first pad on a
    note wins, as :meth:`Kit.index_for_note`. Instrument notes (and drum notes an instrument bound to
    a channel shares) are left out: they go to Python, which holds them until their note-off."""
    notes: dict[int, NoteSpec] = {}
    bound = {note for pad in kit.pads if pad.instrument is not None and pad.instrument.channel is not None
             for note in pad.instrument.notes}
    for index, (pad, buffer) in enumerate(zip(kit.pads, buffers)):
        if kit.index_for_note(pad.note) != index or buffer is None or pad.instrument is not None or pad.note in bound:
            continue
        gain = float(_latent.db_to_gain(pad.gain_db))
        left, right = _latent.constant_power_pan(pad.pan)
        notes[int(pad.note)] = NoteSpec(buffer, gain * float(left), gain * float(right), int(pad.choke_group), index)
    gains = np.array([_latent.velocity_gain(v / 127.0, velocity_curve) for v in range(NOTES)], np.float32)
    return notes, gains


class _Table:
    """A published note table: the C struct and the buffers it points at."""

    def __init__(self, generation: int, notes: dict, velocity_gains, channel: int | None):
        self.generation, self.retired_at = generation, None
        self.struct = ffi.new("ganshot_note_table *")
        self.buffers = []
        gains = np.asarray(velocity_gains, np.float32)
        if gains.shape != (NOTES,) or not np.isfinite(gains).all():
            raise UserInputError(f"velocity_gains must be {NOTES} finite floats, got shape {gains.shape}")
        for v in range(NOTES):
            self.struct.velocity_gain[v] = float(gains[v])
        for note in range(NOTES):
            self.struct.notes[note].pad = -1
        for note, spec in notes.items():
            check_int(note, "MIDI note", 0, NOTES - 1)
            buf = spec.buffer
            if not (isinstance(buf, np.ndarray) and buf.dtype == np.float32 and buf.ndim == 1 and buf.size
                    and buf.flags.c_contiguous):
                raise UserInputError(f"note {note}: the buffer must be a non-empty C-contiguous float32[frames]")
            entry = self.struct.notes[note]
            entry.buffer = ffi.cast("const float *", buf.ctypes.data)
            entry.frames, entry.gain_l, entry.gain_r = buf.shape[0], float(spec.gain_l), float(spec.gain_r)
            entry.choke_group, entry.pad = int(spec.choke_group), int(spec.pad)
            self.buffers.append(buf)
        self.struct.channel = -1 if channel is None else check_int(channel, "channel (0-based)", 0, MAX_CHANNEL)
        self.struct.generation = generation


class JackMidiInput:
    """The C mixer's JACK MIDI input on the server JACK_DEFAULT_SERVER names (raises
    :class:`JackMidiUnavailable` with the reason). Thread-safe; one consumer of :meth:`pop` at a time."""

    def __init__(self, mixer, client_name: str = "ganshot-midi", port_name: str = "ganshot", *, fake: bool = False):
        self.mixer = mixer
        self._lock = threading.Lock()
        self._messages = ffi.new("ganshot_midi_message[]", _POP_BATCH)
        self._current: _Table | None = None
        self._retired: list[_Table] = []
        self._generation = 0
        if fake:  # tests: the ring and table without JACK (inject() plays the process callback)
            handle = lib.ganshot_midi_fake(mixer._state)
        else:
            why = ffi.new("char[]", 256)
            handle = lib.ganshot_midi_open(mixer._state, client_name.encode(), port_name.encode(), why, 256)
            if handle == ffi.NULL:
                server = os.environ.get("JACK_DEFAULT_SERVER", "default")
                raise JackMidiUnavailable(f"JACK MIDI input {client_name}:{port_name} on server {server!r}: "
                                          f"{ffi.string(why).decode(errors='replace')}")
        if handle == ffi.NULL:
            raise MemoryError("could not allocate the JACK MIDI input")
        self._handle = handle
        name = ffi.new("char[]", 512)
        lib.ganshot_midi_port_name(handle, name, 512)
        self.port_name = ffi.string(name).decode(errors="replace")

    # -- the note table ----------------------------------------------------------------
    def publish(self, notes: dict[int, NoteSpec] | None, velocity_gains=None, channel: int | None = None) -> int:
        """Swap in a new note table (None: the C side plays no note; all go to :meth:`pop`);
        returns its generation. The old one is kept until no note or voice can use it."""
        with self._lock:
            self._require_open()
            table = None
            if notes is not None:
                self._generation += 1
                table = _Table(self._generation, notes, velocity_gains, channel)
            lib.ganshot_midi_publish(self._handle, ffi.NULL if table is None else table.struct)
            if self._current is not None:
                self._current.retired_at = int(lib.ganshot_midi_cycles(self._handle))
                self._retired.append(self._current)
            self._current = table
            self._collect_locked()
            return 0 if table is None else table.generation

    def collect(self) -> int:
        """Free the retired tables nothing can use any more; returns how many are still kept."""
        with self._lock:
            return self._collect_locked() if self._handle is not None else 0

    def _collect_locked(self) -> int:
        cycles = int(lib.ganshot_midi_cycles(self._handle))
        keep = []
        for table in self._retired:
            pushed = int(lib.ganshot_note_table_pushed(table.struct))
            # two completed cycles since the swap: no callback still holds it; then every note it pushed came back
            if cycles < table.retired_at + 2 or self.mixer._midi_voices_finished(table.generation) < pushed:
                keep.append(table)
            else:
                self.mixer._midi_voices_finished(table.generation, forget=True)
        self._retired = keep
        return len(keep)

    # -- messages for Python -------------------------------------------------------------
    def pop(self) -> list[MidiMessage]:
        """Messages the C side forwarded, oldest first (CC, note-offs, unplayed notes, and each
        played note-on with its pad)."""
        out = []
        with self._lock:
            self._require_open()
            while True:
                n = lib.ganshot_midi_pop(self._handle, self._messages, _POP_BATCH)
                for i in range(n):
                    m = self._messages[i]
                    size = int(m.size)
                    out.append(MidiMessage(bytes(m.data[0:min(size, 3)]), size, int(m.jack_frame),
                                           int(m.pad) if m.flags & lib.GANSHOT_MIDI_PLAYED else None))
                if n < _POP_BATCH:
                    return out

    def inject(self, data: bytes, cycle_frame: int, offset: int = 0, period: int = 128) -> None:
        """Tests: what the process callback does with ``data`` at ``offset`` into the JACK cycle
        starting at ``cycle_frame``."""
        raw = bytes(data)
        with self._lock:
            lib.ganshot_midi_inject(self._handle, cycle_frame & 0xFFFFFFFF, offset, period, raw, len(raw))

    def fake_cycle(self, cycle_frame: int) -> None:
        """Tests (fake only): the mixer's next block is the first of the JACK cycle at ``cycle_frame``."""
        lib.ganshot_midi_fake_cycle(self._handle, cycle_frame & 0xFFFFFFFF)

    # -- JACK connections ----------------------------------------------------------------
    def sources(self) -> list[str]:
        """JACK MIDI output ports (ours excluded) that can be connected to this input."""
        buf = ffi.new("char[]", _NAMES_BYTES)
        with self._lock:
            self._require_open()
            used = lib.ganshot_midi_sources(self._handle, buf, _NAMES_BYTES)
        client = self.port_name.split(":", 1)[0] + ":"
        names = ffi.string(buf).decode(errors="replace").splitlines() if used > 0 else []
        return [n for n in names if n and not n.startswith(client)]

    def connect(self, source: str, connect: bool = True) -> None:
        """Connect (or disconnect) the JACK MIDI output ``source`` to this input; OSError on failure."""
        with self._lock:
            self._require_open()
            status = lib.ganshot_midi_connect(self._handle, source.encode(), 1 if connect else 0)
        if status != 0 and not (connect and status == 17):  # 17: EEXIST, already connected
            raise OSError(f"JACK {'connect' if connect else 'disconnect'} {source} -> {self.port_name}: "
                          f"error {status}")

    def counters(self) -> dict:
        """:data:`COUNTERS` (cycles of the JACK thread, notes played / forwarded, drops, late notes,
        the period, ...), plus ``tables_kept`` (retired note tables still referenced)."""
        c = ffi.new("ganshot_midi_counters *")
        with self._lock:
            if self._handle is None:
                return {}
            lib.ganshot_midi_read_counters(self._handle, c)
            kept = len(self._retired)
        out = {name: int(getattr(c, name)) for name in COUNTERS}
        out["tables_kept"] = kept
        return out

    # -- life ------------------------------------------------------------------------------
    def close(self) -> None:
        """Detach from the mixer, then close the JACK client. Idempotent."""
        with self._lock:
            handle, self._handle = self._handle, None
            if handle is None:
                return
            lib.ganshot_midi_detach(handle)
            self.mixer._wait_blocks(1, _CLOSE_WAIT_S)  # no mix block still reads the note ring
            lib.ganshot_midi_close(handle)
            leftover = [t for t in self._retired + [self._current]
                        if t is not None and int(lib.ganshot_note_table_pushed(t.struct))
                        > self.mixer._midi_voices_finished(t.generation)]
            self.mixer._keep_forever.extend(leftover)  # voices may still read them: they live with the mixer
            self._retired, self._current = [], None

    def _require_open(self) -> None:
        if self._handle is None:
            raise UserInputError("the JACK MIDI input is closed")

    def __enter__(self) -> "JackMidiInput":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"generation {self._generation}"
        return f"JackMidiInput(port={self.port_name!r}, {state})"
