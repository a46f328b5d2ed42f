"""Generator runtimes: ONNX/torch parity, auto selection, lazy torch, GIL release, bad input."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import IntegrityError, UserInputError
from ganshot.engine.runtime import GeneratorRuntime, load_generator_runtime, measure_render_ms
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
from ganshot.training.export import export_generator

torch.set_num_threads(1)
LATENT = 8
CUDA = torch.cuda.is_available()


def _export(root, name, **spec_args):
    spec = GeneratorSpec(latent_dim=LATENT, d=4, num_samples=1024, **spec_args)
    torch.manual_seed(0)
    classes = [f"c{i}" for i in range(spec.num_classes)]
    path = export_generator(WaveGANGenerator(spec), spec, root / name, name=name, sample_rate=16000, classes=classes)
    return load_bundle(path)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("runtime-bundles")
    return {"plain": _export(root, "plain"), "cond": _export(root, "cond", num_classes=3)}


def _z(batch, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, LATENT)).astype(np.float32)


@pytest.mark.parametrize("kind", ["plain", "cond"])
def test_onnx_and_torch_agree(bundles, kind):
    bundle = bundles[kind]
    labels = np.array([0, 2, 1], np.int64) if bundle.conditional else None
    onnx_rt = load_generator_runtime(bundle, backend="onnx", device="cpu", threads=1)
    torch_rt = load_generator_runtime(bundle, backend="torch", device="cpu", threads=1)
    a, b = onnx_rt.render(_z(3), labels), torch_rt.render(_z(3), labels)
    assert a.shape == b.shape == (3, 1024) and a.dtype == b.dtype == np.float32
    assert b.flags["C_CONTIGUOUS"]
    assert np.abs(a - b).max() / np.abs(b).max() < 1e-4
    assert (onnx_rt.backend, onnx_rt.device, onnx_rt.name) == ("onnx", "cpu", "onnx-cpu")
    assert (torch_rt.backend, torch_rt.device, torch_rt.name) == ("torch", "cpu", "torch-cpu")
    assert np.array_equal(torch_rt.render(_z(3), labels), b)  # deterministic


def test_auto_picks_the_faster_and_reports_figures(bundles):
    runtime = load_generator_runtime(bundles["plain"], threads=1)
    assert isinstance(runtime, GeneratorRuntime)
    names = sorted(runtime.timings)
    assert len(names) == 2 and names[0].startswith("onnx-") and names[1].startswith("torch-")
    assert runtime.backend in ("onnx", "torch") and not runtime.unavailable
    assert all(ms > 0 for ms in runtime.timings.values())
    assert runtime.timings[runtime.name] == min(runtime.timings.values())
    assert " vs " in runtime.timings_summary and " ms" in runtime.timings_summary
    assert runtime.name in repr(runtime) and "timings=" in repr(runtime)
    assert runtime.render(_z(2)).shape == (2, 1024)


def test_measure_render_ms(bundles):
    runtime = load_generator_runtime(bundles["cond"], backend="onnx", threads=1)
    assert 0 < measure_render_ms(runtime, batch=2, warmup=1, runs=3) < 10_000


def test_onnx_only_never_imports_torch(bundles):
    code = (
        "import sys, numpy as np\n"
        "from ganshot.engine.runtime import load_generator_runtime\n"
        f"rt = load_generator_runtime({str(bundles['plain'].path)!r}, backend='onnx', threads=1)\n"
        f"assert rt.render(np.zeros((1, {LATENT}), np.float32)).shape == (1, 1024)\n"
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


@pytest.fixture(scope="module")
def long_bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("runtime-long")
    spec = GeneratorSpec(latent_dim=LATENT, d=8, num_samples=16384)
    torch.manual_seed(0)
    return load_bundle(export_generator(WaveGANGenerator(spec), spec, root / "long", name="long", sample_rate=16000))


def _spin_rate(box, stop):
    while not stop.is_set():
        box[0] += 1  # pure Python: needs the GIL for every step


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_render_releases_the_gil(long_bundle, backend):
    runtime = load_generator_runtime(long_bundle, backend=backend, device="cpu", threads=1)
    batch, elapsed = 4, 0.0
    while elapsed < 0.15 and batch < 256:  # grow the batch until one render takes >= 150 ms
        batch *= 2
        z = _z(batch)
        start = time.perf_counter()
        runtime.render(z)
        elapsed = time.perf_counter() - start
    box, stop = [0], threading.Event()
    spinner = threading.Thread(target=_spin_rate, args=(box, stop), daemon=True)
    spinner.start()
    try:
        time.sleep(0.02)
        before, start = box[0], time.perf_counter()
        time.sleep(elapsed)  # the counter alone (the main thread sleeps without the GIL)
        alone = (box[0] - before) / (time.perf_counter() - start)
        before, start = box[0], time.perf_counter()
        runtime.render(z)
        during = (box[0] - before) / (time.perf_counter() - start)
    finally:
        stop.set()
        spinner.join()
    # Holding the GIL for the whole render would leave the counter at ~0 during it.
    assert during > 0.15 * alone, f"counter rate {during:.0f}/s while rendering vs {alone:.0f}/s alone"


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_bad_input_is_a_user_error(bundles, backend):
    plain = load_generator_runtime(bundles["plain"], backend=backend, device="cpu", threads=1)
    cond = load_generator_runtime(bundles["cond"], backend=backend, device="cpu", threads=1)
    bad_z = [
        np.zeros((1, LATENT + 1), np.float32), np.zeros(LATENT, np.float32), np.zeros((1, LATENT), np.int64),
        np.full((1, LATENT), np.nan, np.float32), np.full((2, LATENT), np.inf, np.float32),
        np.zeros((0, LATENT), np.float32),
    ]  # fmt: skip
    for z in bad_z:
        with pytest.raises(UserInputError):
            plain.render(z)
    with pytest.raises(UserInputError):
        plain.render(_z(1), labels=np.zeros(1, np.int64))
    for labels in (None, np.array([3]), np.array([-1]), np.array([0.5]), np.array([0, 1])):
        with pytest.raises(UserInputError):
            cond.render(_z(1), labels=labels)
    assert plain.render(_z(2).astype(np.float64)).dtype == np.float32  # float64 is converted


def test_bad_arguments(bundles):
    bundle = bundles["plain"]
    for kwargs in ({"backend": "tf"}, {"device": "tpu"}, {"threads": 0}, {"threads": True}, {"threads": 1.5}):
        with pytest.raises(UserInputError):
            load_generator_runtime(bundle, **kwargs)
    if not CUDA:
        with pytest.raises(UserInputError, match="cuda"):
            load_generator_runtime(bundle, backend="torch", device="cuda")


def test_torch_backend_refuses_weights_changed_after_loading(tmp_path):
    bundle = _export(tmp_path, "tamper")
    data = bytearray(bundle.safetensors_path.read_bytes())
    data[-1] ^= 0xFF
    bundle.safetensors_path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        load_generator_runtime(bundle, backend="torch", device="cpu")


@pytest.mark.gpu
@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
@pytest.mark.parametrize("kind", ["plain", "cond"])
def test_torch_cuda_graphs_match_cpu(bundles, kind):
    bundle = bundles[kind]
    cpu = load_generator_runtime(bundle, backend="torch", device="cpu")
    gpu = load_generator_runtime(bundle, backend="torch", device="cuda")
    assert gpu.device == "cuda" and gpu.cuda_graphs
    for batch in (1, 3, 8, 9):  # 3 is padded to the batch-4 graph; 9 runs eagerly
        labels = np.arange(batch, dtype=np.int64) % 3 if bundle.conditional else None
        expected = cpu.render(_z(batch, seed=batch), labels)
        got = gpu.render(_z(batch, seed=batch), labels)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() / np.abs(expected).max() < 1e-3  # TF32 convolutions allowed
