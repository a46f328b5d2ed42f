"""The web server in this process, with a real Engine (tiny model, no audio device) and a real
OSC server on loopback: the page's commands reach the engine through OSC, refusals come back
as one-line HTTP errors or as the OSC server's /fail on the event stream, floods and idle
connections are bounded. Only state is asserted (polled with generous timeouts), never time."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from ganshot.bridges.osc.server import OscServer
from ganshot.bridges.web.protocol import MAX_BODY_BYTES
from ganshot.bridges.web.server import WebServer
from tests.support import kit_for
from tests.support.web import EventReader, http, poll


@pytest.fixture
def served(tiny_bundle, tmp_path):
    """(engine, osc server, web server), all on loopback ports of their own."""
    from ganshot.engine.engine import Engine

    engine = Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=48000, backend="onnx")
    osc = OscServer(engine, port=0, kit_dir=tmp_path, render_dir=tmp_path / "renders").start()
    web = WebServer(engine, osc, port=0, tick_s=0.1, max_connections=4).start()
    try:
        yield engine, osc, web
    finally:
        web.close()
        osc.close()
        engine.close()


def post(web, data=None, **kwargs):
    return http(web.url + "api/command", "POST", data, **kwargs)


def test_the_page_is_served_with_a_policy_that_forbids_other_origins(served):
    _, _, web = served
    status, headers, body = http(web.url)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"<title>ganshot</title>" in body
    assert "default-src 'none'" in headers["content-security-policy"]


def test_a_posted_trigger_plays_the_pad_through_osc(served):
    engine, osc, web = served
    before = engine.status()["triggers"]
    status, _, body = post(web, {"address": "/pad/trigger", "args": [1, 0.8]})
    assert (status, json.loads(body)) == (202, {"sent": True})
    poll(lambda: engine.status()["triggers"] > before, "the engine counting the trigger")
    assert engine.focus == 1
    poll(lambda: osc.counters()["accepted"] >= 1, "the OSC server accepting it")  # it came through OSC


def test_a_knob_rerenders_the_pad_and_its_thumbnail_follows(served):
    engine, _, web = served
    old = json.loads(http(web.url + "api/state")[2])["pads"][0]["buffer"]
    assert post(web, {"address": "/pad/knob", "args": [0, 0, 1.0]})[0] == 202
    new = poll(lambda: (b := json.loads(http(web.url + "api/state")[2])["pads"][0]["buffer"]) != old and b,
               "pad 0's buffer changing")
    assert engine.kit.pads[0].directions[0] == 1.0
    status, headers, png = http(web.url + f"api/thumb/0.png?v={new}")
    assert status == 200 and png.startswith(b"\x89PNG") and headers["x-buffer-digest"] == new
    assert headers["cache-control"] == "max-age=3600"
    assert http(web.url + "api/thumb/9.png")[0] == 404  # past the kit's 4 pads


def test_what_only_the_engine_can_refuse_comes_back_as_the_osc_fail_event(served):
    _, _, web = served
    events = EventReader(web.url + "events")
    try:
        assert events.wait_for("state")["kit_pads"] == 4
        assert post(web, {"address": "/pad/trigger", "args": [9]})[0] == 202  # in the table's range: sent
        fail = events.wait_for("fail")
        assert fail["address"] == "/pad/trigger" and "in [0, 3], got 9" in fail["reason"]
        status = events.wait_for("status", lambda s: s["web"]["fails"] >= 1)
        assert status["backend"].startswith("onnx") and "voices" in status and status["osc"]["rejected"] >= 1
    finally:
        events.close()


@pytest.mark.parametrize("kwargs, status, reason", [
    ({"raw": b"{not json"}, 400, "malformed JSON"),
    ({"data": {"address": "/pad/knob", "args": [0, 0, 2.0]}}, 400, "value must be in [-1, 1], got 2"),
    ({"data": {"address": "/nope", "args": []}}, 400, "unknown address"),
    ({"data": {"address": "/panic"}, "headers": {"Content-Type": "text/plain"}}, 415, "application/json"),
    ({"data": {"address": "/panic"}, "headers": {"Origin": "http://evil.example"}}, 403, "is not this page"),
    ({"data": {"address": "/panic"}, "headers": {"Host": "evil.example:80"}}, 403, "is not this server's"),
    ({"raw": b"x" * (MAX_BODY_BYTES + 1)}, 413, "larger than"),
])
def test_bad_requests_get_an_http_error_and_one_line(served, kwargs, status, reason):
    engine, osc, web = served
    got, _, body = post(web, **kwargs)
    assert got == status
    error = json.loads(body)["error"]
    assert reason in error and "\n" not in error
    assert osc.counters()["received"] == 0  # nothing refused here reached the OSC server
    assert http(web.url + "api/status")[0] == 200  # and the server answers on


def test_unknown_paths_and_methods(served):
    _, _, web = served
    assert http(web.url + "nope")[0] == 404
    assert http(web.url + "api/command")[0] == 405
    assert http(web.url + "api/state", "POST", {})[0] == 405
    assert http(web.url + "api/map")[0] == 404  # no timbre map loaded
    assert http(web.url, "DELETE")[0] == 501


def test_a_flood_of_commands_is_answered_and_nothing_stalls(served):
    """Three senders, 300 commands, 4 connection threads: each command is sent to the OSC server
    (202), or refused at once (503: every thread busy, or the OSC socket full), never queued."""
    engine, osc, web = served
    answers: list = []

    def sender(pad):
        for i in range(100):
            try:
                answers.append(post(web, {"address": "/pad/pan", "args": [pad, (i % 21 - 10) / 10]})[0])
            except ConnectionError:  # refused past the connection bound while the request was going out
                answers.append("refused")

    threads = [threading.Thread(target=sender, args=(pad,)) for pad in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert len(answers) == 300 and set(answers) <= {202, 503, "refused"}, set(answers)
    counters = web.counters()
    assert counters["sent"] == answers.count(202) > 0
    assert counters["connections_refused"] + counters["send_dropped"] >= 300 - answers.count(202)
    poll(lambda: osc.counters()["received"] + osc.counters()["socket_drops"] >= counters["sent"],
         "the OSC server reading every datagram sent")
    poll(lambda: engine.kit.pads[2].pan != 0.0, "the pans reaching the engine")
    assert http(web.url + "api/status")[0] == 200


def test_connections_past_the_bound_are_refused_not_queued(served):
    _, _, web = served
    idle = [socket.create_connection(("127.0.0.1", web.port)) for _ in range(4)]  # hold every thread
    try:
        poll(lambda: web.counters()["requests"] == 0 and _refused(web), "a fifth connection refused with 503")
    finally:
        for sock in idle:
            sock.close()
    poll(lambda: http(web.url + "api/status")[0] == 200, "the server answering again once they closed")


def _refused(web) -> bool:
    with socket.create_connection(("127.0.0.1", web.port), timeout=30) as sock:
        return sock.recv(100).startswith(b"HTTP/1.1 503")


def test_closing_ends_the_open_event_streams(served):
    _, _, web = served
    events = EventReader(web.url + "events")
    events.wait_for("status")
    web.close()
    assert events.ended.wait(30), "the event stream did not end"
    events.close()


@pytest.mark.parametrize("flags, reason", [(["--web", "--no-osc"], "drop --no-osc"),
                                           (["--web-remote"], "--web-remote only applies with --web")])
def test_serve_refuses_web_flags_that_cannot_work_in_one_line(flags, reason):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "ganshot", "serve", *flags], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"ganshot: error: {done.stderr.split('error: ', 1)[1].strip()}"]
    assert reason in done.stderr
