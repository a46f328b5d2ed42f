"""Build bridges/max/ganshot.amxd, ganshot's Max for Live device, from the tables in
``ganshot.bridges.max.device`` (standard library and ganshot only).

    .venv/bin/python scripts/build_amxd.py            # writes bridges/max/ganshot.amxd (atomically)
    .venv/bin/python scripts/build_amxd.py --check    # exit 1 if the committed file is not a fresh build
    .venv/bin/python scripts/build_amxd.py --out /tmp/ganshot.amxd

The device is generated, not drawn: the 16 pads, the dials and the status fields are rows of
tables, and each dial's OSC message and ``join`` come from its row of the OSC address table.
The result is checked (:func:`ganshot.bridges.max.amxd.check`) before it is written, and the
same tables give the same bytes on every run (fixed key order, no dates, no random ids), so
CI can compare the committed file with a fresh build. The Max version stamp is the one of
``bridges/max/ganshot.maxpat``, the plain-Max patch the device's OSC messages follow.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ganshot.bridges.max.amxd import pack, unpack, check
from ganshot.bridges.max.device import (
    DEVICE_FORMAT, DEVICE_TYPE, DEVICE_VERSION, DIALS, MIDI_THROUGH, PADS, REPLY_PORT, SEND_HOST, SEND_PORT, SETTINGS,
    STATUS_LABELS, STATUS_SHOWN, STRIP_HEIGHT_PX, UNIT_STYLES, Control,
)
from ganshot.bridges.osc.addresses import ADDRESSES, STATUS_FIELDS
from ganshot.engine.atomic import atomic_write_bytes
from ganshot.engine.errors import GanshotError
from ganshot.engine.limits import MAX_INT32

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bridges" / "max" / "ganshot.amxd"
MAXPAT = ROOT / "bridges" / "max" / "ganshot.maxpat"
POLL_MS = 500
FONT_SIZE = 10.0

#: newobj name -> (inlets, outlet types) from the object's words
_OBJECTS = {
    "udpsend": lambda w: (1, []),
    "udpreceive": lambda w: (1, [""]),
    "midiin": lambda w: (1, ["int"]),
    "midiout": lambda w: (1, []),
    "sel": lambda w: (2, ["bang"] * (len(w) - 1) + [""]),
    "t": lambda w: (1, [{"i": "int", "f": "float", "b": "bang", "l": ""}[a] for a in w[1:]]),
    "join": lambda w: (int(w[1]), [""]),
    "route": lambda w: (2, [""] * len(w)),
    "unpack": lambda w: (1, [{"0": "int", "0.": "float", "s": ""}[a] for a in w[1:]]),
    "prepend": lambda w: (1, [""]),
    "metro": lambda w: (2, ["bang"]),
    "loadmess": lambda w: (1, [""]),
    "print": lambda w: (1, []),
}
#: UI class -> (inlets, outlet types)
_UI = {"live.text": (1, ["", ""]), "live.dial": (1, ["", "float"]), "live.numbox": (1, ["", "float"]),
       "live.toggle": (1, [""]), "live.comment": (1, []), "comment": (1, []), "message": (2, [""])}
_UNPACK_KIND = {"i": "0", "f": "0.", "s": "s"}
_PARAMETER_TYPE = {"float": 0, "int": 1, "dB": 0, "pan": 0, "semitones": 0}  # Live: 0 float, 1 int, 2 enum
_VISIBLE, _STORED_ONLY, _HIDDEN = 0, 1, 2  # parameter_invisible

# Presentation layout (px). Pads: a 4 x 4 grid, pad 0 bottom left as in a Drum Rack.
PAD_ORIGIN, PAD_STEP, PAD_SIZE = (4, 22), (38, 32), (34, 28)
DIAL_ORIGIN, DIAL_STEP, DIAL_SIZE = (162, 4), (46, 52), (44, 48)
DIAL_GRID = ("d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "velocity", "gain", "pan", "pitch")  # 4 a row
#: name -> presentation rect of the focus and morph column
COLUMN = {"focus": (394, 5, 40, 15), "morph from": (394, 25, 40, 15), "morph to": (394, 45, 40, 15),
          "morph": (370, 66, 44, 48)}
LABELS = (("pads: play + focus", (4, 4, 150, 16)), ("focus", (352, 4, 40, 16)), ("from", (352, 24, 40, 16)),
          ("to", (352, 44, 40, 16)), ("engine status", (462, 4, 100, 16)), ("last /fail", (352, 130, 80, 16)))
STATUS_ORIGIN, STATUS_ROW = (444, 22), 17
POLL_RECT, BACKEND_RECT, FAIL_RECT = (444, 5, 15, 15), (444, 126, 118, 20), (352, 147, 282, 20)


class _Patch:
    """Boxes and cords with ids in creation order (obj-1, obj-2, ...), so a build is repeatable."""

    def __init__(self):
        self.boxes, self.lines, self.parameters = [], [], {}

    def box(self, maxclass: str, at: tuple, *, text: str | None = None, present: tuple | None = None, **attrs) -> str:
        box_id = f"obj-{len(self.boxes) + 1}"
        inlets, outlets = _OBJECTS[text.split()[0]](text.split()) if maxclass == "newobj" else _UI[maxclass]
        box = {"id": box_id, "maxclass": maxclass, "numinlets": inlets, "numoutlets": len(outlets),
               "patching_rect": [float(v) for v in at], **attrs}
        if outlets:
            box["outlettype"] = outlets
        if text is not None:
            box["text"] = text
        if present is not None:
            box["presentation"], box["presentation_rect"] = 1, [float(v) for v in present]
        if "varname" in attrs:
            self.parameters[box_id] = [attrs["varname"], attrs["saved_attribute_attributes"]["valueof"][
                "parameter_shortname"], 0]
        self.boxes.append({"box": dict(sorted(box.items()))})
        return box_id

    def obj(self, text: str, at: tuple) -> str:
        return self.box("newobj", (*at, 8 * len(text) + 16, 22), text=text)

    def message(self, text: str, at: tuple, present: tuple | None = None) -> str:
        return self.box("message", (*at, max(40, 7 * len(text) + 12), 22), text=text, present=present,
                        fontsize=FONT_SIZE)

    def label(self, text: str, present: tuple) -> str:
        return self.box("live.comment", (800, 900 + 24 * len(self.boxes), present[2], 18), text=text, present=present)

    def cord(self, source: str, outlet: int, destination: str, inlet: int = 0) -> None:
        self.lines.append({"patchline": {"destination": [destination, inlet], "source": [source, outlet]}})

    def parameter(self, maxclass: str, name: str, at: tuple, present: tuple, valueof: dict, **attrs) -> str:
        valueof = {"parameter_longname": name, "parameter_shortname": name, **valueof}
        return self.box(maxclass, (*at, *present[2:]), present=present, parameter_enable=1, varname=name,
                        saved_attribute_attributes={"valueof": dict(sorted(valueof.items()))}, **attrs)


def _valueof(unit: str, low: float, high: float, initial: float | None, visibility: int = _VISIBLE) -> dict:
    value = {"parameter_type": _PARAMETER_TYPE[unit], "parameter_mmin": float(low), "parameter_mmax": float(high),
             "parameter_unitstyle": UNIT_STYLES[unit], "parameter_invisible": visibility}
    if initial is not None:
        value |= {"parameter_initial_enable": 1, "parameter_initial": [float(initial)]}
    return value


def _enum(initial: float | None = None, visibility: int = _VISIBLE) -> dict:
    value = {"parameter_type": 2, "parameter_enum": ["off", "on"], "parameter_mmax": 1,
             "parameter_invisible": visibility}
    if initial is not None:
        value |= {"parameter_initial_enable": 1, "parameter_initial": [float(initial)]}
    return value


def _control(p: _Patch, control: Control, at: tuple, present: tuple) -> str:
    low, high = control.range
    initial = control.initial if control in SETTINGS else None  # dials keep what the set saved
    return p.parameter(control.maxclass, control.name, at, present, _valueof(control.unit, low, high, initial))


def _dial_rect(name: str) -> tuple:
    if name in COLUMN:
        return COLUMN[name]
    row, col = divmod(DIAL_GRID.index(name), 4)
    return (DIAL_ORIGIN[0] + col * DIAL_STEP[0], DIAL_ORIGIN[1] + row * DIAL_STEP[1], *DIAL_SIZE)


def _pad_rect(index: int) -> tuple:
    row, col = divmod(index, 4)
    return (PAD_ORIGIN[0] + col * PAD_STEP[0], PAD_ORIGIN[1] + (3 - row) * PAD_STEP[1], *PAD_SIZE)


def _slots(control: Control) -> list[str]:
    """The ADDRESSES argument names a control's message fills from $1, $2, ... in order."""
    words = control.message.split()[1:]
    return [arg.name for arg, word in zip(ADDRESSES[control.address].args, words) if word.startswith("$")]


