"""MIDI ports: a small interface, a fake for tests, the rtmidi backend, and a rescanning watcher.

Cheat sheet::

    backend = open_backend("auto")              # RtMidiBackend: ALSA, JACK, CoreMIDI or WinMM
    backend.input_names()                       # ports that can be opened
    watcher = PortWatcher(backend, ["all"], server.feed, virtual_name="ganshot").start()
    watcher.opened                              # names of the ports listened to now
    watcher.close(); backend.close()

    fake = FakeBackend(["Pads", "Keys"])        # tests: fake.send("Pads", b"\\x90\\x24\\x64")

A backend opens inputs that call ``sink(data, arrival_s)`` with each raw message (a list or
bytes) and when it arrived (a ``time.monotonic()`` value, see :class:`ArrivalClock`). The sink
is :meth:`MidiServer.feed`: it only counts or enqueues, and never raises.

Arrival times: rtmidi gives each message the driver's time since the previous one on that
port (JACK: the time of the JACK cycle that delivered it; ALSA: the sequencer's event time),
but we see a message only when rtmidi's thread or our poller gets to it, which under load
can be milliseconds later. :class:`ArrivalClock` chains the driver's deltas from the moment
we saw the port's messages, never later than when we saw one and never more than
:data:`MAX_BACKDATE_S` earlier, so a late poll or a busy GIL does not move a note.

API choice (``auto``): ``MIDO_BACKEND=mido.backends.rtmidi/API`` when set; CoreMIDI on macOS,
WinMM on Windows; on Linux JACK MIDI when a JACK server is running (its socket exists),
else ALSA. Threads: on ALSA and CoreMIDI rtmidi calls our callback from its own thread. On
JACK, rtmidi would call it from the JACK process thread, where taking the GIL could make the
whole JACK graph late (an xrun, heard as a glitch): there the port queues in rtmidi and one
poller thread drains every port each :data:`POLL_S`.

Hot-plug: :class:`PortWatcher` rescans every :data:`RESCAN_S`; ports that appear and match
``--midi-in`` are opened, ports that vanish are closed. A failure to list or open is counted
and reported once per port; it never stops the server.
"""

from __future__ import annotations

import glob
import logging
import os
import sys
import threading
import time

from ganshot.engine.errors import UserInputError

__all__ = ["API_NAMES", "VIRTUAL_PORT_NAME", "RESCAN_S", "POLL_S", "MAX_BACKDATE_S", "MidiUnavailable", "FakeBackend",
           "ArrivalClock", "RtMidiBackend", "PortWatcher", "choose_api", "open_backend", "select_ports"]

#: ``--midi-api`` value -> rtmidi API name (``rtmidi.API_<name>``, as in MIDO_BACKEND).
API_NAMES = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE", "winmm": "WINDOWS_MM"}
VIRTUAL_PORT_NAME = "ganshot"
RESCAN_S = 2.0
POLL_S = 0.001  # JACK poller period: at most this much added latency
RTMIDI_QUEUE = 1024  # messages rtmidi holds per port between two polls
MAX_BACKDATE_S = 0.05  # an arrival time is at most this much before we saw the message

log = logging.getLogger(__name__)


class MidiUnavailable(UserInputError):
    """No MIDI API can be used here (one line, with the fix)."""


def choose_api(requested: str = "auto", environ=os.environ, platform: str = sys.platform,
               jack_running=None) -> str:
    """The ``--midi-api`` value to use for ``requested`` ("auto" or a key of :data:`API_NAMES`)."""
    if requested != "auto":
        if requested not in API_NAMES:
            raise UserInputError(f"--midi-api must be auto or one of {', '.join(API_NAMES)}, got {requested!r:.40}")
        return requested
    backend = environ.get("MIDO_BACKEND", "")
    if "/" in backend:
        name = backend.rsplit("/", 1)[1]
        for key, api in API_NAMES.items():
            if api == name:
                return key
        raise UserInputError(f"MIDO_BACKEND names the API {name!r:.40}; use one of {', '.join(API_NAMES.values())}")
    if platform == "darwin":
        return "coremidi"
    if platform.startswith("win"):
        return "winmm"
    running = _jack_server_socket(environ) if jack_running is None else jack_running
    return "jack" if running else "alsa"


