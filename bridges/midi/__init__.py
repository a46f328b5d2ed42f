"""ganshot.bridges.midi — play and shape the engine from MIDI controllers and DAWs.

Cheat sheet::

    from ganshot.bridges.midi import MidiServer, MidiMapper, PortWatcher, open_backend

    server = MidiServer(engine, MidiMapper(note_channel=None)).start()   # bounded queue + dispatch thread
    backend = open_backend("auto")                     # rtmidi: JACK if running, else ALSA; CoreMIDI; WinMM
    watcher = PortWatcher(backend, ["all"], server.feed, virtual_name="ganshot").start()   # rescans every 2 s
    server.counters()                                  # received, dropped, sysex, clock, garbage, knob_coalesced, ...

    MidiMapper().handle(message, kit, focus, learn_target)   # pure: mido.Message -> actions, by tables
    print(cc_map_markdown())                           # the README mapping table, from DEFAULT_CC_MAP
    load_kitset("live.json", bundle)                   # program change N -> kit N of the set

    # ganshot serve: add_midi_arguments(parser); bridge = start_midi(engine, args); bridge.close()

Defaults (:data:`~.mapping.DEFAULT_CC_MAP`): note-on plays the kit pad on that note (velocity ->
gain); CC 21-28 (and the mod wheel, CC 1) move latent directions 0-7 of the focused pad (the pad
last played, or chosen by CC 20 / OSC ``/focus``); CC 7 is master gain, CC 10 pan; pitch bend is
the focused pad's pitch (+-2 semitones); program change switches kits of a kit set; CC 120 is
panic. A kit's own ``controllers`` win over the defaults; OSC ``/learn TARGET`` binds the next CC.

Note paths (``serve --midi-notes auto|c|python``): on JACK (the audio stream and the MIDI system
both), note-ons are played by the C mixer's own JACK MIDI input ``ganshot-midi:ganshot`` one JACK
period after they were sent (:mod:`.jack_notes`, engine/jack_midi.py); CC, pitch bend, program
changes and the rest come back from C to the same server. Elsewhere (ALSA, CoreMIDI, WinMM) notes
go through rtmidi and the server, timed by ``--midi-lead-ms``. serve prints which path plays notes.

Modules: :mod:`.mapping` (pure message -> action tables, 14-bit pairs, learn), :mod:`.ports`
(port interface, fake, rtmidi backend, hot-plug watcher), :mod:`.server` (queue, dispatch thread,
knob rate limit, counters), :mod:`.jack_notes` (the C JACK MIDI input: note table in step with the
engine, forwarded messages, connections), :mod:`.kitset` (kit set files), :mod:`.cli` (the serve
flags and ``ganshot midi-ports``). Nothing here runs on the audio thread.
"""

from .cli import MidiBridge, add_midi_arguments, add_midi_ports_command, start_midi
from .jack_notes import JackNotes, JackNotesBackend
from .kitset import KitSet, KitSwitcher, load_kitset, parse_kitset
from .mapping import (
    DEFAULT_CC_MAP, Bind, MidiMapper, Panic, SelectKit, SetFocus, SetParam, Trigger, bind_controller, cc_map_markdown,
    parse_bytes,
)
from .ports import FakeBackend, MidiUnavailable, PortWatcher, RtMidiBackend, choose_api, open_backend, select_ports
from .server import COUNTERS, KnobLimiter, MidiServer

__all__ = [
    "MidiServer", "MidiMapper", "KnobLimiter", "COUNTERS", "PortWatcher", "FakeBackend", "RtMidiBackend",
    "MidiUnavailable", "open_backend", "choose_api", "select_ports", "DEFAULT_CC_MAP", "cc_map_markdown",
    "parse_bytes", "bind_controller", "Trigger", "SetParam", "SetFocus", "SelectKit", "Panic", "Bind",
    "KitSet", "KitSwitcher", "load_kitset", "parse_kitset", "MidiBridge", "add_midi_arguments",
    "add_midi_ports_command", "start_midi", "JackNotes", "JackNotesBackend",
]
