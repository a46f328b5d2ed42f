"""MIDI on JACK through the C mixer's own MIDI input: notes never pass through Python.

Cheat sheet (``start_midi`` does this when the stream runs on JACK)::

    notes = JackNotes(engine, server, port_name="ganshot", note_channel=None).start()
    watcher = PortWatcher(notes.backend, ["all"], server.feed, virtual_name="ganshot")  # connects sources
    notes.counters()      # c_notes_played, c_note_ring_drops, c_notes_late, ..., tables_published
    notes.close()

One MIDI port for the user: the C client "ganshot-midi" has one input, ``ganshot-midi:ganshot``
(the --midi-virtual name). Note-ons the note table maps to a rendered pad start in the mixer
one JACK period after their send frame (engine/jack_midi.py). Every other message (CC, pitch
bend, program change, note-offs, a note whose pad has no buffer yet) comes back through the
C ring and goes to :meth:`MidiServer.feed`, exactly as rtmidi's messages do on the Python
path; a played note moves the engine's focus to its pad.

The table follows the engine: a thread looks every ``POLL_S`` at ``Engine.pads_snapshot()``
and publishes a new table when the kit or any pad buffer changed (a render, a kit switch, a
model swap: every way a buffer becomes current), so the next note plays what
``Engine.trigger`` would.
"""

from __future__ import annotations

import logging
import threading

__all__ = ["JackNotes", "JackNotesBackend", "POLL_S"]

POLL_S = 0.001  # the forwarded-message drain and the pad watch: at most this much added to CC latency
COLLECT_EVERY = 50  # polls between two looks at retired note tables

log = logging.getLogger(__name__)


class _Connection:
    """A JACK MIDI output connected to the C input; close() disconnects it."""

    def __init__(self, notes, name):
        self.notes, self.name = notes, name

    def close(self) -> None:
        try:
            self.notes.input.connect(self.name, connect=False)
        except Exception as err:  # noqa: BLE001 - a vanished port cannot be disconnected
            log.debug("disconnecting %s: %s", self.name, err)


class _OwnPort:
    """The C input itself, as PortWatcher's "virtual input" (it closes with the JACK client)."""

    def __init__(self, name):
        self.name = name

    def close(self) -> None:
        pass


class JackNotesBackend:
    """The PortWatcher backend of the C input: ports are JACK MIDI outputs, opening one connects it."""

    api = "jack"
    supports_virtual = True

    def __init__(self, notes: "JackNotes"):
        self.notes = notes

    def input_names(self) -> list[str]:
        return self.notes.input.sources()

    def open_input(self, name, sink):
        self.notes.input.connect(name)
        return _Connection(self.notes, name)

    def open_virtual(self, name, sink):
        return _OwnPort(self.notes.input.port_name)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"JackNotesBackend(port={self.notes.input.port_name!r})"


class JackNotes:
    """The C JACK MIDI input of ``engine``'s mixer, its note table kept in step with the engine,
    and the thread that hands forwarded messages to ``server``. Raises JackMidiUnavailable.
    ``fake``: the input without JACK (tests drive it with ``input.inject``)."""

    def __init__(self, engine, server, port_name: str = "ganshot", note_channel: int | None = None,
                 client_name: str = "ganshot-midi", fake: bool = False):
        # here: importing the bridge stays light (no numpy, no C mixer)
        from ganshot.engine.jack_midi import JackMidiInput, note_table_for

        self.engine, self.server, self.note_channel = engine, server, note_channel
        self.input = JackMidiInput(engine.mixer, client_name=client_name, port_name=port_name, fake=fake)
        self.backend = JackNotesBackend(self)
        self._table_for = note_table_for
        self.published = 0
        self._snapshot = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()  # the first table before any note can arrive

    def refresh(self) -> bool:
        """Publish a new note table if the kit or a pad buffer changed; True if it did."""
        kit, buffers = self.engine.pads_snapshot()
        last = self._snapshot
        if last is not None and last[0] is kit and len(last[1]) == len(buffers) and \
                all(a is b for a, b in zip(last[1], buffers)):
            return False
        notes, gains = self._table_for(kit, buffers, self.engine.velocity_curve)
        self.input.publish(notes, gains, self.note_channel)
        self._snapshot = (kit, buffers)
        self.published += 1
        return True

    def drain(self) -> int:
        """Hand the forwarded messages to the server (played notes: counted and focused); returns how many."""
        messages = self.input.pop()
        for message in messages:
            if message.pad is not None:
                self.engine.count_played(message.pad)  # triggers + 1 and the focus, as Engine.trigger
            else:
                self.server.feed(message.data if message.size <= 3 else message.data[:1] + b"\0" * 3)
        return len(messages)

    def start(self) -> "JackNotes":
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ganshot-midi-jack", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        polls = 0
        while not self._stopping.wait(POLL_S):
            try:
                self.drain()
                self.refresh()
                polls += 1
                if polls % COLLECT_EVERY == 0:
                    self.input.collect()
            except Exception as err:  # noqa: BLE001 - keep serving; the next poll tries again
                log.warning("JACK MIDI: %s", err, exc_info=err)

    def counters(self) -> dict:
        snap = {f"c_{k}": v for k, v in self.input.counters().items()}
        snap["tables_published"] = self.published
        return snap

    def close(self) -> None:
        """Stop the thread, then close the C input (it detaches from the mixer first). Idempotent."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        self._thread = None
        self.input.close()

    def __repr__(self) -> str:
        return f"JackNotes(port={self.input.port_name!r}, note_channel={self.note_channel}, published={self.published})"
