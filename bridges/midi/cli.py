"""The ``ganshot serve`` MIDI flags, starting the MIDI bridge from them, and ``ganshot midi-ports``.

Cheat sheet (in ``cli/_engine_cli.py``)::

    from ganshot.bridges.midi.cli import add_midi_arguments, add_midi_ports_command, start_midi
    add_midi_arguments(serve_parser)        # --midi-in, --midi-api, --midi-channel, --kit-set, --learn, ...
    add_midi_ports_command(subparsers, fmt) # `ganshot midi-ports`
    midi = start_midi(engine, args)         # a running MidiBridge; None with --no-midi
    ...
    if midi is not None:
        midi.close()

Importing this module costs argparse only; rtmidi and mido load when MIDI starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ganshot.engine.errors import UserInputError
from ganshot.engine.limits import MAX_CHANNEL, check_float, check_int

from .ports import API_NAMES, RESCAN_S, VIRTUAL_PORT_NAME
from .server import DEFAULT_KNOB_RATE_HZ, DEFAULT_LEAD_MS, DEFAULT_QUEUE_SIZE, MAX_LEAD_MS, MAX_QUEUE_SIZE

__all__ = ["add_midi_arguments", "add_midi_ports_command", "start_midi", "cmd_midi_ports", "MidiBridge"]

API_CHOICES = ("auto", *API_NAMES)
NOTE_PATHS = ("auto", "c", "python")  # --midi-notes: who plays note-ons (see _note_path)


def add_midi_arguments(parser) -> None:
    """Add the MIDI flags to an argparse parser (as a "MIDI" argument group)."""
    group = parser.add_argument_group("MIDI", "play and shape pads from MIDI controllers and DAWs; see the README")
    group.add_argument("--no-midi", action="store_true", help="do not start the MIDI bridge")
    group.add_argument("--midi-in", action="append", default=None, metavar="NAME|all|none",
                       help="inputs to listen to: all (the default), none, or a port name or part of one "
                            "(repeatable; `ganshot midi-ports` lists them); ports that appear later are opened too"
                            "%(default).0s")  # an empty %(default): the shown default would be None
    group.add_argument("--midi-virtual", default=VIRTUAL_PORT_NAME, metavar="NAME|none",
                       help="name of the virtual input other programs (a DAW) can send to")
    group.add_argument("--midi-api", choices=API_CHOICES, default="auto",
                       help="MIDI system: auto picks JACK when a JACK server runs, else ALSA (Linux), CoreMIDI "
                            "(macOS), WinMM (Windows); MIDO_BACKEND=mido.backends.rtmidi/UNIX_JACK also picks")
    group.add_argument("--midi-channel", type=int, default=None, metavar="1-16",
                       help="play notes from this MIDI channel only (10: GM drums); default: every channel"
                            "%(default).0s")
    group.add_argument("--kit-set", default=None, metavar="FILE",
                       help="kit set (ganshot-kitset JSON): program changes switch among its kits (program 0, "
                            "shown as 1 in most DAWs, is the first); without --kit, serve starts on the first")
    group.add_argument("--learn", default=None, metavar="TARGET",
                       help="MIDI learn: bind the next CC that moves to TARGET (e.g. focused.direction.0) "
                            "and save it into the --kit file")
    group.add_argument("--midi-no-defaults", action="store_true",
                       help="use only the kit's controllers, not the default CC map")
    group.add_argument("--midi-knob-rate", type=float, default=DEFAULT_KNOB_RATE_HZ, metavar="HZ",
                       help="values per second per knob that reach the engine (the last one always does)")
    group.add_argument("--midi-lead-ms", type=float, default=DEFAULT_LEAD_MS, metavar="MS",
                       help="notes play this long (plus the output latency) after they arrived: a constant "
                            "latency; raise it if `late` counts notes on a loaded machine")
    group.add_argument("--midi-notes", choices=NOTE_PATHS, default="auto",
                       help="who plays note-ons: c (the mixer's own JACK MIDI input: one period after the note, "
                            "no jitter), python (rtmidi, timed by --midi-lead-ms), auto (c when the audio runs on "
                            "JACK and libjack loads, else python; serve says which)")
    group.add_argument("--midi-queue", type=int, default=DEFAULT_QUEUE_SIZE, metavar="N",
                       help="MIDI messages waiting for dispatch before new ones are dropped (counted)")
    group.add_argument("--midi-rescan", type=float, default=RESCAN_S, metavar="SECONDS",
                       help="how often to look for MIDI inputs that appeared or vanished")


def add_midi_ports_command(sub, fmt) -> None:
    """Register ``ganshot midi-ports`` on the ``ganshot`` subparsers."""
    ports = sub.add_parser("midi-ports", help="list the MIDI inputs serve can open", formatter_class=fmt)
    ports.add_argument("--midi-api", choices=API_CHOICES, default="auto", help="MIDI system (see serve --help)")
    ports.set_defaults(handler=cmd_midi_ports)


def cmd_midi_ports(args, out=None) -> int:
    from .ports import open_backend

    out = sys.stdout if out is None else out
    backend = open_backend(args.midi_api)
    try:
        names = backend.input_names()
    finally:
        backend.close()
    print(f"MIDI inputs ({backend.api}):", file=out)
    for index, name in enumerate(names):
        print(f"{index:3d}  {name}", file=out)
    if not names:
        print("     (none; serve still creates its virtual input)", file=out)
    if backend.supports_virtual:
        print(f"serve also creates the virtual input {VIRTUAL_PORT_NAME!r} (--midi-virtual)", file=out)
    return 0


class MidiBridge:
    """What :func:`start_midi` started: the server, the port watcher, the backend."""

    def __init__(self, server, watcher, backend, notes=None):
        self.server, self.watcher, self.backend = server, watcher, backend
        self.notes = notes  # a JackNotes when the C mixer plays note-ons, else None (rtmidi + Python)

    def counters(self) -> dict:
        snap = self.server.counters()
        snap.update({f"ports_{k}": v for k, v in self.watcher.counts.items()})
        snap["ports_open"] = len(self.watcher.ports)
        snap["note_path"] = "c" if self.notes is not None else "python"
        if self.notes is not None:
            snap.update(self.notes.counters())
        return snap

    def close(self) -> None:
        """Close ports first (no new input), then the C input, the dispatch thread, the backend."""
        self.watcher.close()
        if self.notes is not None:
            self.notes.close()
        self.server.close()
        self.backend.close()


def _check(args) -> tuple[list[str], int | None]:
    wanted = args.midi_in or ["all"]
    if len(wanted) > 1 and ({"all", "none"} & set(wanted)):
        raise UserInputError("--midi-in all/none cannot be combined with port names")
    channel = args.midi_channel
    if channel is not None:
        check_int(channel, "--midi-channel", 1, MAX_CHANNEL + 1)
    check_float(args.midi_knob_rate, "--midi-knob-rate", 0, 10000, low_open=True)
    check_float(args.midi_lead_ms, "--midi-lead-ms", 0, MAX_LEAD_MS)
    check_int(args.midi_queue, "--midi-queue", 1, MAX_QUEUE_SIZE)
    check_float(args.midi_rescan, "--midi-rescan", 0.1, 3600)
    return wanted, None if channel is None else channel - 1


def start_midi(engine, args, out=None, backend=None):
    """Start the MIDI bridge for ``engine`` from parsed ``args``; None with ``--no-midi``.

    Raises :class:`UserInputError` (one line) for a bad flag, kit set or learn target. When no
    MIDI system works here (no ALSA sequencer, no JACK), that is an error only if a MIDI flag
    asked for MIDI; with the defaults serve warns and runs without it. ``backend`` replaces the
    rtmidi one (tests pass a FakeBackend).
    """
    if getattr(args, "no_midi", False):
        return None
    from .mapping import MidiMapper
    from .ports import PortWatcher
    from .server import MidiServer

    out = sys.stderr if out is None else out
    report = lambda line: print(f"ganshot: {line}", file=out, flush=True)  # noqa: E731
    wanted, note_channel = _check(args)
    switcher = _kit_switcher(engine, args)
    if args.learn:
        engine.learn(args.learn)  # validates the target against the kit now playing
    server = MidiServer(engine, MidiMapper(note_channel, use_defaults=not args.midi_no_defaults), switcher,
                        queue_size=args.midi_queue, knob_rate_hz=args.midi_knob_rate, lead_ms=args.midi_lead_ms,
                        on_learn=_on_learn(engine, args, switcher, report))
    virtual = None if args.midi_virtual in ("", "none") else args.midi_virtual
    notes, why_python = None, "a MIDI backend was given"
    if backend is None:
        notes, why_python = _c_notes(engine, args, server, note_channel, virtual)
        backend = notes.backend if notes is not None else _open_backend(args, report)
    if backend is None:
        return None
    watcher = PortWatcher(backend, wanted, server.feed, virtual_name=virtual, interval_s=args.midi_rescan,
                          report=report)
    server.start()
    try:
        watcher.open_virtual()
    except (OSError, UserInputError) as err:  # rtmidi's errors are OSErrors
        report(f"MIDI virtual input {virtual!r} not created: {str(err).splitlines()[0]}")
    watcher.start()
    if notes is not None:
        notes.start()
        report(f"MIDI notes: played by the C mixer from JACK MIDI input {notes.input.port_name} "
               "(one JACK period after each note, constant); CC and the rest through Python")
    else:
        report(f"MIDI notes: Python path (rtmidi, timed by --midi-lead-ms {args.midi_lead_ms:g}): {why_python}")
    _report_started(report, args, backend, watcher, wanted, note_channel, switcher, virtual)
    return MidiBridge(server, watcher, backend, notes)


def _c_notes(engine, args, server, note_channel, virtual):
    """(the C JACK MIDI input as a not yet started JackNotes, None) when ``--midi-notes`` and the
    setup allow it, else (None, why the Python path plays notes); ``--midi-notes c`` that cannot
    be had is an error."""
    choice = getattr(args, "midi_notes", "auto")
    why = _no_c_notes(engine, args) if choice != "python" else "--midi-notes python"
    if why is None:
        from ganshot.engine.jack_midi import JackMidiUnavailable

        from .jack_notes import JackNotes

        try:
            return JackNotes(engine, server, port_name=virtual or "in", note_channel=note_channel), None
        except JackMidiUnavailable as err:
            why = str(err)
    if choice == "c":
        raise UserInputError(f"--midi-notes c: {why}")
    return None, why


def _no_c_notes(engine, args) -> str | None:
    """Why the C JACK MIDI input cannot play notes here (None: it can)."""
    from ganshot.engine.jack_midi import jack_midi_unavailable

    from .ports import choose_api

    try:
        api = choose_api(args.midi_api)
    except UserInputError as err:
        return str(err)
    if api != "jack":
        return f"the MIDI system is {api}, not JACK"
    stream = getattr(engine, "stream", None)
    host = _host_api(stream)
    if host is None or "jack" not in host.lower():
        return f"the audio stream runs on {host or 'no device'}, not JACK"
    return jack_midi_unavailable()


def _host_api(stream) -> str | None:
    """The PortAudio host API name of a running AudioStream (None: no stream)."""
    if stream is None or not getattr(stream, "active", False):
        return None
    try:
        import sounddevice as sd

        return sd.query_hostapis(sd.query_devices(stream.device)["hostapi"])["name"]
    except Exception as err:  # noqa: BLE001 - a device that vanished: not JACK for us
        return f"an unknown host API ({err})"


def _kit_switcher(engine, args):
    """The KitSwitcher of ``--kit-set`` (None without one), on the kit serve started with."""
    if not args.kit_set:
        return None
    from .kitset import KitSwitcher, load_kitset

    switcher = KitSwitcher(load_kitset(args.kit_set, bundle=engine.bundle))
    kit = getattr(args, "kit", None)
    if kit is None:
        switcher.select(engine, 0)
    else:  # serve started on a kit of the set: its edits stay with it when a program change leaves it
        switcher.current = switcher.index_of(kit)
    return switcher


def _open_backend(args, report):
    """The rtmidi backend of ``--midi-api``; None (reported) when no MIDI system works here and no
    MIDI flag asked for MIDI, else the MidiUnavailable error propagates."""
    from .ports import MidiUnavailable, open_backend

    try:
        return open_backend(args.midi_api)
    except MidiUnavailable as err:
        explicit = (args.midi_in is not None or args.midi_api != "auto" or args.kit_set or args.learn
                    or args.midi_channel is not None)
        if explicit:
            raise
        report(f"MIDI off: {err} (--no-midi hides this line)")
        return None


def _on_learn(engine, args, switcher, report):
    """The callback run when MIDI learn binds a CC: ``--learn``'s own binding is saved into its
    kit file (the kit-set's current kit, else ``--kit``); every binding is reported."""
    kit_path = Path(args.kit) if getattr(args, "kit", None) else None
    save_for = [args.learn] if args.learn else []  # --learn saves its binding; OSC /learn leaves saving to /kit/save

    def learned(controller) -> None:  # on the dispatch thread, after the kit took the new row
        channel = "any channel" if controller.channel is None else f"channel {controller.channel + 1}"
        where = "kept in the kit now playing (save it with OSC /kit/save)"
        if controller.target in save_for:  # the binding --learn asked for goes into its kit file
            save_for.remove(controller.target)
            path = kit_path
            if switcher is not None and switcher.current is not None:
                path = switcher.kitset.kit_paths[switcher.current]
            where = "not saved: no --kit (save it with OSC /kit/save)"
            if path is not None:
                try:
                    engine.save_kit(path)
                    where = f"saved to {path}"
                except Exception as err:  # noqa: BLE001 - report and keep serving
                    where = f"not saved ({str(err).splitlines()[0]})"
        report(f"MIDI learn: CC {controller.number} ({channel}) -> {controller.target}; {where}")

    return learned


def _report_started(report, args, backend, watcher, wanted, note_channel, switcher, virtual) -> None:
    """The lines serve prints once MIDI listens: what is open, on which channel, what is missing."""
    if wanted not in (["none"], ["all"]) and not watcher.ports:
        present = ", ".join(backend.input_names()) or "none"
        report(f"MIDI: no input matches {', '.join(wanted)} yet (present: {present}); opened when it appears")
    listening = f"virtual input {virtual!r}" if watcher.virtual is not None else "no virtual input"
    channel = "notes on every channel" if note_channel is None else f"notes on channel {note_channel + 1}"
    extra = f", kit set {switcher.kitset.name!r} ({len(switcher.kits)} kits)" if switcher else ""
    extra += f", learning {args.learn}" if args.learn else ""
    report(f"MIDI ({backend.api}): {listening}, {len(watcher.ports)} port(s) open, {channel}{extra}")
