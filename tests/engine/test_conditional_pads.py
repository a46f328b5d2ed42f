"""Pads of a class-conditional model: class_name asks for a class, truncation scales z."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ganshot.engine.bundle import load_bundle
from ganshot.engine.engine import Engine
from ganshot.engine.errors import FormatError, IntegrityError, UserInputError
from ganshot.engine.kit import Kit, ModelRef, Pad, kit_to_json, parse_kit
from ganshot.engine.kit_model import check_model
from ganshot.engine.latent import seeded_latent
from ganshot.engine.onnx_runtime import OnnxGenerator
from tests.support import kit_for

CLASSES = ["kick", "snare", "closed_hat"]


@pytest.fixture(scope="module")
def conditional_bundle(tmp_path_factory):
    import torch

    from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
    from ganshot.training.export import export_generator

    spec = GeneratorSpec(latent_dim=8, d=4, num_samples=2048, num_classes=3, nearest_layers=2, envelope=1)
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("cond")
    return load_bundle(export_generator(WaveGANGenerator(spec), spec, root / "cond", name="cond",
                                        sample_rate=16000, classes=CLASSES))


def test_the_onnx_graph_takes_a_class_input_and_model_json_lists_the_classes(conditional_bundle):
    assert conditional_bundle.conditional and list(conditional_bundle.classes) == CLASSES
    assert conditional_bundle.meta["onnx"]["label_input"] == "label"
    gen = OnnxGenerator(conditional_bundle)
    z = np.repeat(seeded_latent(1, 8)[None], 3, axis=0)
    out = gen.render(z, np.array([0, 1, 2]))
    assert out.shape == (3, 2048) and not np.allclose(out[0], out[1])  # same z, other class, other sound
    with pytest.raises(UserInputError):
        gen.render(z, np.array([0, 1, 3]))  # class index out of range


def test_each_pad_renders_its_class(conditional_bundle):
    kit = kit_for(conditional_bundle, num_pads=3)
    kit = dataclasses.replace(kit, pads=tuple(dataclasses.replace(p, seed=7, class_name=c)
                                              for p, c in zip(kit.pads, CLASSES)))
    with Engine(conditional_bundle, kit, sample_rate=16000, backend="onnx") as engine:
        buffers = [engine.pad_buffer(i) for i in range(3)]
        assert [engine.pad_label(i) for i in range(3)] == [0, 1, 2]
    direct = OnnxGenerator(conditional_bundle).render(np.repeat(seeded_latent(7, 8)[None], 3, axis=0), np.arange(3))
    for index in range(3):
        peak = np.max(np.abs(direct[index]))
        # the first 3/4: the rest may carry the cut fade (postprocess) of a sound still loud at its end
        assert np.corrcoef(buffers[index][:1500], direct[index][:1500])[0, 1] > 0.99 or peak < 1e-6


def test_a_conditional_model_refuses_pads_without_a_known_class(conditional_bundle, tiny_bundle):
    kit = kit_for(conditional_bundle, num_pads=2)
    with pytest.raises(UserInputError, match="pad 0 has no class_name.*kick, snare, closed_hat"):
        check_model(kit, conditional_bundle)
    wrong = dataclasses.replace(kit, pads=tuple(dataclasses.replace(p, class_name="cowbell") for p in kit.pads))
    with pytest.raises(UserInputError, match="'cowbell'"):
        check_model(wrong, conditional_bundle)
    plain = kit_for(tiny_bundle, num_pads=1, class_name="kick")
    with pytest.raises(UserInputError, match="unconditional"):
        check_model(plain, tiny_bundle)


def test_truncation_scales_z(tiny_bundle):
    kit = kit_for(tiny_bundle, num_pads=2)
    kit = dataclasses.replace(kit, pads=(kit.pads[0], dataclasses.replace(kit.pads[0], truncation=0.5)))
    with Engine(tiny_bundle, kit, sample_rate=16000, backend="onnx") as engine:
        np.testing.assert_allclose(engine.pad_latent(1), engine.pad_latent(0) * 0.5, rtol=1e-6)


def test_class_name_and_truncation_round_trip_and_are_checked(conditional_bundle):
    kit = Kit(name="k", model=ModelRef.of(conditional_bundle),
              pads=(Pad(note=42, seed=3, class_name="closed_hat", truncation=0.7), Pad(note=36, seed=1, class_name="kick")))
    data = kit_to_json(kit)
    assert data["pads"][0]["class_name"] == "closed_hat" and data["pads"][0]["truncation"] == 0.7
    assert "truncation" not in data["pads"][1]
    again = parse_kit(data)
    assert again.pads == kit.pads
    for bad, message in (({"class_name": ""}, "class_name"), ({"class_name": 3}, "class_name"),
                         ({"truncation": 0.0}, "truncation"), ({"truncation": 1.5}, "truncation")):
        broken = {**data, "pads": [{**data["pads"][0], **bad}]}
        with pytest.raises(FormatError, match=message):
            parse_kit(broken)


def test_osc_and_controllers_change_a_pads_class_and_truncation(conditional_bundle):
    from ganshot.bridges.osc.addresses import route
    from ganshot.bridges.osc.validate import Message, OscError

    def msg(address, tags, *args):
        return Message(address, tags, tuple(args))

    kit = kit_for(conditional_bundle, num_pads=2)
    kit = dataclasses.replace(kit, pads=tuple(dataclasses.replace(p, class_name="kick") for p in kit.pads))
    with Engine(conditional_bundle, kit, sample_rate=16000, backend="onnx") as engine:
        before = engine.pad_buffer(1).copy()
        route(msg("/pad/class", "is", 1, "closed_hat"), engine)
        assert engine.wait_ready(10)
        assert not np.allclose(engine.pad_buffer(1)[:len(before)], before)  # rendered again as a hat
        assert engine.kit.pads[1].class_name == "closed_hat" and engine.pad_label(1) == 2
        with pytest.raises(OscError, match="cowbell"):
            route(msg("/pad/class", "is", 1, "cowbell"), engine)
        assert engine.kit.pads[1].class_name == "closed_hat"  # a refused class changes nothing
        route(msg("/pad/truncation", "if", 0, 0.5), engine)
        engine.apply("pad.1.truncation", 0.7)
        assert engine.kit.pads[0].truncation == 0.5 and engine.kit.pads[1].truncation == pytest.approx(0.7)
        with pytest.raises(OscError):
            route(msg("/pad/truncation", "if", 0, 0.0), engine)
        np.testing.assert_allclose(engine.pad_latent(0), seeded_latent(1, 8) * 0.5, rtol=1e-6)
