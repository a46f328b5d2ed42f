"""MIDI messages -> Engine actions, by tables. Pure: no ports, no threads, no Engine calls.

Cheat sheet::

    mapper = MidiMapper(note_channel=9)                 # notes on MIDI channel 10 only (0-based 9)
    actions = mapper.handle(message, engine.kit, focus=engine.focus, learn_target=engine.learn_target)
    # -> (Trigger(note=38, velocity=0.79),) or (SetParam("direction", pad=2, index=0, value=0.3),) ...
    message = parse_bytes(b"\\x90\\x26\\x64")           # mido.Message, or None for garbage

What a message does (``DEFAULT_CC_MAP`` is used for the CC numbers and benders the kit's own
``controllers`` do not map; a kit controller on a number shadows the default one on it):

* note-on (velocity > 0) -> :class:`Trigger` of the kit pad on that note (the kit's notes; the
  preset kits sit on the GM drum map), velocity / 127 as the trigger velocity; only on
  ``note_channel`` when one is set. Note-off (and note-on velocity 0) is ignored: one-shots.
* instrument pads (a note range, engine/instrument.py): a note-on in the range of the instrument
  heard on the message's channel -> :class:`NoteOn`, its note-off (or velocity 0) -> :class:`NoteOff`
  (the release fade). An instrument bound to a channel listens on that channel even when
  ``note_channel`` names another; one without a channel follows ``note_channel`` like drum pads.
* CC 64 (sustain pedal) -> :class:`Sustain` (>= 64 is down), unless the kit maps CC 64 itself.
* control change -> a :class:`SetParam` per mapped controller, its position (0..1) mapped through
  the controller's curve to [min, max]; ``focused.*`` targets resolve to the focused pad here.
  CC 0-31 pair with CC 32-63: once an LSB has arrived for a pair, positions have 14 bits
  (``(MSB << 7 | LSB) / 16383``; an MSB alone resets the LSB to 0, as the MIDI spec says).
  CC 120 (all sound off) -> :class:`Panic`; other channel-mode CCs (121-127) are ignored.
* pitch bend -> the mapped bender controllers (default: the focused pad's pitch, +-2 semitones);
  the centre (0) maps to exactly the middle of [min, max].
* program change N -> :class:`SelectKit` (the Nth kit of a kit set, 0-based).
* MIDI learn: while ``learn_target`` is set, the first CC that moves (a value different from the
  last one seen on that CC, or its first) is bound to it: :class:`Bind` carries the kit's new
  controller table, and the value applies at once.

Counters (:attr:`MidiMapper.counts`): what each message became or why it was dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ganshot.engine.instrument import SUSTAIN_CC
from ganshot.engine.kit_schema import Controller, Target, parse_controller, parse_target, target_for
from ganshot.engine.limits import MAX_CC_NUMBER, MAX_CHANNEL, check_int

__all__ = [
    "DEFAULT_CC_MAP", "DIRECTION_CCS", "MASTER_GAIN_CC", "PAN_CC", "FOCUS_CC", "MOD_WHEEL_CC",
    "ALL_SOUND_OFF_CC", "PITCH_BEND_SEMITONES", "LSB_OFFSET", "MAX_14BIT", "Trigger", "SetParam",
    "SetFocus", "SelectKit", "Panic", "Bind", "NoteOn", "NoteOff", "Sustain", "MidiMapper", "bind_controller", "parse_bytes",
    "cc_map_markdown",
]

DIRECTION_CCS = tuple(range(21, 29))  # 8 knobs -> focused.direction.0..7 (CC 20-31 are undefined in MIDI)
MOD_WHEEL_CC = 1  # also direction 0: the one knob every keyboard has
MASTER_GAIN_CC = 7  # channel volume, as every DAW and controller sends it
PAN_CC = 10
FOCUS_CC = 20  # value N focuses pad N
ALL_SOUND_OFF_CC = 120
CHANNEL_MODE_CCS = range(120, 128)
PITCH_BEND_SEMITONES = 2.0
LSB_OFFSET = 32  # CC n (0-31) is the MSB, CC n + 32 its LSB
MAX_14BIT = (1 << 14) - 1
MAX_PITCH = 8191  # mido's pitchwheel runs -8192..8191


def _row(number: int | None, target: str, kind: str = "cc", **fields) -> Controller:
    data = {"type": kind, "number": 0 if number is None else number, "target": target, **fields}
    return parse_controller(data, f"DEFAULT_CC_MAP[{target}]", "ganshot.bridges.midi.mapping")


#: The controllers used when the kit maps nothing on that CC number (or no bender). One table:
#: the README's mapping table is generated from it (:func:`cc_map_markdown`).
DEFAULT_CC_MAP: tuple[Controller, ...] = (
    _row(MOD_WHEEL_CC, "focused.direction.0"),
    _row(MASTER_GAIN_CC, "master.gain_db", min=-60.0, max=0.0),
    _row(PAN_CC, "focused.pan"),
    _row(FOCUS_CC, "focus", min=0, max=127),
    *(_row(cc, f"focused.direction.{i}") for i, cc in enumerate(DIRECTION_CCS)),
    _row(None, "focused.pitch_semitones", "pitchbend", min=-PITCH_BEND_SEMITONES, max=PITCH_BEND_SEMITONES),
)


# -- actions: what the server does with the Engine ------------------------------------------------
@dataclass(frozen=True)
class Trigger:
    """Play the pad on ``note`` at ``velocity`` (0..1)."""
    note: int
    velocity: float


@dataclass(frozen=True)
class NoteOn:
    """An instrument note-on: ``note`` at ``velocity`` (0..1) heard on ``channel`` (0-based)."""
    note: int
    velocity: float
    channel: int


@dataclass(frozen=True)
class NoteOff:
    """An instrument note-off: ``note`` on ``channel`` starts its release."""
    note: int
    channel: int


@dataclass(frozen=True)
class Sustain:
    """The sustain pedal (CC 64) of ``channel`` goes down or up."""
    down: bool
    channel: int


@dataclass(frozen=True)
class SetParam:
    """Set a controller target (``Engine.apply``): ``param`` is a target parameter of the kit
    schema's TARGETS ("master_gain_db", "gain_db", "pan", "pitch_semitones", "direction"),
    ``pad`` the pad it acts on (a focused.* target resolved to the focused pad; None for the
    kit), ``index`` the direction."""
    param: str
    pad: int | None
    index: int | None
    value: float

    @property
    def key(self) -> tuple:
        """What a newer value of the same knob replaces (rate limiting: newest wins)."""
        return self.param, self.pad, self.index

    @property
    def target(self) -> Target:
        """The target ``Engine.apply`` sets, e.g. ``pad.2.direction.0``."""
        return target_for(self.param, pad=self.pad, direction=self.index)


@dataclass(frozen=True)
class SetFocus:
    pad: int


@dataclass(frozen=True)
class SelectKit:
    program: int


@dataclass(frozen=True)
class Panic:
    pass


@dataclass(frozen=True)
class Bind:
    """MIDI learn done: ``controllers`` is the kit's new table, ``learned`` the new row."""
    controllers: tuple[Controller, ...]
    learned: Controller