def _jack_server_socket(environ) -> bool:
    """Does a JACK2 server of the current name listen here? (no libjack call, so no noise)"""
    name = environ.get("JACK_DEFAULT_SERVER", "default")
    uid = os.getuid() if hasattr(os, "getuid") else 0
    patterns = [os.path.join(folder, f"jack_{glob.escape(name)}_{uid}_0")  # JACK2
                for folder in ("/dev/shm", environ.get("TMPDIR", "/tmp"))]
    patterns.append(os.path.join("/dev/shm", f"jack-{uid}", glob.escape(name), "jack_0"))  # JACK1
    return any(glob.glob(pattern) for pattern in patterns)


def select_ports(names, wanted) -> list[str]:
    """The ``names`` that ``wanted`` picks: "all", "none", or names (exact, else case-insensitive part)."""
    wanted = list(wanted)
    if "none" in wanted:
        return []
    if "all" in wanted:
        return list(names)
    picked = []
    for want in wanted:
        exact = [n for n in names if n == want]
        for name in exact or [n for n in names if want.lower() in n.lower()]:
            if name not in picked:
                picked.append(name)
    return picked


class ArrivalClock:
    """Arrival times (``time.monotonic()`` scale) of one port's messages from the driver's
    delta times (seconds since the port's previous message) and when each was seen.

    The chain ``previous arrival + delta`` follows the driver's spacing exactly; it is
    clamped to ``[seen - MAX_BACKDATE_S, seen]``: a message cannot arrive after we saw it,
    and a chain that drifted (or a first message, delta 0) restarts from what we saw.
    """

    def __init__(self, max_backdate_s: float = MAX_BACKDATE_S):
        self.max_backdate_s = float(max_backdate_s)
        self._last: float | None = None
        self.clamped = 0  # how often the chain was pulled back into the window

    def stamp(self, delta_s, seen_s: float) -> float:
        chained = None if self._last is None or not delta_s or delta_s < 0 else self._last + float(delta_s)
        if chained is None:
            arrival = seen_s
        elif chained > seen_s:
            arrival, self.clamped = seen_s, self.clamped + 1
        elif chained < seen_s - self.max_backdate_s:
            arrival, self.clamped = seen_s - self.max_backdate_s, self.clamped + 1
        else:
            arrival = chained
        self._last = arrival
        return arrival


# -- the fake: same interface, driven by tests ----------------------------------------------------
class _FakeInput:
    def __init__(self, backend, name, sink):
        self.backend, self.name, self.sink, self.closed = backend, name, sink, False

    def close(self) -> None:
        self.closed = True
        self.backend.inputs.pop(self.name, None)


class FakeBackend:
    """Ports by name; ``send(name, data)`` delivers to an open one. ``fail_open`` names refuse to open."""

    api = "fake"
    supports_virtual = True

    def __init__(self, names=()):
        self.names, self.inputs, self.fail_open, self.fail_list = list(names), {}, set(), False
        self.virtual = None

    def input_names(self) -> list[str]:
        if self.fail_list:
            raise OSError("listing failed")
        return list(self.names)

    def open_input(self, name, sink):
        if name in self.fail_open or name not in self.names:
            raise OSError(f"cannot open {name}")
        self.inputs[name] = _FakeInput(self, name, sink)
        return self.inputs[name]

    def open_virtual(self, name, sink):
        self.virtual = _FakeInput(self, name, sink)
        return self.virtual

    def send(self, name, data, arrival_s: float | None = None) -> None:
        port = self.virtual if self.virtual is not None and name == self.virtual.name else self.inputs[name]
        port.sink(list(data), time.monotonic() if arrival_s is None else arrival_s)

    def close(self) -> None:
        pass


