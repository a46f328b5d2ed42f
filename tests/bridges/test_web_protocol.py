"""The web page's wire format, pure: JSON commands -> OSC messages (and refusals with their reasons),
OSC replies -> events, Host and Origin checks, the page's own files. No sockets."""

from __future__ import annotations

import json
import re

import pytest

from ganshot.bridges.osc.addresses import ADDRESSES
from ganshot.bridges.osc.validate import Message, parse_datagram
from ganshot.bridges.web import cli as web_cli
from ganshot.bridges.web.protocol import (
    MAX_BODY_BYTES, WebError, allowed_hosts, check_host, check_origin, encode_command, parse_command, reply_event,
    sse_message,
)
from ganshot.bridges.web.state import control_ranges
from ganshot.bridges.web.thumbs import HEIGHT_PX, WIDTH_PX, ThumbCache, buffer_digest, thumbnail_png


def command(address, *args) -> bytes:
    return json.dumps({"address": address, "args": list(args)}).encode()


# -- JSON -> OSC --------------------------------------------------------------------------------

@pytest.mark.parametrize("body, tags, args", [
    (command("/pad/trigger", 3, 1.0), "if", (3, 1.0)),
    (command("/pad/trigger", 3), "i", (3,)),                       # the optional velocity left out
    (command("/pad/knob", 0, 2, -0.5), "iif", (0, 2, -0.5)),
    (command("/pad/random", 1, 2**40), "ih", (1, 2**40)),          # a seed past 32 bits: OSC's h
    (command("/pad/class", 0, "kick"), "is", (0, "kick")),
    (command("/pad/trigger", 3.0, 1), "fi", (3.0, 1)),             # 3.0 for a pad, as Max sends: OSC allows it
    (b'{"address": "/panic"}', "", ()),                              # args may be left out
    (command("/pad/xy", 0, 0, 1), "iii", (0, 0, 1)),
])
def test_a_command_becomes_the_osc_message_a_patch_would_send(body, tags, args):
    message = parse_command(body)
    assert (message.tags, message.args) == (tags, args)
    assert parse_datagram(encode_command(message)) == message  # the very datagram the OSC server reads


@pytest.mark.parametrize("body, status, reason", [
    (b"", 400, "malformed JSON"),
    (b"{", 400, "malformed JSON"),
    (b"\xff\xfe", 400, "not UTF-8"),
    (b'{"address": "/pad/trigger", "args": [0, NaN]}', 400, "NaN"),
    (b'{"address": "/pad/trigger", "address": "/panic"}', 400, "duplicate key"),
    (b"[1, 2]", 400, "JSON object"),
    (b'"hello"', 400, "JSON object"),
    (b'{"args": []}', 400, "address must be a string"),
    (b'{"address": 7}', 400, "address must be a string"),
    (b'{"address": "/nope"}', 400, "unknown address '/nope'"),
    (b'{"address": "pad/trigger", "args": [0]}', 400, "unknown address"),
    (b'{"address": "/pad/trigger", "args": 0}', 400, "args must be a list"),
    (b'{"address": "/pad/trigger", "args": [0], "at": 1}', 400, "unknown key 'at'"),
    (command("/pad/trigger", True), 400, "args[0] must be a number or a string, got true"),
    (command("/pad/trigger", None), 400, "got null"),
    (command("/pad/trigger", [0]), 400, "got a list"),
    (command("/pad/trigger", {"pad": 0}), 400, "got a dict"),
    (command("/pad/trigger", 2**70), 400, "outside 64-bit integers"),
    (command("/pad/trigger"), 400, "/pad/trigger takes 1 to 2 argument(s), got 0"),
    (command("/pad/trigger", 0, 1.0, 1.0), 400, "takes 1 to 2 argument(s), got 3"),
    (command("/pad/trigger", 0.5), 400, "pad must be an integer"),
    (command("/pad/trigger", 0, 1.5), 400, "velocity must be in [0, 1], got 1.5"),
    (command("/pad/trigger", -1), 400, "pad must be in [0, 127], got -1"),
    (command("/pad/knob", 0, 0, 1e300), 400, "value must be in [-1, 1]"),   # past float32: sent as d, refused by range
    (command("/pad/gain", 0, "loud"), 400, "gain_db must be a number"),
    (command("/pad/class", 0, 3), 400, "class_name must be a string"),
    (b" " * (MAX_BODY_BYTES + 1), 413, "larger than"),
])
def test_a_bad_command_is_refused_with_one_clear_line(body, status, reason):
    with pytest.raises(WebError) as err:
        parse_command(body)
    assert err.value.status == status
    assert reason in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(WebError, match="malformed JSON"):
        parse_command(b"[" * 60_000 + b"]" * 60_000)


def test_every_osc_address_can_be_sent_from_the_page():
    """The page speaks the whole OSC address space: nothing is filtered out on the way."""
    def sample(arg):  # the lowest value the table allows
        if arg.kind == "str":
            return "x.json"
        low = 0 if arg.low is None else arg.low
        return int(low) if arg.kind == "int" else float(low)

    for address, spec in ADDRESSES.items():
        args = [sample(arg) for arg in spec.args if not arg.optional]
        if address == "/note":
            args = [36, 100]
        if address == "/pad/match":
            args = [0, "hit.wav"]
        assert parse_command(command(address, *args)).address == address