def bind_controller(controllers, new: Controller) -> tuple[Controller, ...]:
    """``controllers`` with ``new`` added; rows driving the same target, or listening to the same
    message (type, number, overlapping channel), are dropped: a learned knob does one thing."""
    def same_source(c: Controller) -> bool:
        channels_meet = c.channel is None or new.channel is None or c.channel == new.channel
        return c.type == new.type and c.number == new.number and channels_meet
    return tuple(c for c in controllers if c.target != new.target and not same_source(c)) + (new,)


def parse_bytes(data):
    """One raw MIDI message (bytes or list of ints) -> ``mido.Message``, or None if it is not one."""
    import mido

    try:
        return mido.Message.from_bytes(bytes(data))
    except (ValueError, TypeError, KeyError, IndexError):
        return None


class MidiMapper:
    """Turns parsed messages into actions; keeps the 14-bit pairing and learn state (one thread)."""

    def __init__(self, note_channel: int | None = None, use_defaults: bool = True):
        if note_channel is not None:
            check_int(note_channel, "note_channel (0-based, or None)", 0, MAX_CHANNEL, ValueError)
        self.note_channel = note_channel
        self.defaults = DEFAULT_CC_MAP if use_defaults else ()
        self.counts: Counter = Counter()
        self._msb: dict[tuple[int, int], int] = {}  # (channel, cc 0-31) -> last MSB
        self._fine: set[tuple[int, int]] = set()  # pairs that have sent an LSB: 14-bit from then on
        self._last: dict[tuple[int, int], int] = {}  # (channel, cc) -> last value (learn: "moved")
        self._table_source = None
        self._cc: dict[int, tuple[Controller, ...]] = {}
        self._bend: tuple[Controller, ...] = ()

    def _table(self, controllers) -> None:
        if controllers is self._table_source:
            return
        by_number: dict[int, list[Controller]] = {}
        for ctl in controllers:
            if ctl.type == "cc":
                by_number.setdefault(ctl.number, []).append(ctl)
        for ctl in self.defaults:  # a kit row on a number shadows the default rows on it
            if ctl.type == "cc" and ctl.number not in by_number:
                by_number.setdefault(ctl.number, []).append(ctl)
        self._cc = {n: tuple(rows) for n, rows in by_number.items()}
        bend = tuple(c for c in controllers if c.type == "pitchbend")
        self._bend = bend or tuple(c for c in self.defaults if c.type == "pitchbend")
        self._table_source = controllers

    def handle(self, message, kit, focus: int = 0, learn_target: str | None = None) -> tuple:
        """Actions for one ``mido.Message`` against ``kit`` (its notes and controllers)."""
        kind = message.type
        if kind in ("note_on", "note_off"):
            played = self._instrument_note(message, kit)
            if played is not None:
                return played
        if kind == "note_on" and message.velocity > 0:
            if self.note_channel is not None and message.channel != self.note_channel:
                self.counts["notes_filtered"] += 1
                return ()
            if kit.index_for_note(message.note) < 0:
                self.counts["notes_unmapped"] += 1
                return ()
            self.counts["notes"] += 1
            return (Trigger(message.note, message.velocity / 127.0),)
        if kind in ("note_on", "note_off"):  # a note-off the kit does not claim: a drum pad's, or a
            self.counts["note_offs"] += 1   # note held from the kit before a switch, which still ends
            return (NoteOff(message.note, message.channel),)
        if kind == "control_change":
            return self._control_change(message.channel, message.control, message.value, kit, focus, learn_target)
        if kind == "pitchwheel":
            self._table(kit.controllers)
            pitch = message.pitch
            position = 0.5 + 0.5 * pitch / (MAX_PITCH + 1 if pitch < 0 else MAX_PITCH)
            return self._apply(self._bend, message.channel, position, kit, focus, "pitchbend")
        if kind == "program_change":
            self.counts["programs"] += 1
            return (SelectKit(message.program),)
        self.counts["ignored"] += 1  # aftertouch, system common, ...
        return ()

    def _instrument_note(self, message, kit):
        """(NoteOn,) / (NoteOff,) when the note belongs to an instrument pad heard on its channel,
        () when such a note is filtered out by ``note_channel``; None for drum pads and unmapped notes."""
        channel = message.channel
        index = kit.index_for_note(message.note, channel)
        instrument = kit.pads[index].instrument if index >= 0 else None
        if instrument is None:
            return None
        if instrument.channel is None and self.note_channel is not None and channel != self.note_channel:
            self.counts["notes_filtered"] += 1
            return ()
        if message.type == "note_on" and message.velocity > 0:
            self.counts["instrument_notes"] += 1
            return (NoteOn(message.note, message.velocity / 127.0, channel),)
        self.counts["instrument_note_offs"] += 1
        return (NoteOff(message.note, channel),)

    def _control_change(self, channel, number, value, kit, focus, learn_target) -> tuple:
        if number in CHANNEL_MODE_CCS:
            if number == ALL_SOUND_OFF_CC:
                self.counts["panics"] += 1
                return (Panic(),)
            self.counts["ignored"] += 1
            return ()
        self._table(kit.controllers)
        rows, position = self._position(channel, number, value)
        moved = self._last.get((channel, number)) != value
        self._last[(channel, number)] = value
        if learn_target is not None and moved and rows is not None:
            return self._learn(learn_target, channel, number, value, kit, focus)
        if not rows:
            if number == SUSTAIN_CC:  # the pedal, unless the kit maps CC 64 to a knob
                self.counts["sustain"] += 1
                return (Sustain(value >= 64, channel),)
            self.counts["cc_unmapped"] += 1
            return ()
        return self._apply(rows, channel, position, kit, focus, "cc")

    def _position(self, channel, number, value):
        """(controller rows, position 0..1); rows None for the LSB half of a 14-bit pair."""
        pair = number - LSB_OFFSET
        if LSB_OFFSET <= number < 2 * LSB_OFFSET and pair in self._cc:  # the LSB of a mapped pair
            self._fine.add((channel, pair))
            msb = self._msb.get((channel, pair))
            if msb is None:
                return None, 0.0  # an LSB before any MSB: nothing to refine yet
            return self._cc[pair], ((msb << 7) | value) / MAX_14BIT
        rows = self._cc.get(number, ())
        if number < LSB_OFFSET and rows:
            self._msb[(channel, number)] = value
            if (channel, number) in self._fine:
                return rows, (value << 7) / MAX_14BIT
        return rows, value / MAX_CC_NUMBER

    def _learn(self, target, channel, number, value, kit, focus) -> tuple:
        spec = parse_target(target).spec  # the full range of the target, linear
        learned = Controller(type="cc", channel=channel, number=number, target=target, min=spec.low, max=spec.high)
        self.counts["learned"] += 1
        self._fine.discard((channel, number))
        actions = self._apply((learned,), channel, value / MAX_CC_NUMBER, kit, focus, "cc")
        return (Bind(bind_controller(kit.controllers, learned), learned),) + actions

    def _apply(self, rows, channel, position, kit, focus, source) -> tuple:
        actions = []
        for ctl in rows:
            if ctl.channel is not None and ctl.channel != channel:
                continue
            action = self._action(ctl, ctl.value_for(position), kit, focus)
            if action is None:
                self.counts["no_pad"] += 1
            else:
                actions.append(action)
        self.counts[source if actions else f"{source}_unmapped"] += 1
        return tuple(actions)

    @staticmethod
    def _action(ctl: Controller, value: float, kit, focus: int):
        target = ctl.parsed_target
        spec = target.spec
        if spec.param == "focus":
            pad = int(round(value))
            return SetFocus(pad) if 0 <= pad < len(kit.pads) else None
        if spec.scope == "kit":
            return SetParam(spec.param, None, None, value)
        pad = focus if spec.scope == "focused" else target.pad
        if not 0 <= pad < len(kit.pads):
            return None
        return SetParam(spec.param, pad, target.direction, value)


def cc_map_markdown(controllers=DEFAULT_CC_MAP) -> str:
    """The README's mapping table, from :data:`DEFAULT_CC_MAP`."""
    rows = ["| message | target | range | curve |", "|---|---|---|---|"]
    for ctl in controllers:
        source = "pitch bend" if ctl.type == "pitchbend" else f"CC {ctl.number}"
        rows.append(f"| {source} | `{ctl.target}` | {ctl.min:g} .. {ctl.max:g} | {ctl.curve} |")
    return "\n".join(rows)
