"""Render worker: coalescing, batching, cache (hits, byte bound), errors, shutdown, determinism."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.engine.postprocess import PostProcess
from ganshot.engine.render_worker import MAX_PADS, RenderWorker
from ganshot.engine.runtime import load_generator_runtime
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
from ganshot.training.export import export_generator

torch.set_num_threads(1)
LATENT, SAMPLES, RATE = 4, 256, 16000
OFF = PostProcess(remove_dc=False, fade_out_ms=0.0, peak_limit_db=None)
TIMEOUT = 10.0


class FakeRuntime:
    """``render`` writes z[:, 0] into the last sample of a ramp; can block on a gate or fail."""

    latent_dim, sample_rate, num_samples = LATENT, RATE, SAMPLES

    def __init__(self):
        self.calls: list[np.ndarray] = []
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.fail_next = 0

    def render(self, z, labels=None):
        self.calls.append(z.copy())
        self.started.set()
        assert self.gate.wait(TIMEOUT)
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("boom")
        return np.outer(z[:, 0], np.linspace(0, 1, SAMPLES)).astype(np.float32)


class Inbox:
    def __init__(self):
        self.items: list[tuple[int, np.ndarray, int]] = []

    def __call__(self, pad, buffer, request_id):
        self.items.append((pad, buffer, request_id))


def _z(value):
    return np.full(LATENT, value, np.float32)


def _worker(runtime, **kwargs):
    kwargs.setdefault("post", OFF)
    return RenderWorker(runtime, "sha", RATE, **kwargs)


def _hold(fake, worker, pad=0):
    """Make the worker busy: a request for ``pad`` that blocks inside render until fake.gate is set."""
    fake.gate.clear()
    rid = worker.request(pad, _z(-1.0))
    assert fake.started.wait(TIMEOUT)
    return rid


def test_coalescing_the_newest_request_wins():
    fake, inbox = FakeRuntime(), Inbox()
    with _worker(fake, on_ready=inbox) as worker:
        _hold(fake, worker)
        ids = [worker.request(0, _z(float(i))) for i in range(1, 51)]
        fake.gate.set()
        assert worker.wait_idle(TIMEOUT)
        assert len(fake.calls) == 2 and worker.requests_coalesced == 49 and worker.renders_done == 2
        pad, buffer, request_id = inbox.items[-1]
        assert (pad, request_id) == (0, ids[-1]) and buffer[-1] == 50.0 and worker.last_request_id == ids[-1]
        assert buffer.dtype == np.float32 and buffer.ndim == 1 and buffer.flags["C_CONTIGUOUS"]
        assert not buffer.flags.writeable


@pytest.mark.parametrize("max_batch, expected", [(8, [1, 5]), (2, [1, 2, 2, 1])])
def test_waiting_pads_are_batched(max_batch, expected):
    fake, inbox = FakeRuntime(), Inbox()
    with _worker(fake, on_ready=inbox, max_batch=max_batch) as worker:
        _hold(fake, worker)
        for pad in range(1, 6):
            worker.request(pad, _z(float(pad)))
        fake.gate.set()
        assert worker.wait_idle(TIMEOUT)
    assert [len(call) for call in fake.calls] == expected
    assert {pad: buffer[-1] for pad, buffer, _ in inbox.items} == {0: -1.0, 1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 5.0}


def test_equal_requests_in_one_batch_render_once():
    fake, inbox = FakeRuntime(), Inbox()
    with _worker(fake, on_ready=inbox) as worker:
        _hold(fake, worker)
        worker.request(1, _z(2.0))
        worker.request(2, _z(2.0))
        fake.gate.set()
        assert worker.wait_idle(TIMEOUT)
    assert [len(call) for call in fake.calls] == [1, 1] and len(inbox.items) == 3


def test_cache_hits_on_repeat():
    fake, inbox = FakeRuntime(), Inbox()
    with _worker(fake, on_ready=inbox) as worker:
        first = worker.render_now(_z(0.5))
        assert worker.render_now(_z(0.5)) is first
        worker.request(7, _z(0.5))
        assert worker.wait_idle(TIMEOUT)
        stats = worker.stats()
    assert len(fake.calls) == 1 and stats["cache_hits"] == 2 and stats["renders_done"] == 1
    assert inbox.items[0][0] == 7 and inbox.items[0][1] is first
    assert stats["cache_bytes"] == first.nbytes == SAMPLES * 4 and stats["cache_entries"] == 1


def test_cache_key_covers_pitch_and_settings():
    fake = FakeRuntime()
    with _worker(fake) as worker:
        base = worker.render_now(_z(1.0))
        up = worker.render_now(_z(1.0), pitch_semitones=12.0)
        assert up.shape == (SAMPLES // 2,) and len(fake.calls) == 2
    with RenderWorker(fake, "sha", RATE, post=PostProcess()) as other:
        cleaned = other.render_now(_z(1.0))
        assert len(fake.calls) == 3 and cleaned[-1] == 0.0 and base[-1] == 1.0
    with RenderWorker(fake, "sha", 48000, post=OFF) as other:
        assert other.render_now(_z(1.0)).shape == (3 * SAMPLES,)


def test_cache_byte_bound_evicts_oldest():
    fake = FakeRuntime()
    entry = SAMPLES * 4
    with _worker(fake, cache_bytes=3 * entry + 100) as worker:
        for i in range(10):
            worker.render_now(_z(float(i)))
            assert worker.cache_bytes <= 3 * entry + 100
        assert worker.stats()["cache_entries"] == 3 and worker.cache_bytes == 3 * entry
        worker.render_now(_z(9.0))  # the newest: still cached
        assert worker.cache_hits == 1 and len(fake.calls) == 10
        worker.render_now(_z(0.0))  # the oldest: evicted long ago
        assert len(fake.calls) == 11 and worker.cache_bytes == 3 * entry
    with _worker(fake, cache_bytes=0) as worker:
        worker.render_now(_z(1.0))
        worker.render_now(_z(1.0))
        assert worker.cache_bytes == 0 and worker.cache_hits == 0


def test_errors_are_counted_logged_once_and_survived(caplog):
    fake, inbox = FakeRuntime(), Inbox()
    with caplog.at_level(logging.ERROR, logger="ganshot.engine.render_worker"):
        with _worker(fake, on_ready=inbox) as worker:
            fake.fail_next = 2
            worker.request(0, _z(1.0))
            assert worker.wait_idle(TIMEOUT)
            worker.request(0, _z(2.0))
            assert worker.wait_idle(TIMEOUT)
            assert worker.errors == 2 and worker.alive and not inbox.items
            worker.request(0, _z(3.0))
            assert worker.wait_idle(TIMEOUT)
            assert inbox.items[-1][1][-1] == 3.0
            fake.fail_next = 1
            with pytest.raises(RuntimeError):
                worker.render_now(_z(4.0))
            assert worker.errors == 3
    assert len([r for r in caplog.records if "render failed" in r.getMessage()]) == 1


def test_a_failing_callback_does_not_kill_the_thread():
    fake = FakeRuntime()
    calls = []

    def on_ready(pad, buffer, request_id):
        calls.append(pad)
        raise ValueError("callback bug")

    with _worker(fake, on_ready=on_ready) as worker:
        worker.request(1, _z(1.0))
        assert worker.wait_idle(TIMEOUT)
        worker.request(2, _z(2.0))
        assert worker.wait_idle(TIMEOUT)
        assert calls == [1, 2] and worker.errors == 2 and worker.alive


def test_close_joins_and_refuses_later_requests():
    fake = FakeRuntime()
    worker = _worker(fake)
    assert worker.alive
    worker.close()
    assert not worker.alive
    worker.close()  # idempotent
    with pytest.raises(GanshotError):
        worker.request(0, _z(1.0))


def test_request_validation():
    with _worker(FakeRuntime()) as worker:
        bad = [
            ((-1, _z(1.0)), {}), ((MAX_PADS, _z(1.0)), {}), ((True, _z(1.0)), {}),
            ((0, np.zeros(LATENT + 1, np.float32)), {}), ((0, np.zeros(LATENT, np.int32)), {}),
            ((0, np.full(LATENT, np.nan, np.float32)), {}), ((0, _z(1.0)), {"pitch_semitones": 99.0}),
            ((0, _z(1.0)), {"label": 1}),
        ]  # fmt: skip
        for args, kwargs in bad:
            with pytest.raises(UserInputError):
                worker.request(*args, **kwargs)
        assert worker.requests == 0
    for kwargs in ({"cache_bytes": -1}, {"max_batch": 0}, {"on_ready": 3}, {"post": {}}):
        with pytest.raises(UserInputError):
            _worker(FakeRuntime(), **kwargs)
    with pytest.raises(UserInputError):
        RenderWorker(FakeRuntime(), "sha", 10)


@pytest.fixture(scope="module")
def tiny_runtime(tmp_path_factory):
    root = tmp_path_factory.mktemp("worker-bundle")
    spec = GeneratorSpec(latent_dim=8, d=4, num_samples=1024, num_classes=2)
    torch.manual_seed(0)
    path = export_generator(WaveGANGenerator(spec), spec, root / "tiny", name="tiny", sample_rate=16000, classes=["a", "b"])
    return load_generator_runtime(load_bundle(path), backend="onnx", threads=1)


class Gated:
    """Wraps a runtime; ``render`` waits for ``gate`` (so requests pile up and form one batch)."""

    def __init__(self, runtime):
        self.runtime, self.gate, self.started, self.batches = runtime, threading.Event(), threading.Event(), []

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    def render(self, z, labels=None):
        self.batches.append(len(z))
        self.started.set()
        assert self.gate.wait(TIMEOUT)
        return self.runtime.render(z, labels)


def test_real_runtime_pipeline_is_deterministic(tiny_runtime):
    z = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    limit = 10 ** (-0.5 / 20)
    gated = Gated(tiny_runtime)
    gated.gate.set()
    inbox = Inbox()
    with RenderWorker(gated, tiny_runtime.bundle.sha256, 48000, cache_bytes=0, on_ready=inbox) as worker:
        a = worker.render_now(z[0], pitch_semitones=-3.0, label=1)
        b = worker.render_now(z[0], pitch_semitones=-3.0, label=1)
        assert np.array_equal(a, b) and a.shape == (round(3 * 1024 * 2 ** (3 / 12)),)
        assert np.abs(a).max() <= limit and a[-1] == 0.0 and a.flags["C_CONTIGUOUS"]
        with pytest.raises(UserInputError):
            worker.request(0, z[0])  # conditional: a label is needed
        gated.gate.clear()
        gated.started.clear()
        worker.request(9, z[2], label=0)
        assert gated.started.wait(TIMEOUT)
        ids = [worker.request(pad, z[pad], pitch_semitones=-3.0 if pad == 0 else 0.0, label=1) for pad in range(3)]
        gated.gate.set()
        assert worker.wait_idle(TIMEOUT)
        assert gated.batches == [1, 1, 1, 3] and sorted(rid for pad, _, rid in inbox.items if pad != 9) == ids
        batched = {pad: buffer for pad, buffer, _ in inbox.items}
        assert np.allclose(batched[0], a, atol=1e-5)  # batching changes at most float rounding
        assert batched[1].shape == (3 * 1024,)
        stats = worker.stats()
        assert stats["render_ms_p50"] > 0 and stats["render_ms_p99"] >= stats["render_ms_p50"] and stats["errors"] == 0
    assert "RenderWorker(" in repr(worker) and "stream_sample_rate=48000" in repr(worker)