# -- rtmidi ------------------------------------------------------------------------------------------
class _RtInput:
    def __init__(self, backend, midi_in, name, sink, poll):
        self.backend, self.name, self._in, self._sink, self.poll = backend, name, midi_in, sink, poll
        self.clock = ArrivalClock()
        midi_in.ignore_types(sysex=False, timing=False, active_sense=False)  # counted by the server
        if not poll:
            midi_in.set_callback(self._callback)

    def _callback(self, event, _data=None) -> None:  # rtmidi's thread: nothing may escape
        try:
            self._sink(event[0], self.clock.stamp(event[1], time.monotonic()))
        except BaseException:  # noqa: BLE001
            pass

    def drain(self, limit: int = RTMIDI_QUEUE) -> None:  # poller thread, under the backend lock
        for _ in range(limit):
            event = self._in.get_message()
            if event is None:
                return
            self._sink(event[0], self.clock.stamp(event[1], time.monotonic()))

    def close(self) -> None:
        self.backend._forget(self)
        try:
            if not self.poll:
                self._in.cancel_callback()
            self._in.close_port()
            self._in.delete()
        except Exception as err:  # noqa: BLE001 - a vanished device may refuse; nothing to do
            log.debug("closing MIDI input %s: %s", self.name, err)


class RtMidiBackend:
    """python-rtmidi on one API; every opened port is its own rtmidi client named ``client_name``."""

    def __init__(self, api: str, client_name: str = "ganshot"):
        try:
            import rtmidi
        except ImportError as err:
            raise MidiUnavailable(f"python-rtmidi is not installed ({err}); pip install python-rtmidi") from None
        self._rtmidi, self.api, self.client_name = rtmidi, api, client_name
        self._api_id = getattr(rtmidi, f"API_{API_NAMES[api]}")
        if self._api_id not in rtmidi.get_compiled_api():
            raise MidiUnavailable(f"this python-rtmidi was built without {api} MIDI")
        self.supports_virtual = api != "winmm"
        self.poll = api == "jack"
        self._lock = threading.Lock()  # guards _polled and the scanner
        self._polled: list[_RtInput] = []
        self._poller: threading.Thread | None = None
        self._stopping = threading.Event()
        self._scanner = self._midi_in(f"{client_name}-scan")

    def _midi_in(self, name):
        try:
            return self._rtmidi.MidiIn(rtapi=self._api_id, name=name, queue_size_limit=RTMIDI_QUEUE)
        except self._rtmidi.RtMidiError as err:
            hint = {"alsa": "ALSA MIDI needs /dev/snd/seq (modprobe snd-seq), or start JACK and use --midi-api jack",
                    "jack": "is a JACK server running? (jackd -d dummy -r 48000 &)"}.get(self.api, "")
            raise MidiUnavailable(f"{self.api} MIDI is unavailable: {str(err).splitlines()[0]}; {hint}".rstrip("; "))

    def input_names(self) -> list[str]:
        with self._lock:
            return list(self._scanner.get_ports())

    def open_input(self, name, sink):
        midi_in = self._midi_in(self.client_name)
        try:
            ports = midi_in.get_ports()
            if name not in ports:
                raise OSError(f"MIDI input {name!r} is gone")
            midi_in.open_port(ports.index(name), "in")
        except BaseException:
            midi_in.delete()
            raise
        return self._track(_RtInput(self, midi_in, name, sink, self.poll))

    def open_virtual(self, name, sink):
        if not self.supports_virtual:
            raise MidiUnavailable(f"{self.api} has no virtual MIDI ports; use a loopback driver (loopMIDI)")
        midi_in = self._midi_in(self.client_name)
        try:
            midi_in.open_virtual_port(name)
        except BaseException:
            midi_in.delete()
            raise
        return self._track(_RtInput(self, midi_in, name, sink, self.poll))

    def _track(self, port: _RtInput) -> _RtInput:
        if self.poll:
            with self._lock:
                self._polled.append(port)
                if self._poller is None:
                    self._poller = threading.Thread(target=self._poll_loop, name="ganshot-midi-poll", daemon=True)
                    self._poller.start()
        return port

    def _forget(self, port: _RtInput) -> None:
        with self._lock:  # the poller holds it while draining: after this, it never touches the port
            if port in self._polled:
                self._polled.remove(port)

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                for port in self._polled:
                    try:
                        port.drain()
                    except Exception as err:  # noqa: BLE001
                        log.debug("polling MIDI input %s: %s", port.name, err)
            time.sleep(POLL_S)

    def close(self) -> None:
        self._stopping.set()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(1.0)
        with self._lock:
            self._scanner.delete()

    def __repr__(self) -> str:
        return f"RtMidiBackend(api={self.api!r}, client_name={self.client_name!r}, poll={self.poll})"