def _controls(p: _Patch, send: str) -> None:
    """Settings, pads and dials, each wired through a join to its OSC message."""
    setting = {}
    for column, control in enumerate(SETTINGS):
        setting[(control.address, control.arg)] = _control(p, control, (20 + 150 * column, 40),
                                                           _dial_rect(control.name))
    focus = setting[("/focus", "pad")]
    focus_message = p.message("/focus $1", (20, 80))
    p.cord(focus, 0, focus_message)
    p.cord(focus_message, 0, send)
    split, join = p.obj("t i i", (20, 300)), p.obj("join 2 @triggers 0", (20, 340))
    trigger = p.message("/pad/trigger $1 $2", (20, 380))
    p.cord(split, 1, focus)  # right to left: focus the pad, then play it
    p.cord(split, 0, join, 0)
    p.cord(setting[("/pad/trigger", "velocity")], 0, join, 1)
    p.cord(join, 0, trigger)
    p.cord(trigger, 0, send)
    for index, name in enumerate(PADS):
        x = 20 + 70 * index
        pad = p.parameter("live.text", name, (x, 180), _pad_rect(index), _enum(), mode=0, text=str(index),
                          texton=str(index))
        select, number = p.obj("sel 0", (x, 220)), p.message(str(index), (x, 255))
        p.cord(pad, 0, select)
        p.cord(select, 1, number)  # a press (1) plays; a release (0) does nothing
        p.cord(number, 0, split)
    for column, control in enumerate(DIALS):
        x = 20 + 110 * column
        dial = _control(p, control, (x, 440), _dial_rect(control.name))
        slots = _slots(control)
        join = p.obj(f"join {len(slots)} @triggers {slots.index(control.arg)}", (x, 500))
        message = p.message(control.message, (x, 540))
        sources = {"pad": focus, control.arg: dial}  # other slots: a setting (morph's from and to pads)
        for inlet, slot in enumerate(slots):
            p.cord(sources.get(slot) or setting[(control.address, slot)], 0, join, inlet)
        p.cord(join, 0, message)
        p.cord(message, 0, send)


