"""bridges/max/ganshot.maxpat is valid Max patcher JSON that speaks ganshot's OSC address table.

No Max here: the checks are structural (every box and patch cord well formed, every cord between
an outlet and an inlet that exist) and semantic (every address it sends is in
:data:`ganshot.bridges.osc.addresses.ADDRESSES` with an argument count the table accepts; every
address it routes is a reply the server sends; its /status.reply unpacking matches
:data:`STATUS_FIELDS`).
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from ganshot.bridges.osc import server as osc_server
from ganshot.bridges.osc.addresses import ADDRESSES, STATUS_FIELDS, status_reply

PATCH = Path(__file__).resolve().parents[2] / "bridges" / "max" / "ganshot.maxpat"
#: The replies ganshot's OSC server sends (checked against its code below).
REPLIES = {"/status.reply", "/rendered", "/fail"}
SEND_HOST, SEND_PORT, REPLY_PORT = "127.0.0.1", 9000, 9001


@pytest.fixture(scope="module")
def patcher() -> dict:
    return json.loads(PATCH.read_text(encoding="utf-8"))["patcher"]


@pytest.fixture(scope="module")
def boxes(patcher) -> dict:
    return {entry["box"]["id"]: entry["box"] for entry in patcher["boxes"]}


def texts(boxes, maxclass: str) -> list[str]:
    return [b.get("text", "") for b in boxes.values() if b["maxclass"] == maxclass]


def objects(boxes, name: str) -> list[dict]:
    return [b for b in boxes.values() if b["maxclass"] == "newobj" and b.get("text", "").split()[:1] == [name]]


def test_the_patcher_header(patcher):
    assert patcher["fileversion"] == 1
    assert {"major", "minor", "revision"} <= set(patcher["appversion"])
    assert len(patcher["rect"]) == 4 and all(isinstance(v, (int, float)) for v in patcher["rect"])
    assert isinstance(patcher["boxes"], list) and isinstance(patcher["lines"], list)


def test_every_box_is_well_formed(patcher, boxes):
    assert len(boxes) == len(patcher["boxes"]), "box ids are not unique"
    for box in boxes.values():
        where = f"{box.get('id')} ({box.get('text', box.get('maxclass'))})"
        assert re.fullmatch(r"obj-\d+", box["id"]), where
        assert isinstance(box["maxclass"], str) and box["maxclass"], where
        rect = box["patching_rect"]
        assert len(rect) == 4 and all(isinstance(v, (int, float)) for v in rect) and rect[2] > 0 < rect[3], where
        for key in ("numinlets", "numoutlets"):
            assert isinstance(box[key], int) and box[key] >= 0, where
        if box["numoutlets"]:
            assert len(box["outlettype"]) == box["numoutlets"], where
        if "presentation_rect" in box:
            assert box.get("presentation") == 1 and len(box["presentation_rect"]) == 4, where
        if box["maxclass"] == "newobj":
            assert box.get("text", "").strip(), f"{where}: an empty object box"


def test_every_patch_cord_joins_an_existing_outlet_to_an_existing_inlet(patcher, boxes):
    assert patcher["lines"]
    seen = set()
    for entry in patcher["lines"]:
        line = entry["patchline"]
        (source, outlet), (destination, inlet) = line["source"], line["destination"]
        assert source in boxes and destination in boxes, line
        assert 0 <= outlet < boxes[source]["numoutlets"], (line, boxes[source])
        assert 0 <= inlet < boxes[destination]["numinlets"], (line, boxes[destination])
        key = (source, outlet, destination, inlet)
        assert key not in seen, f"duplicate cord {line}"
        seen.add(key)


def test_it_has_the_network_and_audio_objects(boxes):
    assert [b["text"] for b in objects(boxes, "udpsend")] == [f"udpsend {SEND_HOST} {SEND_PORT}"]
    assert [b["text"] for b in objects(boxes, "udpreceive")] == [f"udpreceive {REPLY_PORT}"]
    buffers = objects(boxes, "buffer~")
    assert len(buffers) == 1
    name = buffers[0]["text"].split()[1]
    assert name.startswith("---")  # Max for Live makes --- names local to each device
    assert [b["text"] for b in objects(boxes, "play~")] == [f"play~ {name}"]
    assert objects(boxes, "plugout~")  # a Max for Live device plays through plugout~


def _sent_messages(boxes) -> list[list[str]]:
    """Every OSC message the patch can send: message boxes and ``prepend`` objects whose first word
    is an address (``/pad/trigger $1 $2``, ``prepend /render 0`` followed by the latent)."""
    out = []
    for text in texts(boxes, "message"):
        words = text.split()
        if words and words[0].startswith("/"):
            out.append(words)
    for box in objects(boxes, "prepend"):
        words = box["text"].split()[1:]
        if words and words[0].startswith("/"):
            out.append(words + ["..."])  # the list that arrives follows these words
    return out


def test_every_address_it_sends_is_in_the_address_table_with_a_valid_argument_count(boxes):
    sent = _sent_messages(boxes)
    addresses = {words[0] for words in sent}
    assert {"/pad/trigger", "/pad/knob", "/pad/morph", "/focus", "/status", "/render"} <= addresses, addresses
    for words in sent:
        spec = ADDRESSES.get(words[0])
        assert spec is not None, f"{words[0]} is not in ganshot's OSC address table"
        count, open_ended = len(words) - 1, words[-1] == "..."
        variadic = bool(spec.args) and spec.args[-1].kind == "floats"
        required = sum(not a.optional for a in spec.args)
        if open_ended:
            assert variadic, f"{' '.join(words)}: {words[0]} takes a fixed argument list"
            assert count - 1 <= len(spec.args) - 1, words
        else:
            assert required <= count <= len(spec.args), f"{' '.join(words)}: {spec.address} takes {spec.args}"


def test_the_routed_replies_are_what_the_server_sends(boxes):
    assert status_reply({}, {}).address == "/status.reply"
    source = inspect.getsource(osc_server)
    assert all(f'"{address}"' in source for address in REPLIES - {"/status.reply"})
    routes = [b["text"].split()[1:] for b in objects(boxes, "route")]
    assert routes and all(set(words) <= REPLIES for words in routes), routes
    assert {word for words in routes for word in words} == REPLIES


def test_the_status_reply_is_unpacked_field_by_field(boxes):
    route = objects(boxes, "route")[0]
    cords = [e["patchline"] for e in json.loads(PATCH.read_text())["patcher"]["lines"]]
    status_outlet = route["text"].split()[1:].index("/status.reply")
    targets = [boxes[c["destination"][0]] for c in cords if c["source"] == [route["id"], status_outlet]]
    unpacks = [b for b in targets if b.get("text", "").startswith("unpack ")]
    assert len(unpacks) == 1, targets
    kinds = unpacks[0]["text"].split()[1:]
    want = [{"i": "0", "f": "0.", "s": "s"}[tag] for _, tag, _ in STATUS_FIELDS]
    assert kinds == want and unpacks[0]["numoutlets"] == len(STATUS_FIELDS)


def test_the_rendered_reply_loads_the_buffer(boxes):
    route = objects(boxes, "route")[0]
    cords = [e["patchline"] for e in json.loads(PATCH.read_text())["patcher"]["lines"]]

    def after(box_id, outlet):
        return [boxes[c["destination"][0]] for c in cords if c["source"] == [box_id, outlet]]

    outlet = route["text"].split()[1:].index("/rendered")
    (unpack,) = after(route["id"], outlet)
    assert unpack["text"] == "unpack 0 s 0 0"  # i:request_id s:wav_path i:frames i:sample_rate
    (replace,) = after(unpack["id"], 1)
    assert replace["text"] == "prepend replace"  # buffer~'s "replace PATH" reads and resizes
    (buffer,) = after(replace["id"], 0)
    assert buffer["text"].startswith("buffer~ ")
