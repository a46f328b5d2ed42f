"""What ganshot's Max for Live device holds, as tables, and the check of a device patcher against them.

Cheat sheet::

    from ganshot.bridges.max.device import check_device, PADS, DIALS, SETTINGS, STATUS_SHOWN
    report = check_device(doc, "mmmm")   # doc: the patcher JSON of an .amxd; DeviceError("one line") if wrong
    report.pads, report.dials, report.addresses                 # 16, 12, ("/focus", "/pad/gain", ...)

The device is a MIDI effect (``mmmm``): the engine plays its own audio (JACK or
sounddevice), so the device only sends OSC, and it passes the track's MIDI on
(``midiin`` -> ``midiout``) so the track's clips still reach the ``ganshot`` MIDI port.

Every control is a Live parameter whose ``varname`` is its ``parameter_longname``: the 16
pads ``pad 0`` .. ``pad 15`` (``live.text`` buttons: play the pad and focus it), the dials
(:data:`DIALS`: 8 latent directions ``d0`` .. ``d7``, ``gain``, ``pan``, ``pitch``, ``morph``;
each sends one OSC message for the focused pad) and the settings the pads and the morph read
(:data:`SETTINGS`). A control's range is the range of the :data:`~ganshot.bridges.osc.addresses.ADDRESSES`
argument it fills, so the device and the engine cannot disagree on it.

Wiring is followed along patch cords into hot inlets only (inlet 0; ``join N @triggers K``:
inlet K), so a knob wired into a cold inlet is refused as surely as one wired to nothing.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from ganshot.bridges.osc.addresses import ADDRESSES, STATUS_FIELDS
from ganshot.bridges.osc.server import DEFAULT_HOST, DEFAULT_PORT
from ganshot.engine.errors import FormatError

__all__ = [
    "Control", "DeviceError", "DeviceReport", "check_device", "sent_messages", "DEVICE_FORMAT", "DEVICE_VERSION",
    "DEVICE_TYPE", "STRIP_HEIGHT_PX", "SEND_HOST", "SEND_PORT", "REPLY_PORT", "PADS", "PAD_MESSAGES", "DIALS",
    "SETTINGS", "STATUS_SHOWN", "STATUS_LABELS", "MIDI_THROUGH", "UNIT_STYLES",
]

DEVICE_FORMAT, DEVICE_VERSION = "ganshot-device", 1  # written into the patcher's description
DEVICE_TYPE = "mmmm"  # a MIDI effect: see the module docstring
STRIP_HEIGHT_PX = 169  # Live's device view; every presented object must fit inside it
SEND_HOST, SEND_PORT = DEFAULT_HOST, DEFAULT_PORT  # where ganshot serve listens by default
REPLY_PORT = 9001  # the patches' reply port (README, ganshot.pd, ganshot.maxpat): serve --osc-reply-port 9001
MIDI_THROUGH = ("midiin", "midiout")
#: Live's parameter_unitstyle numbers, by the unit a control's value is in.
UNIT_STYLES = {"int": 0, "float": 1, "dB": 4, "pan": 6, "semitones": 7}
PAD_COUNT, KNOB_COUNT = 16, 8


@dataclass(frozen=True)
class Control:
    """A Live parameter of the device. ``name``: its varname and parameter long name. Its value
    fills argument ``arg`` of ``address`` (the range comes from that row of ADDRESSES).
    ``message``: the OSC message box it triggers (None: it only sets a value a pad or dial sends)."""

    name: str
    maxclass: str
    address: str
    arg: str
    message: str | None
    unit: str = "float"
    initial: float = 0.0

    @property
    def range(self) -> tuple[float, float]:
        spec = next(a for a in ADDRESSES[self.address].args if a.name == self.arg)
        return float(spec.low), float(spec.high)


PADS = tuple(f"pad {i}" for i in range(PAD_COUNT))
PAD_MESSAGES = frozenset({"/pad/trigger $1 $2", "/focus $1"})  # what one click sends
DIALS = (
    *(Control(f"d{k}", "live.dial", "/pad/knob", "value", f"/pad/knob $1 {k} $2") for k in range(KNOB_COUNT)),
    Control("gain", "live.dial", "/pad/gain", "gain_db", "/pad/gain $1 $2", "dB"),
    Control("pan", "live.dial", "/pad/pan", "pan", "/pad/pan $1 $2", "pan"),
    Control("pitch", "live.dial", "/pad/pitch", "semitones", "/pad/pitch $1 $2", "semitones"),
    Control("morph", "live.dial", "/pad/morph", "t", "/pad/morph $1 $2 $3 $4"),
)
SETTINGS = (
    Control("velocity", "live.dial", "/pad/trigger", "velocity", None, "float", 1.0),
    Control("focus", "live.numbox", "/focus", "pad", "/focus $1", "int", 0.0),
    Control("morph from", "live.numbox", "/pad/morph", "from_pad", None, "int", 0.0),
    Control("morph to", "live.numbox", "/pad/morph", "to_pad", None, "int", 1.0),
)
#: /status.reply fields the device shows (live.numbox ``status FIELD``), and their short labels.
STATUS_SHOWN = ("voices", "underflows", "late", "render_ms_p99", "rejected", "limiter_db")
STATUS_LABELS = {"render_ms_p99": "p99 ms", "limiter_db": "limit dB"}
_UNPACK_KIND = {"i": "0", "f": "0.", "s": "s"}  # Max's unpack argument per OSC type tag
_PARAMETER_CLASSES = ("live.dial", "live.numbox", "live.text", "live.toggle")
_VERSION = re.compile(rf"\b{DEVICE_FORMAT} (\d+)\b")


class DeviceError(FormatError):
    """A device patcher that is not a working ganshot device; ``str(err)`` names the first problem."""


@dataclass(frozen=True)
class DeviceReport:
    pads: int
    dials: int
    settings: int
    status_fields: tuple
    addresses: tuple  # every OSC address the device sends, sorted


def _words(box: dict) -> list[str]:
    return str(box.get("text", "")).split()


def _is_object(box: dict, name: str) -> bool:
    return box["maxclass"] == "newobj" and _words(box)[:1] == [name]


def _where(box: dict) -> str:
    return f"{box.get('id')} ({box.get('varname') or box.get('text') or box.get('maxclass')})"


def _finite_numbers(value, count: int) -> bool:
    return (isinstance(value, list) and len(value) == count
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value))


def _boxes(patcher: dict) -> dict:
    boxes = {}
    for entry in patcher.get("boxes", []):
        box = entry.get("box") if isinstance(entry, dict) else None
        if not isinstance(box, dict) or not isinstance(box.get("id"), str) or not isinstance(box.get("maxclass"), str):
            raise DeviceError(f"a box without an id and maxclass: {str(entry)[:60]}")
        if box["id"] in boxes:
            raise DeviceError(f"box id {box['id']} is used twice")
        for key in ("numinlets", "numoutlets"):
            if not isinstance(box.get(key), int) or box[key] < 0:
                raise DeviceError(f"{_where(box)}: {key} must be a whole number >= 0")
        if not _finite_numbers(box.get("patching_rect"), 4):
            raise DeviceError(f"{_where(box)}: patching_rect must be 4 finite numbers")
        boxes[box["id"]] = box
    return boxes


def _cords(patcher: dict, boxes: dict) -> list[tuple[str, int, str, int]]:
    cords = []
    for entry in patcher.get("lines", []):
        try:
            line = entry["patchline"]
            (source, outlet), (destination, inlet) = line["source"], line["destination"]
        except (KeyError, TypeError, ValueError):
            raise DeviceError(f"a patch cord without a source and destination: {str(entry)[:60]}") from None
        if source not in boxes or destination not in boxes:
            raise DeviceError(f"a patch cord joins a box that does not exist: {source} -> {destination}")
        if not (isinstance(outlet, int) and 0 <= outlet < boxes[source]["numoutlets"]):
            raise DeviceError(f"a patch cord leaves outlet {outlet} of {_where(boxes[source])}, which has none")
        if not (isinstance(inlet, int) and 0 <= inlet < boxes[destination]["numinlets"]):
            raise DeviceError(f"a patch cord enters inlet {inlet} of {_where(boxes[destination])}, which has none")
        cords.append((source, outlet, destination, inlet))
    return cords


def _hot_inlets(box: dict) -> set[int]:
    """The inlets that make a box output: 0, or a join's ``@triggers`` (-1: all)."""
    words = _words(box)
    if _is_object(box, "join") and "@triggers" in words[:-1]:
        trigger = int(words[words.index("@triggers") + 1])
        return set(range(box["numinlets"])) if trigger < 0 else {trigger}
    return {0}