def _status(p: _Patch, send: str) -> None:
    """Poll /status and show the reply's fields; show the last /fail."""
    load = p.obj("loadmess 1", (20, 700))
    poll = p.parameter("live.toggle", "poll", (20, 730), POLL_RECT, _enum(1, _HIDDEN))
    metro, status = p.obj(f"metro {POLL_MS}", (20, 760)), p.message("/status", (20, 790))
    for a, b in ((load, poll), (poll, metro), (metro, status), (status, send)):
        p.cord(a, 0, b)
    receive = p.obj(f"udpreceive {REPLY_PORT}", (300, 700))
    route = p.obj("route /status.reply /fail", (300, 730))
    unpack = p.obj("unpack " + " ".join(_UNPACK_KIND[tag] for _, tag, _ in STATUS_FIELDS), (300, 770))
    p.cord(receive, 0, route)
    p.cord(route, 0, unpack)
    fields = [(name, tag) for name, tag, _ in STATUS_FIELDS]
    for row, name in enumerate(STATUS_SHOWN):
        tag = dict(fields)[name]
        x, y = STATUS_ORIGIN[0], STATUS_ORIGIN[1] + row * STATUS_ROW
        p.label(STATUS_LABELS.get(name, name), (x, y, 60, 16))
        unit, low, high = ("int", 0, MAX_INT32) if tag == "i" else ("float", -1.0, 1e6)  # -1: not known yet
        shown = p.parameter("live.numbox", f"status {name}", (300 + 90 * row, 820), (x + 62, y + 1, 56, 15),
                            _valueof(unit, low, high, None, _HIDDEN))
        p.cord(unpack, fields.index((name, tag)), shown)
    for outlet, source, rect, y in ((fields.index(("backend", "s")), unpack, BACKEND_RECT, 860),
                                    (1, route, FAIL_RECT, 900)):
        prepend = p.obj("prepend set", (300, y))
        p.cord(source, outlet, prepend)
        p.cord(prepend, 0, p.message("", (300, y + 30), present=rect))
    p.cord(route, 1, p.obj("print ganshot-fail", (500, 900)))