def open_backend(api: str = "auto", client_name: str = "ganshot") -> RtMidiBackend:
    """An :class:`RtMidiBackend` for ``api`` (see :func:`choose_api`); MidiUnavailable says why not."""
    return RtMidiBackend(choose_api(api), client_name)


# -- hot-plug ------------------------------------------------------------------------------------------
class PortWatcher:
    """Keeps the inputs that ``wanted`` picks open, rescanning every ``interval_s``; plus one
    virtual input ``virtual_name`` (None: none). Listing and opening errors are counted."""

    def __init__(self, backend, wanted, sink, virtual_name: str | None = VIRTUAL_PORT_NAME,
                 interval_s: float = RESCAN_S, report=None):
        self.backend, self.wanted, self.sink = backend, list(wanted), sink
        self.virtual_name, self.interval_s = virtual_name, float(interval_s)
        self.report = report if report is not None else (lambda line: log.warning("%s", line))
        self.ports: dict[str, object] = {}
        self.virtual = None
        self.counts = {"scans": 0, "opened": 0, "closed": 0, "scan_errors": 0, "open_errors": 0}
        self._failed: set[str] = set()  # reported once; retried each scan
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def opened(self) -> list[str]:
        return list(self.ports)

    def open_virtual(self) -> None:
        """Create the virtual input (raises MidiUnavailable/OSError: the caller decides)."""
        if self.virtual_name and self.virtual is None:
            self.virtual = self.backend.open_virtual(self.virtual_name, self.sink)

    def scan(self) -> None:
        """Open what appeared and matches, close what vanished. Never raises."""
        self.counts["scans"] += 1
        try:
            names = self.backend.input_names()
        except Exception as err:  # noqa: BLE001
            self.counts["scan_errors"] += 1
            log.debug("listing MIDI inputs: %s", err)
            return
        for name in [n for n in self.ports if n not in names]:
            self.ports.pop(name).close()
            self.counts["closed"] += 1
            self.report(f"MIDI input gone: {name}")
        for name in select_ports(names, self.wanted):
            if name in self.ports:
                continue
            try:
                self.ports[name] = self.backend.open_input(name, self.sink)
            except Exception as err:  # noqa: BLE001
                self.counts["open_errors"] += 1
                if name not in self._failed:
                    self._failed.add(name)
                    reason = (str(err).splitlines() or [type(err).__name__])[0]
                    self.report(f"MIDI input {name}: cannot open ({reason})")
                continue
            self._failed.discard(name)
            self.counts["opened"] += 1
            self.report(f"MIDI input: {name}")

    def start(self) -> "PortWatcher":
        if self._thread is None:
            self.scan()
            self._thread = threading.Thread(target=self._loop, name="ganshot-midi-ports", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval_s):
            self.scan()

    def close(self) -> None:
        """Stop rescanning and close every port (the virtual one too). Idempotent."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.interval_s + 1.0)
        self._thread = None
        for port in [*self.ports.values(), *([self.virtual] if self.virtual is not None else [])]:
            try:
                port.close()
            except Exception as err:  # noqa: BLE001
                log.debug("closing MIDI input: %s", err)
        self.ports, self.virtual = {}, None

    def __repr__(self) -> str:
        return f"PortWatcher(wanted={self.wanted}, virtual={self.virtual_name!r}, opened={self.opened})"
