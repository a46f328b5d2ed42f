"""Hot model swap (Engine.load_model / engine/model_swap.py), offline: the new model is loaded,
warmed up and pre-rendered in the background, then switched in at once (or at a frame); a
voice already sounding finishes with the old buffer; a model that fails leaves the old one
playing; edits made meanwhile survive; results of the old worker never land after the swap."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ganshot.engine.engine import Engine
from ganshot.engine.kit import ModelRef
from tests.support import kit_for

RATE = 48000
TIMEOUT_S = 120


def export_tiny(tmp_path_factory, name: str, seed: int, latent_dim: int = 8):
    import torch

    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
    from ganshot.training.export import export_generator

    spec = GeneratorSpec(latent_dim=latent_dim, d=4, num_samples=2048)
    torch.manual_seed(seed)
    root = tmp_path_factory.mktemp(name)
    return load_bundle(export_generator(WaveGANGenerator(spec), spec, root / name, name=name, sample_rate=16000))


@pytest.fixture(scope="module")
def other_bundle(tmp_path_factory):
    return export_tiny(tmp_path_factory, "other", seed=1)


@pytest.fixture(scope="module")
def wide_bundle(tmp_path_factory):
    return export_tiny(tmp_path_factory, "wide", seed=2, latent_dim=16)


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=RATE, backend="onnx") as eng:
        yield eng


def buffers_of(bundle, kit) -> list:
    with Engine(bundle, dataclasses.replace(kit, model=ModelRef.of(bundle)), sample_rate=RATE, backend="onnx") as e:
        return [e.pad_buffer(i) for i in range(len(kit.pads))]


def test_the_new_model_plays_on_the_next_trigger_and_a_sounding_voice_finishes_with_the_old(engine, other_bundle):
    old_buffer = engine.pad_buffer(0)
    engine.trigger(0)
    first = engine.mixer.render(100)  # the voice is sounding
    swap = engine.load_model(other_bundle)
    assert swap.wait(TIMEOUT_S) and swap.stage == "done" and swap.error is None, swap
    assert swap.progress == 1.0 and set(swap.seconds) >= {"loading", "warming", "rendering"}
    assert engine.bundle is other_bundle and engine.kit.model.sha256 == other_bundle.sha256
    rest = engine.mixer.render(len(old_buffer))
    played = np.concatenate([first, rest])[:len(old_buffer), 0]
    np.testing.assert_allclose(played, old_buffer * played[0] / old_buffer[0], rtol=1e-5, atol=1e-7)  # no cut
    expected = buffers_of(other_bundle, engine.kit)
    for i, want in enumerate(expected):
        assert np.array_equal(engine.pad_buffer(i), want)  # every pad already rendered by the new model
    assert not np.array_equal(engine.pad_buffer(0), old_buffer)
    status = engine.status()
    assert status["model"] == "other" and status["model_swap_stage"] == "done" and status["model_swap_progress"] == 1.0
    assert engine.trigger(1) > 0


def test_a_model_that_fails_to_load_leaves_the_old_one_playing(engine, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.json").write_text('{"format": "ganshot-model", "version": 1')
    before = [engine.pad_buffer(i) for i in range(4)]
    worker = engine.worker
    swap = engine.load_model(broken)
    assert swap.wait(TIMEOUT_S) and swap.stage == "failed"
    assert swap.error and "\n" not in swap.error
    assert engine.worker is worker and worker.alive and engine.bundle.name == "tiny"
    assert all(engine.pad_buffer(i) is b for i, b in enumerate(before))
    engine.set_direction(0, 0, 0.5)  # the old model still renders edits
    assert engine.wait_ready(TIMEOUT_S) and engine.pad_buffer(0) is not before[0]
    assert engine.trigger(0) > 0


def test_a_kit_whose_latents_do_not_fit_the_new_model_fails_the_swap(tiny_bundle, wide_bundle):
    kit = kit_for(tiny_bundle).with_pad(1, z=[0.1] * 8)
    with Engine(tiny_bundle, kit, sample_rate=RATE, backend="onnx") as engine:
        swap = engine.load_model(wide_bundle)
        assert swap.wait(TIMEOUT_S) and swap.stage == "failed"
        assert "8" in swap.error and "16" in swap.error, swap.error
        assert engine.bundle is tiny_bundle


def test_seeded_pads_follow_a_model_with_another_latent_size(engine, wide_bundle):
    swap = engine.load_model(wide_bundle)
    assert swap.wait(TIMEOUT_S) and swap.stage == "done", swap.error
    assert engine.bundle.latent_dim == 16 and engine.pad_latent(0).shape == (16,)


def test_a_timed_swap_waits_for_its_frame(engine, other_bundle):
    at = engine.mixer.frame + RATE
    swap = engine.load_model(other_bundle, at_frame=at)
    while swap.stage != "waiting" and not swap.finished:
        swap.wait(0.01)
    assert swap.stage == "waiting" and engine.bundle.name == "tiny"  # ready, not yet switched
    engine.mixer.render(RATE - 1)
    assert not swap.wait(0.2) and engine.bundle.name == "tiny"
    engine.mixer.render(1)
    assert swap.wait(TIMEOUT_S) and swap.stage == "done" and engine.bundle is other_bundle


def test_a_second_load_cancels_the_first_and_on_done_reports_each(engine, other_bundle, tiny_bundle):
    ended = []
    first = engine.load_model(other_bundle, at_frame=engine.mixer.frame + 10 * RATE, on_done=ended.append)
    second = engine.load_model(tiny_bundle, on_done=ended.append)
    assert first.wait(TIMEOUT_S) and second.wait(TIMEOUT_S)
    assert first.stage == "cancelled" and second.stage == "done" and engine.bundle is tiny_bundle
    assert sorted(s.stage for s in ended) == ["cancelled", "done"]


def test_edits_made_while_rendering_survive_and_old_results_never_land(engine, other_bundle):
    from ganshot.engine.render_worker import RenderWorker
    from ganshot.engine.runtime import load_generator_runtime

    snapshot = engine.kit
    engine.set_gain(2, -6.0)  # edits after the snapshot: kept, and pad 3 renders again
    engine.set_direction(3, 0, 0.75)
    kit = dataclasses.replace(snapshot, model=ModelRef.of(other_bundle))
    runtime = load_generator_runtime(other_bundle, "onnx")
    worker = RenderWorker(runtime, other_bundle.sha256, RATE)
    buffers = [worker.render_now(engine.pad_latent(i, kit, bundle=other_bundle)) for i in range(4)]
    old_worker, old_ready = engine.worker, engine.worker.on_ready
    engine.install_model(other_bundle, runtime, worker, kit, buffers, snapshot=snapshot)
    assert engine.kit.pads[2].gain_db == -6.0 and engine.kit.pads[3].directions == (0.75,)
    assert engine.wait_ready(TIMEOUT_S)
    assert np.array_equal(engine.pad_buffer(3), worker.render_now(engine.pad_latent(3)))  # the edit, new model
    assert engine.pad_buffer(0) is buffers[0]
    old_ready(0, np.zeros(10, np.float32), 10**9)  # a late result of the old worker
    assert engine.pad_buffer(0) is buffers[0] and not old_worker.alive


def test_an_edit_that_races_the_switch_renders_on_the_new_worker(engine, other_bundle):
    from ganshot.engine.errors import GanshotError

    swap = engine.load_model(other_bundle)
    assert swap.wait(TIMEOUT_S) and swap.stage == "done"
    new = engine.worker

    class ClosedBySwap:  # the worker an edit read just before the switch closed it
        def request(self, *args, **kwargs):
            engine.worker = new  # the switch completes meanwhile
            raise GanshotError("the render worker is closed")

    engine.worker = ClosedBySwap()
    before = engine.pad_buffer(0)
    engine.set_direction(0, 0, 0.3)  # no /fail: rendered by the new worker
    assert engine.wait_ready(TIMEOUT_S) and engine.pad_buffer(0) is not before
