"""bridges/max/ganshot.amxd is a fresh build of scripts/build_amxd.py, a well-formed .amxd, and
a Max for Live device that speaks ganshot's OSC address table.

There is no Max or Ableton Live on Linux, so nothing here opens the device in Live: the checks
are the container's bytes, the patch's structure (presentation inside Live's 169 px strip,
every pad and dial wired along hot inlets to ``udpsend`` with its message) and its messages
against :data:`~ganshot.bridges.osc.addresses.ADDRESSES`. Loading it in Live is a manual step
(the README's Max for Live section).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from ganshot.bridges.max import amxd
from ganshot.bridges.max.amxd import AmxdError, check, load, pack, unpack
from ganshot.bridges.max.device import (
    DEVICE_TYPE, DIALS, PADS, REPLY_PORT, SEND_HOST, SEND_PORT, SETTINGS, STATUS_SHOWN, STRIP_HEIGHT_PX,
    DeviceError,
)
from ganshot.bridges.osc import server as osc_server
from ganshot.bridges.osc.addresses import ADDRESSES, STATUS_FIELDS
from ganshot.bridges.osc.server import DEFAULT_HOST, DEFAULT_PORT
from ganshot.engine.errors import FormatError

ROOT = Path(__file__).resolve().parents[2]
DEVICE = ROOT / "bridges" / "max" / "ganshot.amxd"
MAXPAT = ROOT / "bridges" / "max" / "ganshot.maxpat"
SCRIPT = ROOT / "scripts" / "build_amxd.py"


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("build_amxd", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data() -> bytes:
    return DEVICE.read_bytes()


@pytest.fixture
def doc(data) -> dict:
    return unpack(data).doc


def boxes_of(doc: dict) -> dict:
    return {e["box"]["id"]: e["box"] for e in doc["patcher"]["boxes"]}


def named(doc: dict, name: str) -> dict:
    (box,) = [b for b in boxes_of(doc).values() if b.get("varname") == name]
    return box


def cords(doc: dict) -> list[dict]:
    return [e["patchline"] for e in doc["patcher"]["lines"]]


def drop_cords(doc: dict, keep) -> None:
    doc["patcher"]["lines"] = [e for e in doc["patcher"]["lines"] if keep(e["patchline"])]


def checked(doc: dict, device_type: str = DEVICE_TYPE):
    return check(unpack(pack(doc, device_type)))


def one_line(err: Exception) -> str:
    text = str(err)
    assert text and "\n" not in text
    return text


# --- the committed file is the build -----------------------------------------------------------

def test_the_committed_device_is_a_fresh_build(builder, data):
    assert builder.build() == data, "bridges/max/ganshot.amxd is stale: run .venv/bin/python scripts/build_amxd.py"


def test_the_script_writes_the_same_bytes_every_run_honouring_the_umask(tmp_path, data):
    outs = [tmp_path / "a.amxd", tmp_path / "b.amxd"]
    for out in outs:
        run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes() == data
    mask = os.umask(0)
    os.umask(mask)
    assert outs[0].stat().st_mode & 0o777 == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.amxd", "b.amxd"]  # no temp file left


def test_check_mode_reports_a_stale_file(tmp_path, data):
    stale = tmp_path / "ganshot.amxd"
    stale.write_bytes(data[:-1] + b"\1")
    fresh = subprocess.run([sys.executable, str(SCRIPT), "--check", "--out", str(DEVICE)], capture_output=True,
                           text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr
    run = subprocess.run([sys.executable, str(SCRIPT), "--check", "--out", str(stale)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 1 and "not a fresh build" in run.stderr and run.stderr.count("\n") == 1
    assert stale.read_bytes() == data[:-1] + b"\1"  # --check writes nothing


# --- the container -------------------------------------------------------------------------------

def test_the_container_layout(data):
    assert data[:12] == b"ampf" + struct.pack("<I", 4) + DEVICE_TYPE.encode()
    assert data[12:24] == b"meta" + struct.pack("<I", 4) + bytes(4)
    assert data[24:28] == b"ptch"
    (length,) = struct.unpack_from("<I", data, 28)
    assert length == len(data) - 32 and data.endswith(b"}\n\0")
    json.loads(data[32:-1].decode("utf-8"))


def test_the_validator_accepts_the_device(data, capsys):
    device = load(DEVICE)
    assert device.device_type == "mmmm" and "boxes=" in repr(device)
    report = check(device)
    assert (report.pads, report.dials, report.settings) == (16, len(DIALS), len(SETTINGS))
    assert set(report.addresses) == {"/pad/trigger", "/focus", "/pad/knob", "/pad/gain", "/pad/pan", "/pad/pitch",
                                     "/pad/morph", "/status"}
    assert amxd.main([str(DEVICE)]) == 0
    assert "ok (MIDI effect" in capsys.readouterr().out


def _with_length(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<I", value) + data[offset + 4:]


def _patch_bytes(payload: bytes) -> bytes:
    return b"ampf" + struct.pack("<I", 4) + b"mmmm" + b"meta" + struct.pack("<I", 4) + bytes(4) \
        + b"ptch" + struct.pack("<I", len(payload)) + payload


CORRUPT = {
    "empty file": (lambda d: b"", r"truncated: 0 bytes"),
    "wrong magic": (lambda d: b"AMPF" + d[4:], r"not an \.amxd"),
    "a .maxpat": (lambda d: MAXPAT.read_bytes(), r"not an \.amxd"),
    "unknown container version": (lambda d: _with_length(d, 4, 5), r"version 5 is not known"),
    "unknown device type": (lambda d: d[:8] + b"xxxx" + d[12:], r"unknown device type"),
    "header only": (lambda d: d[:12], r"truncated: the meta chunk header"),
    "cut in a chunk header": (lambda d: d[:27], r"truncated: the ptch chunk header"),
    "cut in the patch": (lambda d: d[:len(d) // 2], r"truncated: the ptch chunk says"),
    "last byte cut": (lambda d: d[:-1], r"truncated: the ptch chunk says"),
    "huge chunk length": (lambda d: _with_length(d, 28, 0xFFFFFFFF), r"more than the \d+ allowed"),
    "unknown chunk": (lambda d: d[:12] + b"junk" + d[16:], r"expected the meta chunk at byte 12"),
    "bytes after the patch": (lambda d: d + b"\0\0\0\0", r"4 unknown byte\(s\) after the ptch chunk"),
    "no NUL": (lambda d: _patch_bytes(b"{}"), r"does not end in a NUL"),
    "bad JSON": (lambda d: _patch_bytes(b'{"patcher": {\0'), r"not valid JSON"),
    "NaN": (lambda d: _patch_bytes(b'{"patcher": {"x": NaN}}\0'), r"NaN is not a JSON number"),
    "duplicate key": (lambda d: _patch_bytes(b'{"patcher": {}, "patcher": {}}\0'), r"a key appears twice"),
    "not UTF-8": (lambda d: _patch_bytes(b'{"patcher": "\xff"}\0'), r"not UTF-8 text: byte 13 is 0xff"),
    "a list, not an object": (lambda d: _patch_bytes(b"[]\0"), r'no "patcher" object'),
    "frozen": (lambda d: _patch_bytes(b"mx@c" + bytes(12)), r"frozen device"),
    "deep nesting": (lambda d: _patch_bytes(b"[" * 100000 + b"]" * 100000 + b"\0"), r"not valid JSON"),
}


@pytest.mark.parametrize("case", CORRUPT)
def test_the_reader_refuses_a_corrupt_file_with_one_line(data, case):
    corrupt, reason = CORRUPT[case]
    with pytest.raises(AmxdError, match=reason) as err:
        unpack(corrupt(data))
    one_line(err.value)


@pytest.mark.parametrize("cut", [1, 3, 4, 8, 11, 12, 16, 20, 23, 24, 28, 31, 32, 33, 1000])
def test_every_prefix_is_refused(data, cut):
    with pytest.raises(AmxdError, match="truncated"):
        unpack(data[:cut])


def test_main_prints_one_error_line_and_fails(tmp_path, capsys):
    bad = tmp_path / "bad.amxd"
    bad.write_bytes(b"ampf")
    missing = tmp_path / "missing.amxd"
    assert amxd.main([str(DEVICE), str(bad), str(missing)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith(f"{bad}: error: truncated") and "cannot read" in err[1]
    assert amxd.main([]) == 2


def test_pack_refuses_an_unknown_type_and_nan(doc):
    with pytest.raises(AmxdError, match="device type must be one of"):
        pack(doc, "zzzz")
    with pytest.raises(AmxdError, match="cannot be written as JSON"):
        pack({"patcher": {"x": float("nan")}}, DEVICE_TYPE)


# --- the device ----------------------------------------------------------------------------------

def _remove_box(doc: dict, name: str) -> None:
    box_id = named(doc, name)["id"]
    doc["patcher"]["boxes"] = [e for e in doc["patcher"]["boxes"] if e["box"]["id"] != box_id]
    drop_cords(doc, lambda c: box_id not in (c["source"][0], c["destination"][0]))


def _unwire(doc: dict, name: str) -> None:
    box_id = named(doc, name)["id"]
    drop_cords(doc, lambda c: c["source"][0] != box_id)


def _into_cold_inlet(doc: dict, name: str) -> None:
    box_id = named(doc, name)["id"]
    for cord in cords(doc):
        if cord["source"][0] == box_id:
            cord["destination"][1] = 0  # the join's inlet 0 only stores the focused pad


def _swap_pad_indices(doc: dict) -> None:
    boxes = boxes_of(doc)
    numbers = {b["text"]: b for b in boxes.values() if b["maxclass"] == "message" and b["text"] in ("3", "4")}
    numbers["3"]["text"], numbers["4"]["text"] = "4", "3"


def _set_text(doc: dict, first_word: str, text: str) -> None:
    (box,) = [b for b in boxes_of(doc).values() if b.get("text", "").split()[:1] == [first_word]]
    box["text"] = text


def _set_message(doc: dict, old: str, new: str) -> None:
    (box,) = [b for b in boxes_of(doc).values() if b["maxclass"] == "message" and b["text"] == old]
    box["text"] = new


def _value(doc: dict, name: str) -> dict:
    return named(doc, name)["saved_attribute_attributes"]["valueof"]


BROKEN = {
    "a missing pad": (lambda d: _remove_box(d, "pad 7"), r"no live\.text named 'pad 7'"),
    "a knob wired to nothing": (lambda d: _unwire(d, "d3"), r"\(d3\) must send \['/pad/knob \$1 3 \$2'\].*nothing"),
    "a knob into a cold inlet": (lambda d: _into_cold_inlet(d, "d5"), r"\(d5\) must send"),
    "a pad wired to nothing": (lambda d: _unwire(d, "pad 12"), r"\(pad 12\) must send"),
    "pads playing each other's index": (_swap_pad_indices, r"\(pad 3\) must play pad index 3"),
    "a hidden knob": (lambda d: named(d, "gain").pop("presentation"), r"\(gain\) is not shown"),
    "a knob of another class": (lambda d: named(d, "pan").update(maxclass="live.numbox"), r"must be a live\.dial"),
    "a range that drifted": (lambda d: _value(d, "pitch").update(parameter_mmax=12.0),
                             r"range .* the range of /pad/pitch"),
    "a velocity wired to nothing": (lambda d: _unwire(d, "velocity"), r"\(velocity\) is not wired to a /pad/trigger"),
    "two parameters of one name": (lambda d: _value(d, "d1").update(parameter_longname="d0") or
                                   named(d, "d1").update(varname="d0"), r"two Live parameters are named 'd0'"),
    "a varname unlike the long name": (lambda d: named(d, "d2").update(varname="x"), r"must equal its varname"),
    "the wrong send port": (lambda d: _set_text(d, "udpsend", f"udpsend {SEND_HOST} {SEND_PORT + 2}"),
                            r"one 'udpsend 127\.0\.0\.1 9000'"),
    "the wrong reply port": (lambda d: _set_text(d, "udpreceive", "udpreceive 9002"), r"one 'udpreceive 9001'"),
    "an unknown address": (lambda d: _set_message(d, "/pad/gain $1 $2", "/pad/volume $1 $2"),
                           r"sends /pad/volume, which is not in"),
    "a missing argument": (lambda d: _set_message(d, "/pad/pan $1 $2", "/pad/pan $1"), r"/pad/pan takes 2 to 2"),
    "no status poll": (lambda d: _set_message(d, "/status", "/status.json"), r"must poll /status"),
    "a status field unwired": (lambda d: _unwire(d, "status voices") or drop_cords(
        d, lambda c: c["destination"][0] != named(d, "status voices")["id"]), r"must show /status.reply field voices"),
    "the status unpack drifted": (lambda d: _set_text(d, "unpack", "unpack 0 0 0"), r"must go to one 'unpack"),
    "MIDI not passed on": (lambda d: drop_cords(d, lambda c: boxes_of(d)[c["source"][0]].get("text") != "midiin"),
                           r"wire midiin to midiout"),
    "opens in patching": (lambda d: d["patcher"].update(openinpresentation=0), r"open in presentation"),
    "another device format version": (lambda d: d["patcher"].update(description="ganshot-device 2"),
                                      r"version 2 is not known"),
    "not a ganshot device": (lambda d: d["patcher"].update(description=""), r"not a ganshot device"),
    "a cord to an inlet that does not exist": (lambda d: cords(d)[0]["destination"].__setitem__(1, 9), r"inlet 9"),
    "a cord from a box that does not exist": (lambda d: cords(d)[0]["source"].__setitem__(0, "obj-999"),
                                              r"a box that does not exist"),
    "a duplicate box id": (lambda d: d["patcher"]["boxes"].append(copy.deepcopy(d["patcher"]["boxes"][0])),
                           r"box id obj-1 is used twice"),
    "no boxes": (lambda d: d["patcher"].pop("boxes"), r"no patcher with boxes and lines"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_the_validator_refuses_a_broken_device_with_one_line(doc, case):
    damage, reason = BROKEN[case]
    damage(doc)
    with pytest.raises(DeviceError, match=reason) as err:
        checked(doc)
    one_line(err.value)


@pytest.mark.parametrize("device_type", ["aaaa", "iiii"])
def test_the_device_must_be_a_midi_effect(doc, device_type):
    with pytest.raises(DeviceError, match=r"is a MIDI effect \(mmmm\)"):
        checked(doc, device_type)


@pytest.mark.parametrize("y, height, ok", [
    (0, 28, True), (141, 28, True), (168, 1, True), (140.5, 28.5, True),
    (141.5, 28, False), (142, 28, False), (169, 1, False), (0, 170, False), (400, 28, False),
    (0, 0, False), (-1, 28, False), (10, -28, False),
])
def test_presentation_rects_must_fit_the_device_strip(doc, y, height, ok):
    rect = named(doc, "pad 5")["presentation_rect"]
    rect[1], rect[3] = y, height
    if ok:
        checked(doc)
    else:
        with pytest.raises(DeviceError, match="presentation_rect"):
            checked(doc)


@pytest.mark.parametrize("overhang, ok", [(-10, True), (-0.5, True), (0, True), (0.5, False), (1, False), (300, False)])
def test_presentation_rects_must_fit_the_device_width(doc, overhang, ok):
    rect = named(doc, "status rejected")["presentation_rect"]
    rect[0] = doc["patcher"]["devicewidth"] - rect[2] + overhang  # its right edge, past the device's by overhang
    if ok:
        checked(doc)
    else:
        with pytest.raises(DeviceError, match="past devicewidth"):
            checked(doc)


@pytest.mark.parametrize("rect", [[0, 0, 10], [0, 0, 10, "10"], [0, 0, 10, True], None])
def test_a_malformed_presentation_rect_is_refused(doc, rect):
    named(doc, "morph")["presentation_rect"] = rect
    with pytest.raises(DeviceError, match="must be 4 finite numbers"):
        checked(doc)


def test_every_presented_object_fits_the_strip(doc):
    shown = [b for b in boxes_of(doc).values() if b.get("presentation") == 1]
    assert len(shown) > len(PADS) + len(DIALS) + len(SETTINGS) + len(STATUS_SHOWN)
    for box in shown:
        x, y, w, h = box["presentation_rect"]
        assert 0 <= y and y + h <= STRIP_HEIGHT_PX and 0 <= x and x + w <= doc["patcher"]["devicewidth"], box


# --- what it sends and hears, checked against the OSC table directly -----------------------------

def test_every_address_it_sends_is_a_route_with_the_right_argument_count(doc):
    sent = [b["text"].split() for b in boxes_of(doc).values()
            if b["maxclass"] == "message" and b["text"].startswith("/")]
    assert len(sent) == 1 + 1 + len(DIALS) + 1  # /pad/trigger, /focus, one per dial, /status
    for address, *args in sent:
        spec = ADDRESSES[address]
        required = sum(not a.optional for a in spec.args)
        assert required <= len(args) <= len(spec.args), (address, args)
        fixed = [(a, w) for a, w in zip(spec.args, args) if not w.startswith("$")]
        for arg, word in fixed:  # a knob's fixed direction is in range
            assert arg.kind == "int" and arg.low <= int(word) <= arg.high, (address, word)


def test_it_sends_what_the_max_patch_sends(doc):
    patch = json.loads(MAXPAT.read_text(encoding="utf-8"))["patcher"]["boxes"]
    plain = {e["box"]["text"] for e in patch if e["box"]["maxclass"] == "message"
             and e["box"].get("text", "").startswith("/")}
    device = {b["text"] for b in boxes_of(doc).values() if b["maxclass"] == "message"}
    assert plain <= device, plain - device


def test_the_ports_are_the_engines(doc):
    texts = [b.get("text", "") for b in boxes_of(doc).values() if b["maxclass"] == "newobj"]
    assert f"udpsend {DEFAULT_HOST} {DEFAULT_PORT}" in texts and f"udpreceive {REPLY_PORT}" in texts


def test_the_routed_replies_are_what_the_server_sends(doc):
    source = Path(osc_server.__file__).read_text(encoding="utf-8")
    (route,) = [b["text"].split()[1:] for b in boxes_of(doc).values() if b.get("text", "").startswith("route ")]
    assert route == ["/status.reply", "/fail"] and '"/fail"' in source
    assert set(STATUS_SHOWN) <= {name for name, _, _ in STATUS_FIELDS}


def test_the_controls_cover_the_issue(doc):
    names = {b.get("varname") for b in boxes_of(doc).values()}
    assert set(PADS) | {f"d{k}" for k in range(8)} | {"gain", "pan", "pitch", "morph"} <= names
    assert all(named(doc, name)["maxclass"] == "live.text" for name in PADS)


def test_it_is_a_format_error_for_the_command_line():
    assert issubclass(AmxdError, FormatError) and issubclass(DeviceError, FormatError)
