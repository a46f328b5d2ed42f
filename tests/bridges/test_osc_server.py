"""The OSC server over real UDP on 127.0.0.1 (ephemeral ports), python-osc as the peer: replies,
renders, refusals and their rate limits, the socket buffer under a flood, binding, flags, model swaps.
Dispatch (bundle timing, knob edits coalescing in a pass) is in test_osc_dispatch.py."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import socket
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

from ganshot.bridges.osc.cli import add_osc_arguments, start_osc
from ganshot.bridges.osc.render_cache import RenderCache
from ganshot.bridges.osc.server import RateLimiter, is_allowed
from ganshot.bridges.osc.validate import encode_message
from ganshot.engine.errors import UserInputError
from ganshot.engine.latent import seeded_latent
from tests.support.osc_corpus import MALFORMED
from tests.support.osc_peer import OSC_FIXTURES, RATE, Peer, status_values, wait_for

NEXT_MESSAGE_S = 0.050  # the next valid message is answered this soon after a malformed one
UDP_MAX_DATAGRAM = 60000  # the server limit in these tests: an oversized datagram still fits in UDP


engine_fixture, make_server_fixture, peer_for_fixture = OSC_FIXTURES  # engine, make_server, peer_for


def test_status_is_answered_to_a_python_osc_client(engine, make_server):
    server = make_server(engine)
    client = SimpleUDPClient("127.0.0.1", server.port)
    try:
        client.send_message("/status", [])
        reply = OscMessage(client.receive(2.0))
    finally:
        client.close()
    assert reply.address == "/status.reply"
    values = status_values(reply)
    assert values["sample_rate"] == RATE and values["backend"].startswith("onnx")
    assert values["renders"] >= 4 and values["received"] == 1
    assert values["accepted"] == 0  # counters as they stood when the request arrived


def test_trigger_and_reply_port(engine, make_server, peer_for):
    listener = Peer(0)  # a peer that only listens: replies go to --reply-port, not the source port
    try:
        server = make_server(engine, reply_port=listener.sock.getsockname()[1])
        sender = peer_for(server)
        sender.send("/pad/trigger", 0, 1.0)
        assert wait_for(lambda: engine.status()["triggers"] == 1)
        sender.send("/status")
        assert status_values(listener.expect("/status.reply"))["received"] == 2
    finally:
        listener.close()


def test_render_writes_a_wav_with_the_right_frames(engine, make_server, peer_for, tmp_path):
    server = make_server(engine, render_max_files=2)
    peer = peer_for(server)
    z = seeded_latent(5, engine.bundle.latent_dim)
    paths = []
    for request_id in (7, 8, 9):
        peer.send("/render", request_id, *map(float, z))
        reply = peer.expect("/rendered", timeout=10.0)
        rid, path, frames, rate = reply.params
        assert rid == request_id and rate == RATE
        audio, file_rate = sf.read(path, dtype="float32")
        assert file_rate == RATE and len(audio) == frames
        np.testing.assert_array_equal(audio, engine.worker.render_now(z))
        paths.append(path)
    assert sorted(p.name for p in (tmp_path / "renders").iterdir()) == sorted(p.split("/")[-1] for p in paths[1:])
    peer.send("/render", 10, 1.0, 2.0)  # wrong latent size: refused by the render thread
    assert "z must be float32[8]" in peer.expect("/fail", timeout=10.0).params[1]


def test_pad_match_finds_a_sound_on_the_render_thread_and_replies(engine, make_server, peer_for, tmp_path):
    server = make_server(engine)
    peer = peer_for(server)
    z = seeded_latent(4242, engine.bundle.latent_dim)
    own = engine.runtime.render(z[None])[0]  # one of the model's own sounds: it can be found closely
    sf.write(tmp_path / "mine.wav", own, engine.bundle.sample_rate)
    before = engine.pad_latent(1).copy()
    peer.send("/pad/match", 1, "mine.wav")
    pad, distance = peer.expect("/matched", timeout=60.0).params
    assert pad == 1 and 0.0 <= distance < 1.0
    assert not np.array_equal(engine.pad_latent(1), before) and engine.kit.pads[1].seed is None
    peer.send("/pad/match", 1, "../outside.wav")  # only the kit folder
    assert "inside the kit folder" in peer.expect("/fail", timeout=10.0).params[1]
    peer.send("/pad/match", 1, "notes.txt")
    assert "must end in .wav or .flac" in peer.expect("/fail", timeout=10.0).params[1]
    peer.send("/pad/match", 1, "missing.wav")  # refused on the render thread, in one line
    assert "no such file" in peer.expect("/fail", timeout=60.0).params[1]
    peer.send("/pad/match", 99, "mine.wav")
    assert "/pad/match" in peer.expect("/fail", timeout=10.0).params[0]


def test_malformed_corpus_gets_fail_and_the_server_keeps_serving(engine, make_server, peer_for, caplog):
    caplog.set_level(logging.WARNING, logger="ganshot.bridges.osc.server")
    server = make_server(engine, max_datagram_bytes=UDP_MAX_DATAGRAM, log_burst=5, log_per_s=0.01)
    peer = peer_for(server)
    corpus = dict(MALFORMED)
    corpus["oversized"] = (b"/x\x00\x00,\x00\x00\x00" + b"\x00" * UDP_MAX_DATAGRAM, "over the 60000-byte limit")
    corpus["bad message in a good datagram"] = (b"/pad/gain\x00\x00\x00,if\x00\x00\x00\x00\x00\x42\x20\x00\x00",
                                                "gain_db must be in [-60, 12], got 40")
    slowest = 0.0
    for name, (data, reason) in corpus.items():
        peer.send_raw(data)
        fail = peer.expect("/fail")
        assert reason in fail.params[1], name
        started = time.perf_counter()
        peer.send("/status")
        peer.expect("/status.reply")
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < NEXT_MESSAGE_S
    counters = server.counters()
    assert counters["rejected"] == len(corpus) and counters["accepted"] == len(corpus)
    assert counters["received"] == 2 * len(corpus) and counters["dropped"] == 0
    logged = [r.getMessage() for r in caplog.records if r.name == "ganshot.bridges.osc.server"]
    assert len(logged) == 5 and "refused: empty datagram" in logged[0]  # logged with the reason, rate-limited


def test_fail_replies_are_rate_limited(engine, make_server, peer_for):
    server = make_server(engine, fail_burst=5, fail_per_s=0.01)
    peer = peer_for(server)
    for _ in range(50):
        peer.send_raw(MALFORMED["negative bundle element size"][0])
    assert wait_for(lambda: server.counters()["rejected"] == 50)
    counters = server.counters()
    assert counters["fails_sent"] == 5 and counters["fails_suppressed"] == 45
    peer.send("/status")
    assert status_values(peer.expect("/status.reply"))["rejected"] == 50  # and still serving


class BlockedEngine:
    """The real engine, whose first knob edit waits until the test lets it go: the io thread
    stops reading while a flood arrives, so the socket buffer fills and the kernel drops."""

    def __init__(self, engine):
        self._engine, self.go = engine, threading.Event()

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def apply(self, target, value):
        self.go.wait(10.0)
        self._engine.apply(target, value)


def test_flood_is_bounded_by_the_socket_buffer_and_drops_are_counted(engine, make_server, peer_for):
    blocked = BlockedEngine(engine)
    server = make_server(blocked, buffer_kib=16)  # a few dozen small datagrams wait, no more
    peer = peer_for(server)
    sent = 2000
    for i in range(sent):
        peer.send_raw(_gain(i % 4, -float(i % 7)))
    blocked.go.set()

    def settled():  # every datagram sent is accounted for: read by the server, or dropped by the kernel
        c = server.counters()
        return c["received"] + c["socket_drops"] == sent and c["received"] == c["accepted"] + c["rejected"]

    assert wait_for(settled, timeout=10.0)
    counters = server.counters()
    assert counters["socket_drops"] > 0 and counters["dropped"] == counters["socket_drops"]
    assert counters["received"] < 200 and counters["rejected"] == 0 and counters["fails_sent"] == 0
    assert counters["socket_buffer_bytes"] <= 4 * 16 * 1024 and counters["batch_max"] <= 64
    started = time.perf_counter()
    peer.send_raw(_gain(3, -5.5))
    peer.send("/status")
    assert status_values(peer.expect("/status.reply"))["dropped"] == counters["dropped"]
    assert time.perf_counter() - started < NEXT_MESSAGE_S
    assert engine.kit.pads[3].gain_db == -5.5  # still serving, and the edit before /status was applied


def _gain(pad: int, gain_db: float) -> bytes:
    return encode_message("/pad/gain", "if", (pad, gain_db))



def test_allow_list_and_binding():
    allow = (ipaddress.ip_network("192.168.1.0/24"),)
    assert is_allowed("192.168.1.77", allow) and is_allowed("127.0.0.1", allow) and is_allowed("::1", allow)
    assert is_allowed("::ffff:192.168.1.5", allow)
    assert not is_allowed("192.168.2.1", allow) and not is_allowed("10.0.0.1", allow)
    assert is_allowed("10.0.0.1", ())


def test_non_loopback_bind_needs_the_flag(engine, make_server):
    with pytest.raises(UserInputError, match="needs --osc-remote"):
        make_server(engine, host="0.0.0.0")
    server = make_server(engine, host="0.0.0.0", allow_remote=True, allow=["192.168.1.0/24"])
    assert server.remote and server.port > 0
    with pytest.raises(UserInputError, match="--osc-allow"):
        make_server(engine, host="0.0.0.0", allow_remote=True, allow=["192.168.1.300/24"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        with pytest.raises(UserInputError, match="cannot listen for OSC on 127.0.0.1:.*--osc-port"):
            make_server(engine, port=taken.getsockname()[1])


def test_cli_flags(engine, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_osc_arguments(parser)
    args = parser.parse_args(["--osc-port", "0", "--reply-port", "9001", "--max-ahead", "2",
                              "--osc-render-dir", str(tmp_path / "r"), "--osc-kit-dir", str(tmp_path)])
    server = start_osc(engine, args)
    try:
        assert server.port > 0 and server.reply_port == 9001 and server.max_ahead_s == 2.0
        assert f"OSC on 127.0.0.1:{server.port}" in capsys.readouterr().err
    finally:
        server.close()
    assert start_osc(engine, parser.parse_args(["--no-osc"])) is None
    with pytest.raises(UserInputError, match="needs --osc-remote"):
        start_osc(engine, parser.parse_args(["--osc-port", "0", "--osc-host", "0.0.0.0"]))
    with pytest.raises(UserInputError, match="only applies with --osc-remote"):
        start_osc(engine, parser.parse_args(["--osc-allow", "10.0.0.0/8"]))
    args = parser.parse_args(["--osc-port", "0", "--osc-host", "0.0.0.0", "--osc-remote", "--osc-allow", "10.0.0.0/8",
                              "--osc-render-dir", str(tmp_path / "r")])
    start_osc(engine, args).close()
    assert "WARNING" in capsys.readouterr().err


def test_rate_limiter():
    now = [0.0]
    limiter = RateLimiter(per_s=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.allow() for _ in range(5)] == [True, True, True, False, False]
    now[0] = 1.0
    assert [limiter.allow() for _ in range(3)] == [True, True, False]


def test_render_cache_bounds_by_count_and_bytes(tmp_path):
    (tmp_path / "mine.wav").write_bytes(b"not ours")
    audio = np.zeros(1000, np.float32)
    cache = RenderCache(tmp_path, max_files=3, max_bytes=10**6)
    paths = [cache.write(i, audio, 48000) for i in range(5)]
    assert cache.files() == paths[2:] and all(p.exists() for p in paths[2:]) and not paths[0].exists()
    size = paths[-1].stat().st_size
    again = RenderCache(tmp_path, max_files=3, max_bytes=2 * size)  # adopts the files; bytes now bind
    assert again.files() == paths[3:]
    newest = again.write(9, audio, 48000)
    assert again.files() == [paths[4], newest] and (tmp_path / "mine.wav").exists()
    assert again.total_bytes == sum(p.stat().st_size for p in again.files())
    single = RenderCache(tmp_path / "tiny", max_files=3, max_bytes=10)
    assert single.write(1, audio, 48000).exists()  # the newest file stays even over the byte bound


# -- /model/load: hot model swap ------------------------------------------------------------

def test_model_load_swaps_in_the_background_and_replies(engine, make_server, peer_for, tiny_bundle, tmp_path):
    import json
    import shutil

    shutil.copytree(tiny_bundle.path, tmp_path / "models" / "copy")
    server = make_server(engine)
    peer = peer_for(server)
    worker = engine.worker
    peer.send("/model/load", "models/copy")
    loaded = peer.expect("/model/loaded", timeout=60)
    assert loaded.params[0] == "tiny" and loaded.params[1] > 0
    assert engine.worker is not worker and not worker.alive and engine.bundle.path.name == "copy"
    peer.send("/status.json")
    status = json.loads(peer.expect("/status.json").params[0])["engine"]
    assert status["model_swap_stage"] == "done" and status["model_swap_progress"] == 1.0
    assert "limiter_db" in status and "peak_db" in status  # the master limiter, by name
    assert server.counters()["models_loaded"] == 1
    peer.send("/pad/trigger", 0)
    assert wait_for(lambda: engine.triggers == 1)


def test_a_model_that_fails_to_load_answers_fail_and_the_old_one_plays_on(engine, make_server, peer_for, tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.json").write_text("{")
    server = make_server(engine)
    peer = peer_for(server)
    bundle = engine.bundle
    peer.send("/model/load", "bad/")
    fail = peer.expect("/fail", timeout=60)
    assert fail.params[0] == "/model/load" and "the model playing stays" in fail.params[1]
    assert engine.bundle is bundle and engine.status()["model_swap_stage"] == "failed"
    peer.send("/model/load", "../outside")
    fail = peer.expect("/fail")
    assert fail.params[0] == "/model/load" and "inside the kit folder" in fail.params[1]
    assert server.counters()["models_loaded"] == 0