def sent_messages(boxes: dict) -> list[str]:
    """The text of every message box that starts with an OSC address."""
    return [str(b.get("text", "")) for b in boxes.values()
            if b["maxclass"] == "message" and _words(b)[:1] and _words(b)[0].startswith("/")]


def _check_address(text: str) -> str:
    address, *args = text.split()
    spec = ADDRESSES.get(address)
    if spec is None:
        raise DeviceError(f"message '{text}' sends {address}, which is not in ganshot's OSC address table")
    required = sum(not a.optional for a in spec.args)
    if not required <= len(args) <= len(spec.args):
        raise DeviceError(f"message '{text}' has {len(args)} argument(s); "
                          f"{address} takes {required} to {len(spec.args)}")
    return address


def _one_object(boxes: dict, name: str, want: str) -> dict:
    found = [b for b in boxes.values() if _is_object(b, name)]
    if len(found) != 1 or _words(found[0]) != want.split():
        got = ", ".join(repr(b.get("text")) for b in found) or "none"
        raise DeviceError(f"the device needs one '{want}' (ganshot serve's ports), found {got}")
    return found[0]


class _Graph:
    """Patch cords as a graph that follows only cords into hot inlets."""

    def __init__(self, boxes: dict, cords: list):
        self.boxes, self.cords = boxes, cords
        self.hot = defaultdict(list)
        for source, outlet, destination, inlet in cords:
            if inlet in _hot_inlets(boxes[destination]):
                self.hot[source].append(destination)

    def reach(self, start: str, *, first_hop_any: bool = False) -> set[str]:
        """Boxes a message from ``start`` reaches (``first_hop_any``: its own cords may enter cold inlets)."""
        if first_hop_any:
            todo = [d for s, _, d, _ in self.cords if s == start]
        else:
            todo = list(self.hot[start])
        seen = set()
        while todo:
            box_id = todo.pop()
            if box_id not in seen:
                seen.add(box_id)
                todo.extend(self.hot[box_id])
        return seen

    def into(self, source: str, outlet: int) -> list[dict]:
        return [self.boxes[d] for s, o, d, _ in self.cords if (s, o) == (source, outlet)]


