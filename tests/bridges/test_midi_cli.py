"""The serve MIDI flags and start_midi with the fake backend; `ganshot midi-ports`."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from ganshot.bridges.midi import cli as midi_cli
from ganshot.bridges.midi import ports as midi_ports
from ganshot.bridges.midi.ports import FakeBackend, MidiUnavailable
from ganshot.engine.engine import Engine
from ganshot.engine.errors import UserInputError
from ganshot.engine.kit import ModelRef, load_kit, save_kit
from tests.support import kit_for


def parse(*argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--kit", default=None)
    midi_cli.add_midi_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def kit_path(tiny_bundle, tmp_path):
    kit = kit_for(tiny_bundle)
    kit = kit.__class__(name="mine", model=ModelRef.of(tiny_bundle, path=str(tiny_bundle.path)), pads=kit.pads)
    return save_kit(kit, tmp_path / "mine.json")


@pytest.fixture
def engine(tiny_bundle, kit_path):
    with Engine(tiny_bundle, load_kit(kit_path), sample_rate=48000, backend="onnx") as eng:
        yield eng


def test_defaults():
    args = parse()
    assert args.midi_in is None and args.midi_virtual == "ganshot" and args.midi_api == "auto"
    assert args.midi_knob_rate == 50.0 and args.midi_rescan == 2.0 and not args.no_midi
    assert midi_cli.start_midi(None, parse("--no-midi")) is None


@pytest.mark.parametrize("argv, message", [
    (["--midi-channel", "0"], r"--midi-channel must be an integer in \[1, 16\]"),
    (["--midi-channel", "17"], r"--midi-channel must be an integer in \[1, 16\]"),
    (["--midi-in", "all", "--midi-in", "Pads"], "cannot be combined"),
    (["--midi-knob-rate", "0"], "--midi-knob-rate must be"),
    (["--midi-queue", "0"], "--midi-queue must be"),
    (["--midi-rescan", "0"], "--midi-rescan must be"),
    (["--learn", "focused.volume"], "is not a known target"),
])
def test_flag_mistakes_are_one_line(engine, argv, message):
    with pytest.raises(UserInputError, match=message):
        midi_cli.start_midi(engine, parse(*argv), out=io.StringIO(), backend=FakeBackend())


def test_start_listens_and_learn_saves_into_the_kit(engine, kit_path):
    backend, out = FakeBackend(["Pads", "Keys"]), io.StringIO()
    args = parse("--kit", str(kit_path), "--midi-in", "pads", "--midi-channel", "10", "--learn", "pad.1.pan")
    bridge = midi_cli.start_midi(engine, args, out=out, backend=backend)
    try:
        assert list(backend.inputs) == ["Pads"] and backend.virtual.name == "ganshot"
        backend.send("ganshot", [0x90, 36, 100])  # channel 1: filtered
        backend.send("Pads", [0x99, 37, 100])  # channel 10
        backend.send("Pads", [0xB2, 74, 127])  # learn: CC 74 on channel 3 -> pad.1.pan
        assert bridge.server.wait_idle(5)
        assert engine.status()["triggers"] == 1 and engine.kit.pads[1].pan == 1.0
        saved = load_kit(kit_path).controllers
        assert [(c.number, c.channel, c.target) for c in saved] == [(74, 2, "pad.1.pan")]
        counters = bridge.counters()
        assert counters["map_notes_filtered"] == 1 and counters["learned"] == 1 and counters["ports_open"] == 1
        engine.learn("pad.2.pan")  # as OSC /learn does: bound, not saved (that is /kit/save's job)
        backend.send("Pads", [0xB0, 75, 0])
        assert bridge.server.wait_idle(5) and len(engine.kit.controllers) == 2
        assert len(load_kit(kit_path).controllers) == 1
    finally:
        bridge.close()
    text = out.getvalue()
    assert "MIDI (fake): virtual input 'ganshot', 1 port(s) open, notes on channel 10, learning pad.1.pan" in text
    assert f"MIDI learn: CC 74 (channel 3) -> pad.1.pan; saved to {kit_path}" in text
    assert "MIDI learn: CC 75 (channel 1) -> pad.2.pan; kept in the kit now playing" in text


def test_a_kit_set_without_kit_starts_on_its_first_kit(engine, tiny_bundle, tmp_path):
    kit = kit_for(tiny_bundle, num_pads=2)
    save_kit(kit.__class__(name="first", model=ModelRef.of(tiny_bundle), pads=kit.pads), tmp_path / "first.json")
    (tmp_path / "set.json").write_text(json.dumps({"format": "ganshot-kitset", "version": 1,
                                                   "kits": ["first.json", "mine.json"]}))
    out = io.StringIO()
    bridge = midi_cli.start_midi(engine, parse("--kit-set", str(tmp_path / "set.json"), "--midi-virtual", "none"),
                                 out=out, backend=FakeBackend(["Pads"]))
    try:
        assert engine.kit.name == "first" and "kit set 'set' (2 kits)" in out.getvalue()
        bridge.backend.send("Pads", [0xC0, 1])
        assert bridge.server.wait_idle(5) and engine.kit.name == "mine"
    finally:
        bridge.close()
    assert engine.wait_ready(10)


def test_serve_on_a_kit_of_the_set_keeps_its_edits(engine, kit_path, tmp_path, tiny_bundle):
    kit = kit_for(tiny_bundle, num_pads=2)
    save_kit(kit.__class__(name="other", model=ModelRef.of(tiny_bundle), pads=kit.pads), tmp_path / "other.json")
    (tmp_path / "set.json").write_text(json.dumps({"format": "ganshot-kitset", "version": 1,
                                                   "kits": ["other.json", "mine.json"]}))
    args = parse("--kit", str(kit_path), "--kit-set", str(tmp_path / "set.json"))
    bridge = midi_cli.start_midi(engine, args, out=io.StringIO(), backend=FakeBackend(["Pads"]))
    try:
        assert engine.kit.name == "mine" and bridge.server.kitset.current == 1
        engine.set_gain(0, -9.0)
        for program in (0, 1):
            bridge.backend.send("Pads", [0xC0, program])
            assert bridge.server.wait_idle(5)
        assert engine.kit.name == "mine" and engine.kit.pads[0].gain_db == -9.0
    finally:
        bridge.close()
    assert engine.wait_ready(10)


def test_no_midi_system_warns_unless_midi_was_asked_for(engine, monkeypatch):
    def unavailable(api="auto", client_name="ganshot"):
        raise MidiUnavailable("alsa MIDI is unavailable: no /dev/snd/seq")

    monkeypatch.setattr(midi_ports, "open_backend", unavailable)
    out = io.StringIO()
    assert midi_cli.start_midi(engine, parse(), out=out) is None
    assert out.getvalue() == "ganshot: MIDI off: alsa MIDI is unavailable: no /dev/snd/seq (--no-midi hides this line)\n"
    with pytest.raises(MidiUnavailable):
        midi_cli.start_midi(engine, parse("--midi-in", "Pads"), out=out)


def test_midi_ports_lists_inputs(monkeypatch):
    monkeypatch.setattr(midi_ports, "open_backend", lambda api="auto": FakeBackend(["Pads 20:0", "Keys"]))
    out = io.StringIO()
    assert midi_cli.cmd_midi_ports(argparse.Namespace(midi_api="auto"), out=out) == 0
    assert out.getvalue().splitlines() == ["MIDI inputs (fake):", "  0  Pads 20:0", "  1  Keys",
                                           "serve also creates the virtual input 'ganshot' (--midi-virtual)"]


def test_note_path_is_said_and_c_is_refused_with_the_reason_where_it_cannot_run(engine, monkeypatch):
    """No running JACK stream here: auto falls back to the Python path (one line saying why);
    ``--midi-notes c`` is one error line naming what is missing."""
    monkeypatch.setattr(midi_ports, "open_backend", lambda api="auto", client_name="ganshot": FakeBackend([]))
    out = io.StringIO()
    bridge = midi_cli.start_midi(engine, parse("--midi-api", "jack"), out=out)
    try:
        assert bridge.notes is None and bridge.counters()["note_path"] == "python"
        assert "ganshot: MIDI notes: Python path (rtmidi, timed by --midi-lead-ms 6): the audio stream runs on " \
               "no device, not JACK" in out.getvalue()
    finally:
        bridge.close()
    with pytest.raises(UserInputError, match="--midi-notes c: the MIDI system is alsa, not JACK"):
        midi_cli.start_midi(engine, parse("--midi-notes", "c", "--midi-api", "alsa"), out=out)
    with pytest.raises(SystemExit):
        parse("--midi-notes", "rust")