# -- OSC replies -> events, SSE framing ---------------------------------------------------------

def test_replies_become_events():
    assert reply_event(Message("/fail", "ss", ("/pad/trigger", "pad must be in [0, 3], got 9"))) == (
        "fail", {"address": "/pad/trigger", "reason": "pad must be in [0, 3], got 9"})
    assert reply_event(Message("/matched", "if", (2, 0.25))) == ("reply", {"address": "/matched", "args": [2, 0.25]})
    assert reply_event(Message("/x", "fb", (float("nan"), b"1234"))) == ("reply", {"address": "/x", "args": [None, 4]})


def test_an_sse_message_is_one_event_with_one_data_line():
    chunk = sse_message("status", {"reason": "two\nlines", "v": 1})
    assert chunk == b'event: status\ndata: {"reason":"two\\nlines","v":1}\n\n'
    with pytest.raises(ValueError):
        sse_message("bad\nname", {})
    with pytest.raises(ValueError):
        sse_message("status", {"v": float("nan")})


# -- Host and Origin -----------------------------------------------------------------------------

def test_only_this_servers_host_names_are_answered():
    hosts = allowed_hosts("127.0.0.1", 8080)
    for ok in ("127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080"):
        check_host(ok, hosts)
    for bad in ("evil.example:8080", "127.0.0.1:9090", "127.0.0.1", "", None):
        with pytest.raises(WebError) as err:
            check_host(bad, hosts)
        assert err.value.status == 403
    assert allowed_hosts("::1", 80) >= {"[::1]:80", "[::1]", "localhost"}
    assert allowed_hosts("0.0.0.0", 8080) is None  # a wildcard bind's names are unknown: any
    check_host("192.168.1.9:8080", None)


def test_a_command_from_another_sites_page_is_refused():
    check_origin(None, "127.0.0.1:8080")  # curl, scripts
    check_origin("http://127.0.0.1:8080", "127.0.0.1:8080")
    for origin in ("http://evil.example", "http://127.0.0.1:8081", "null"):
        with pytest.raises(WebError, match="is not this page") as err:
            check_origin(origin, "127.0.0.1:8080")
        assert err.value.status == 403


# -- flags, ranges, page, thumbnails -----------------------------------------------------------------

def test_web_defaults_and_flag_checks():
    from ganshot.bridges.web import server

    assert (web_cli.DEFAULT_HOST, web_cli.DEFAULT_PORT) == (server.DEFAULT_HOST, server.DEFAULT_PORT)
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--no-osc", action="store_true")
    web_cli.add_web_arguments(parser)
    web_cli.check_web_arguments(parser.parse_args([]))
    web_cli.check_web_arguments(parser.parse_args(["--web"]))
    for flags, reason in ((["--web", "--no-osc"], "drop --no-osc"), (["--web-remote"], "only applies with --web"),
                          (["--web", "--web-allow", "10.0.0.0/8"], "only applies with --web-remote")):
        with pytest.raises(Exception, match=re.escape(reason)):
            web_cli.check_web_arguments(parser.parse_args(flags))
    assert web_cli.start_web(None, None, parser.parse_args([])) is None


def test_the_sliders_offer_exactly_the_osc_ranges():
    ranges = control_ranges()
    assert ranges["direction"] == [-1.0, 1.0] and ranges["velocity"] == [0.0, 1.0]
    assert ranges["gain_db"] == [ADDRESSES["/pad/gain"].args[1].low, ADDRESSES["/pad/gain"].args[1].high]


def test_the_page_loads_nothing_from_elsewhere():
    from ganshot.bridges.web.server import PAGE_PATH

    page = PAGE_PATH.read_text()
    assert "<script>" in page and "<style>" in page
    assert not re.search(r"(src|href)\s*=\s*[\"'](https?:)?//", page), "an external asset"
    assert "http://" not in page and "https://" not in page
    for route in ("/api/command", "/events", "/api/thumb/", "/api/map"):
        assert route in page


def test_thumbnails_are_pngs_named_by_their_sound():
    import numpy as np

    rng = np.random.default_rng(0)
    hit = (rng.standard_normal(4800) * np.exp(-np.arange(4800) / 800)).astype(np.float32)
    png = thumbnail_png(hit, 48000)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == WIDTH_PX and int.from_bytes(png[20:24], "big") == HEIGHT_PX
    assert png[25] == 2  # RGB
    assert thumbnail_png(None, 48000).startswith(b"\x89PNG")
    assert buffer_digest(hit) == buffer_digest(hit.copy()) != buffer_digest(hit * 0.5)
    assert buffer_digest(None) == "none"
    cache = ThumbCache(48000, max_cached=2)
    assert cache.png(hit) == cache.png(hit.copy()) and cache.drawn == 1
    for scale in (0.1, 0.2, 0.3):
        cache.png(hit * scale)
    assert cache.drawn == 4 and len(cache._pngs) == 2  # bounded