def _check_presentation(patcher: dict, boxes: dict) -> None:
    width = patcher.get("devicewidth", 0.0)
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width >= 0):
        raise DeviceError(f"devicewidth must be a finite number >= 0, got {width!r}")
    for box in boxes.values():
        if box.get("presentation") != 1:
            continue
        rect = box.get("presentation_rect")
        if not _finite_numbers(rect, 4):
            raise DeviceError(f"{_where(box)}: presentation_rect must be 4 finite numbers, got {rect!r}")
        x, y, w, h = rect
        if x < 0 or y < 0 or w <= 0 or h <= 0:
            raise DeviceError(f"{_where(box)}: presentation_rect {rect} must have x, y >= 0 and a positive size")
        if y + h > STRIP_HEIGHT_PX:
            raise DeviceError(f"{_where(box)}: presentation_rect {rect} ends at y={y + h:g}, below Live's "
                              f"{STRIP_HEIGHT_PX} px device strip")
        if width and x + w > width:
            raise DeviceError(f"{_where(box)}: presentation_rect {rect} ends at x={x + w:g}, "
                              f"past devicewidth {width:g}")


def _parameters(boxes: dict) -> dict:
    """Live parameters by long name; each must be named by its varname, once."""
    named = {}
    for box in boxes.values():
        if box["maxclass"] not in _PARAMETER_CLASSES:
            continue
        value = box.get("saved_attribute_attributes", {}).get("valueof", {})
        name = value.get("parameter_longname")
        if not name or name != box.get("varname"):
            raise DeviceError(f"{_where(box)}: parameter_longname {name!r} must equal its varname "
                              f"{box.get('varname')!r}")
        if name in named:
            raise DeviceError(f"two Live parameters are named {name!r} ({named[name]['id']}, {box['id']})")
        named[name] = box
    return named


def _control_box(named: dict, name: str, maxclass: str) -> dict:
    box = named.get(name)
    if box is None:
        raise DeviceError(f"the device has no {maxclass} named {name!r}")
    if box["maxclass"] != maxclass:
        raise DeviceError(f"{_where(box)} must be a {maxclass}, not a {box['maxclass']}")
    if box.get("presentation") != 1:
        raise DeviceError(f"{_where(box)} is not shown in the device (presentation 1)")
    return box


def _messages(graph: _Graph, reached: set[str], sending: set[str]) -> set[str]:
    return {str(graph.boxes[b]["text"]) for b in reached & sending}