def build_doc() -> dict:
    """The device's patcher JSON document, ``{"patcher": {...}}``."""
    p = _Patch()
    p.box("comment", (20, 4, 700, 20), text=f"ganshot Max for Live device ({DEVICE_FORMAT} {DEVICE_VERSION}, "
          f"built by scripts/build_amxd.py). Start the engine: ganshot serve --osc-reply-port {REPLY_PORT}")
    send = p.obj(f"udpsend {SEND_HOST} {SEND_PORT}", (20, 620))
    midi_in, midi_out = p.obj(MIDI_THROUGH[0], (600, 620)), p.obj(MIDI_THROUGH[1], (600, 660))
    p.cord(midi_in, 0, midi_out)  # the track's notes go on to the ganshot MIDI port
    _controls(p, send)
    _status(p, send)
    for text, rect in LABELS:
        p.label(text, rect)
    rects = [e["box"]["presentation_rect"] for e in p.boxes if "presentation_rect" in e["box"]]
    width = max(x + w for x, _, w, _ in rects) + 4
    appversion = json.loads(MAXPAT.read_text(encoding="utf-8"))["patcher"]["appversion"]
    return {"patcher": {
        "fileversion": 1, "appversion": appversion, "classnamespace": "box", "rect": [40.0, 80.0, 1800.0, 1000.0],
        "openrect": [0.0, 0.0, width, float(STRIP_HEIGHT_PX)], "openinpresentation": 1,
        "default_fontsize": FONT_SIZE, "default_fontface": 0, "default_fontname": "Arial Bold",
        "gridonopen": 1, "gridsize": [8.0, 8.0], "gridsnaponopen": 1, "objectsnaponopen": 1,
        "statusbarvisible": 2, "toolbarvisible": 1, "devicewidth": width,
        "description": f"{DEVICE_FORMAT} {DEVICE_VERSION}: ganshot's OSC controller as a Max for Live MIDI effect",
        "digest": "", "tags": "ganshot", "style": "", "subpatcher_template": "",
        "boxes": p.boxes, "lines": p.lines, "parameters": {**p.parameters, "inherited_shortname": 1},
        "dependency_cache": [], "latency": 0, "is_mpe": 0, "minimum_live_version": "", "minimum_max_version": "",
        "platform_compatibility": 0, "autosave": 0,
    }}


def build() -> bytes:
    """The .amxd's bytes, checked before they are returned."""
    data = pack(build_doc(), DEVICE_TYPE)
    check(unpack(data))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the .amxd to write (or compare with --check)")
    parser.add_argument("--check", action="store_true", help="compare --out with a fresh build; write nothing")
    args = parser.parse_args(argv)
    try:
        data = build()
        if args.check:
            if not args.out.is_file() or args.out.read_bytes() != data:
                print(f"build_amxd: {args.out} is not a fresh build; run scripts/build_amxd.py", file=sys.stderr)
                return 1
            print(f"build_amxd: {args.out} is up to date ({len(data)} bytes)")
            return 0
        atomic_write_bytes(args.out, data)
    except (GanshotError, OSError) as err:
        print(f"build_amxd: error: {err}", file=sys.stderr)
        return 1
    print(f"build_amxd: wrote {args.out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
