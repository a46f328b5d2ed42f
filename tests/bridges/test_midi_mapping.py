"""The MIDI mapping tables, pure: mido messages in, Engine actions out (no ports, no engine)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from types import SimpleNamespace

import mido
import pytest

from ganshot.bridges.midi.mapping import (
    DEFAULT_CC_MAP, DIRECTION_CCS, MASTER_GAIN_CC, MAX_14BIT, Bind, MidiMapper, NoteOff, Panic, SelectKit, SetFocus, SetParam,
    Trigger, bind_controller, cc_map_markdown, parse_bytes,
)
from ganshot.engine.kit_schema import Controller
from ganshot.engine.kit import kit_to_json, parse_kit
from tests.support import kit_for

MODEL = SimpleNamespace(name="m", sha256="0" * 64)


def make_kit(num_pads=4, controllers=()):
    """Pads on notes 36.. (kit_for), with ``controllers`` validated like a kit file."""
    kit = dataclasses.replace(kit_for(MODEL, num_pads), controllers=tuple(controllers))
    return parse_kit(kit_to_json(kit))


def cc(number, value, channel=0):
    return mido.Message("control_change", control=number, value=value, channel=channel)


def note(number, velocity=100, channel=9):
    return mido.Message("note_on", note=number, velocity=velocity, channel=channel)


def test_notes_play_the_kit_pad_by_note_with_velocity():
    mapper, kit = MidiMapper(), make_kit()
    assert mapper.handle(note(38, 127), kit) == (Trigger(38, 1.0),)
    assert mapper.handle(note(37, 64, channel=0), kit) == (Trigger(37, 64 / 127),)
    assert mapper.handle(note(60), kit) == ()  # no pad on note 60
    assert mapper.handle(note(38, 0), kit) == (NoteOff(38, 9),)  # note-on velocity 0 is a note-off
    assert mapper.handle(mido.Message("note_off", note=38), kit) == (NoteOff(38, 0),)  # the engine ends held notes
    assert mapper.counts == Counter(notes=2, notes_unmapped=1, note_offs=2)


def test_kit_defined_note_map_and_channel_filter():
    kit = make_kit()
    kit = kit.with_pad(0, note=60).with_pad(1, note=62)  # a kit off the GM map
    mapper = MidiMapper(note_channel=9)
    assert mapper.handle(note(60, channel=9), kit) == (Trigger(60, 100 / 127),)
    assert mapper.handle(note(62, channel=0), kit) == ()  # another channel
    assert mapper.handle(note(36, channel=9), kit) == ()  # GM kick: not in this kit any more
    assert mapper.counts["notes_filtered"] == 1 and mapper.counts["notes_unmapped"] == 1
    with pytest.raises(ValueError):
        MidiMapper(note_channel=16)


def test_default_cc_map_resolves_the_cc7_conflict():
    numbers = [c.number for c in DEFAULT_CC_MAP if c.type == "cc"]
    assert len(numbers) == len(set(numbers))  # one row per CC number
    assert [c.target for c in DEFAULT_CC_MAP if c.number == MASTER_GAIN_CC and c.type == "cc"] == ["master.gain_db"]
    for i, number in enumerate(DIRECTION_CCS):
        assert [c.target for c in DEFAULT_CC_MAP if c.number == number] == [f"focused.direction.{i}"]
    table = cc_map_markdown()
    assert all(f"`{c.target}`" in table for c in DEFAULT_CC_MAP) and "pitch bend" in table


def test_default_ccs_drive_the_focused_pad():
    mapper, kit = MidiMapper(), make_kit()
    assert mapper.handle(cc(21, 127), kit, focus=2) == (SetParam("direction", 2, 0, 1.0),)
    assert mapper.handle(cc(28, 0), kit, focus=1) == (SetParam("direction", 1, 7, -1.0),)
    assert mapper.handle(cc(1, 0), kit, focus=3) == (SetParam("direction", 3, 0, -1.0),)  # mod wheel
    assert mapper.handle(cc(7, 127, channel=5), kit) == (SetParam("master_gain_db", None, None, 0.0),)
    assert mapper.handle(cc(7, 0), kit) == (SetParam("master_gain_db", None, None, -60.0),)
    assert mapper.handle(cc(10, 127), kit, focus=1) == (SetParam("pan", 1, None, 1.0),)
    assert mapper.handle(cc(20, 3), kit) == (SetFocus(3),)
    assert mapper.handle(cc(20, 9), kit) == ()  # no pad 9: counted
    assert mapper.handle(cc(21, 64), kit, focus=7) == ()  # a focus the kit no longer has
    assert mapper.handle(cc(120, 0), kit) == (Panic(),)
    assert mapper.handle(cc(123, 0), kit) == ()  # all notes off: one-shots ring out
    assert mapper.handle(cc(90, 5), kit) == ()
    assert mapper.counts["cc_unmapped"] == 3 and mapper.counts["no_pad"] == 2 and mapper.counts["ignored"] == 1
    assert MidiMapper(use_defaults=False).handle(cc(21, 127), kit) == ()


def test_kit_controllers_shadow_defaults_with_range_curve_and_channel():
    row = Controller(number=21, target="pad.1.gain_db", min=-12.0, max=6.0, channel=2, curve="exp")
    mapper, kit = MidiMapper(), make_kit(controllers=[row])
    (action,) = mapper.handle(cc(21, 64, channel=2), kit)
    assert action == SetParam("gain_db", 1, None, row.value_for(64 / 127))
    assert -12.0 < action.value < -12.0 + 18.0 * 64 / 127  # exp bends below linear
    assert mapper.handle(cc(21, 64, channel=0), kit) == ()  # the kit row shadows CC 21 on every channel
    assert mapper.handle(cc(22, 127), kit, focus=0) == (SetParam("direction", 0, 1, 1.0),)  # defaults elsewhere


def test_14_bit_pairs_combine_msb_and_lsb():
    mapper, kit = MidiMapper(), make_kit()
    value = lambda actions: actions[0].value  # noqa: E731 - direction value in [-1, 1]
    position = lambda v: (v + 1.0) / 2.0  # noqa: E731
    assert mapper.handle(cc(53, 5, channel=2), kit) == ()  # an LSB before any MSB: nothing to refine
    assert position(value(mapper.handle(cc(21, 64), kit))) == pytest.approx(64 / 127)  # 7-bit until an LSB
    assert position(value(mapper.handle(cc(53, 0x55), kit))) == pytest.approx(((64 << 7) | 0x55) / MAX_14BIT)
    assert position(value(mapper.handle(cc(21, 100), kit))) == pytest.approx((100 << 7) / MAX_14BIT)  # LSB reset
    assert position(value(mapper.handle(cc(21, 127), kit))) < 1.0
    assert value(mapper.handle(cc(53, 127), kit)) == 1.0  # both at the top: exactly the end
    assert position(value(mapper.handle(cc(21, 64, channel=1), kit))) == pytest.approx(64 / 127)  # per channel
    assert mapper.handle(cc(50, 3), kit) == ()  # CC 18 is unmapped: CC 50 is a CC of its own (unmapped)


def test_pitch_bend_centre_is_exact():
    mapper, kit = MidiMapper(), make_kit()
    bend = lambda pitch: mapper.handle(mido.Message("pitchwheel", pitch=pitch), kit, focus=2)  # noqa: E731
    assert bend(0) == (SetParam("pitch_semitones", 2, None, 0.0),)
    assert bend(-8192)[0].value == -2.0 and bend(8191)[0].value == 2.0
    assert bend(4096)[0].value == pytest.approx(1.0, abs=1e-3)
    row = Controller(type="pitchbend", number=0, target="pad.0.direction.1", min=-0.5, max=0.5)
    assert MidiMapper().handle(mido.Message("pitchwheel", pitch=8191), make_kit(controllers=[row])) == (
        SetParam("direction", 0, 1, 0.5),)


def test_program_change_selects_a_kit():
    assert MidiMapper().handle(mido.Message("program_change", program=5), make_kit()) == (SelectKit(5),)


def test_learn_binds_the_next_cc_that_moves():
    old = [Controller(number=30, target="pad.0.gain_db", min=-60, max=12),
           Controller(number=41, target="pad.2.pan", min=-1, max=1)]
    mapper, kit = MidiMapper(), make_kit(controllers=old)
    mapper.handle(cc(30, 5, channel=3), kit)
    assert mapper.handle(mido.Message("pitchwheel", pitch=100), kit, learn_target="pad.1.pan")[0].param == \
        "pitch_semitones"  # learn waits for a CC
    unmoved = mapper.handle(cc(30, 5, channel=3), kit, learn_target="pad.1.pan")  # did not move: acts as usual
    assert [type(a) for a in unmoved] == [SetParam]
    assert mapper.handle(cc(53, 9), kit, learn_target="pad.1.pan") == ()  # the LSB of a mapped pair
    bind, action = mapper.handle(cc(30, 6, channel=3), kit, learn_target="pad.1.pan")
    learned = Controller(number=30, target="pad.1.pan", min=-1.0, max=1.0, channel=3)
    assert bind == Bind((old[1], learned), learned)  # the old row on CC 30 is replaced
    assert action == SetParam("pan", 1, None, learned.value_for(6 / 127))
    (bind, _) = MidiMapper().handle(cc(70, 0), kit, learn_target="pad.2.pan")
    assert bind.controllers == (old[0], bind.learned)  # the target's old row (CC 41) is replaced
    assert MidiMapper().handle(cc(120, 0), kit, learn_target="pad.2.pan") == (Panic(),)  # never learned


def test_bind_controller_keeps_unrelated_rows():
    a = Controller(number=1, target="pad.0.pan", min=-1, max=1, channel=0)
    b = Controller(number=1, target="pad.1.pan", min=-1, max=1, channel=1)  # same CC, other channel
    new = Controller(number=1, target="pad.2.pan", min=-1, max=1, channel=0)
    assert bind_controller((a, b), new) == (b, new)


@pytest.mark.parametrize("data", [[0x12, 0x34], [0x90, 200, 3], [0x90, 36], [], [0xB0], [0xF4], "x"])
def test_parse_bytes_refuses_garbage(data):
    assert parse_bytes(data) is None


def test_parse_bytes_reads_channel_messages():
    assert parse_bytes(b"\x99\x26\x64") == note(38, 100, channel=9)
    assert parse_bytes([0xE0, 0x00, 0x40]).pitch == 0