def _check_controls(named: dict, graph: _Graph, sending: set[str]) -> None:
    for control in DIALS + SETTINGS:
        box = _control_box(named, control.name, control.maxclass)
        value = box["saved_attribute_attributes"]["valueof"]
        got = (value.get("parameter_mmin"), value.get("parameter_mmax"))
        if got != control.range:
            raise DeviceError(f"{_where(box)}: range {got} must be {control.range}, the range of "
                              f"{control.address}'s {control.arg}")
        sends = _messages(graph, graph.reach(box["id"]), sending)
        want = {control.message} if control.message else set()
        if sends != want:
            raise DeviceError(f"{_where(box)} must send {sorted(want) or 'nothing by itself'} to udpsend, "
                              f"it sends {sorted(sends) or 'nothing'}")
        fed = _messages(graph, graph.reach(box["id"], first_hop_any=True), sending)
        if not any(text.split()[0] == control.address for text in fed):
            raise DeviceError(f"{_where(box)} is not wired to a {control.address} message")
    for index, name in enumerate(PADS):
        box = _control_box(named, name, "live.text")
        reached = graph.reach(box["id"])
        sends = _messages(graph, reached, sending)
        if sends != PAD_MESSAGES:
            raise DeviceError(f"{_where(box)} must send {sorted(PAD_MESSAGES)} to udpsend, "
                              f"it sends {sorted(sends) or 'nothing'}")
        numbers = {str(graph.boxes[b]["text"]) for b in reached if graph.boxes[b]["maxclass"] == "message"
                   and re.fullmatch(r"\d+", str(graph.boxes[b].get("text", "")))}
        if numbers != {str(index)}:
            raise DeviceError(f"{_where(box)} must play pad index {index}, it sends {sorted(numbers) or 'no index'}")


def _check_status(named: dict, boxes: dict, graph: _Graph, receive: dict) -> None:
    routes = [b for b in graph.into(receive["id"], 0) if _is_object(b, "route") and "/status.reply" in _words(b)]
    if len(routes) != 1:
        raise DeviceError("udpreceive must feed one 'route ... /status.reply ...'")
    outlet = _words(routes[0])[1:].index("/status.reply")
    unpacks = [b for b in graph.into(routes[0]["id"], outlet) if _is_object(b, "unpack")]
    want = [_UNPACK_KIND[tag] for _, tag, _ in STATUS_FIELDS]
    if len(unpacks) != 1 or _words(unpacks[0])[1:] != want:
        raise DeviceError(f"/status.reply must go to one 'unpack {' '.join(want)}' (STATUS_FIELDS)")
    fields = [name for name, _, _ in STATUS_FIELDS]
    for field in STATUS_SHOWN:
        box = _control_box(named, f"status {field}", "live.numbox")
        if box not in graph.into(unpacks[0]["id"], fields.index(field)):
            raise DeviceError(f"{_where(box)} must show /status.reply field {field} "
                              f"(unpack outlet {fields.index(field)})")


def check_device(doc: dict, device_type: str) -> DeviceReport:
    """Check a device's patcher JSON (``{"patcher": {...}}``) and its .amxd device type.

    Raises :class:`DeviceError` naming the first problem found.
    """
    patcher = doc.get("patcher") if isinstance(doc, dict) else None
    if not isinstance(patcher, dict) or not isinstance(patcher.get("boxes"), list) \
            or not isinstance(patcher.get("lines"), list):
        raise DeviceError("the patch has no patcher with boxes and lines")
    found = _VERSION.search(str(patcher.get("description", "")))
    if found is None:
        raise DeviceError(f"not a ganshot device: its description does not name {DEVICE_FORMAT} {DEVICE_VERSION}")
    if int(found.group(1)) != DEVICE_VERSION:
        raise DeviceError(f"{DEVICE_FORMAT} version {found.group(1)} is not known "
                          f"(this ganshot reads {DEVICE_VERSION})")
    if device_type != DEVICE_TYPE:
        raise DeviceError(f"ganshot's device is a MIDI effect ({DEVICE_TYPE}), this file is {device_type!r}")
    if patcher.get("openinpresentation") != 1:
        raise DeviceError("the device must open in presentation (openinpresentation 1)")
    boxes = _boxes(patcher)
    cords = _cords(patcher, boxes)
    _check_presentation(patcher, boxes)
    graph = _Graph(boxes, cords)
    through = [(s, d) for s, _, d, _ in cords if _is_object(boxes[s], MIDI_THROUGH[0])
               and _is_object(boxes[d], MIDI_THROUGH[1])]
    if not through:
        raise DeviceError("a MIDI effect must pass MIDI on: wire midiin to midiout")
    send = _one_object(boxes, "udpsend", f"udpsend {SEND_HOST} {SEND_PORT}")
    receive = _one_object(boxes, "udpreceive", f"udpreceive {REPLY_PORT}")
    addresses = {_check_address(text) for text in sent_messages(boxes)}
    sending = {b for b in boxes if boxes[b]["maxclass"] == "message" and _words(boxes[b])[:1]
               and _words(boxes[b])[0].startswith("/") and send["id"] in graph.reach(b)}
    if "/status" not in _messages(graph, set(boxes), sending):
        raise DeviceError("the device must poll /status (a /status message wired to udpsend)")
    named = _parameters(boxes)
    _check_controls(named, graph, sending)
    _check_status(named, boxes, graph, receive)
    return DeviceReport(len(PADS), len(DIALS), len(SETTINGS), STATUS_SHOWN, tuple(sorted(addresses)))
