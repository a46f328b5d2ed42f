"""The default kit's pads, picked by the drum classifier."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.kit import load_kit
from ganshot.training.classifier import DrumClassifier, save_classifier
from ganshot.training.default_kit import PAD_NOTES, PICK_ORDER, PICK_TRUNCATIONS, choose_seeds, main
from ganshot.engine.gm_drums import CLASSES, note_class


class ScriptedClassifier:
    """Probabilities set per candidate seed (seeds start at 1): seed 1 + i gets ``table[i]``."""

    def __init__(self, table, sample_rate=16000, classes=CLASSES):
        self.table, self.sample_rate, self.classes = np.asarray(table, np.float32), sample_rate, tuple(classes)

    def predict(self, audio):
        assert len(audio) == len(self.table)
        return self.table, np.zeros((len(audio), 4), np.float32)


def one_hot(name, p=0.9):
    row = np.zeros(len(CLASSES))
    row[CLASSES.index("other")] = 1 - p
    row[CLASSES.index(name)] += p
    return row


def test_each_pad_takes_the_surest_seed_of_its_class_and_none_is_used_twice(tiny_bundle):
    rows = [one_hot("other")] * 40
    rows[10] = one_hot("kick", 0.99)  # seed 11: the surest kick
    rows[11] = one_hot("kick", 0.95)
    rows[20] = one_hot("crash", 0.97)  # seed 21
    rows[21] = one_hot("closed_hat", 0.8)  # seed 22
    seeds, records = choose_seeds(tiny_bundle, ScriptedClassifier(rows), num_candidates=40)
    by_note = {r["note"]: r for r in records}
    assert [r["note"] for r in records] == list(PAD_NOTES) and len(set(seeds)) == 16
    assert by_note[36]["seed"] == 11 and by_note[36]["class"] == "kick" and by_note[36]["predicted"] == "kick"
    assert by_note[49]["seed"] == 21 and by_note[42]["seed"] == 22
    assert all(by_note[n]["class"] == note_class(n) for n in PAD_NOTES)
    assert sorted(PICK_ORDER) == list(PAD_NOTES)


class PerCallClassifier(ScriptedClassifier):
    """A table per predict() call: choose_seeds judges the truncations largest first."""

    def __init__(self, tables, **kw):
        super().__init__(tables[0], **kw)
        self.tables = [np.asarray(t, np.float32) for t in tables]

    def predict(self, audio):
        table = self.tables.pop(0)
        assert len(audio) == len(table)
        return table, np.zeros((len(audio), 4), np.float32)


def test_a_pad_takes_the_truncation_the_classifier_is_surest_of_and_the_kit_stores_it(tiny_bundle):
    from ganshot.engine.presets import seeded_kit

    full = [one_hot("other")] * 20
    full[2] = one_hot("kick", 0.7)  # seed 3 at psi 1.0
    half = [one_hot("other")] * 20
    half[4] = one_hot("kick", 0.9)  # seed 5 at psi 0.5: surer
    half[6] = one_hot("snare", 0.8)
    seeds, records = choose_seeds(tiny_bundle, PerCallClassifier([full, half]), num_candidates=20,
                                  truncations=(0.5, 1.0))
    by_note = {r["note"]: r for r in records}
    assert (by_note[36]["seed"], by_note[36]["truncation"]) == (5, 0.5)
    assert (by_note[38]["seed"], by_note[38]["truncation"]) == (7, 0.5)
    assert by_note[36]["probability"] == pytest.approx(0.9)
    kit = seeded_kit(tiny_bundle, seeds, truncations=[r["truncation"] for r in records])
    assert kit.pads[0].truncation == 0.5 and kit.pads[0].seed == 5
    # a tie keeps the larger psi (more varied), and a seed is used once whatever its psi
    seeds, records = choose_seeds(tiny_bundle, PerCallClassifier([full, full]), num_candidates=20,
                                  truncations=(0.5, 1.0))
    assert {r["note"]: r["truncation"] for r in records}[36] == 1.0 and len(set(seeds)) == 16


def test_the_truncation_changes_what_is_rendered(tiny_bundle):
    from ganshot.training.evaluate import render_seeds

    full, half = render_seeds(tiny_bundle, [3]), render_seeds(tiny_bundle, [3], truncation=0.5)
    assert full.shape == half.shape and not np.allclose(full, half)


def test_refusals_name_the_problem(tiny_bundle):
    rows = [one_hot("kick")] * 20
    with pytest.raises(UserInputError, match="at least 16 candidates"):
        choose_seeds(tiny_bundle, ScriptedClassifier(rows), num_candidates=8)
    with pytest.raises(UserInputError, match="22050 Hz"):
        choose_seeds(tiny_bundle, ScriptedClassifier(rows, sample_rate=22050), num_candidates=20)
    with pytest.raises(UserInputError, match="knows no"):
        choose_seeds(tiny_bundle, ScriptedClassifier(np.ones((20, 2)) / 2, classes=("kick", "snare")), 20)
    with pytest.raises(UserInputError, match="truncations must lie in"):
        choose_seeds(tiny_bundle, ScriptedClassifier(rows), num_candidates=20, truncations=(1.5,))


def test_main_writes_a_kit_that_loads_with_a_real_classifier(tiny_bundle, tmp_path, capsys):
    classifier = DrumClassifier(CLASSES, tiny_bundle.sample_rate, tiny_bundle.num_samples).eval()
    path = save_classifier(classifier, tmp_path / "clf.safetensors")
    out = tmp_path / "kit.json"
    assert main([str(tiny_bundle.path), "--classifier", str(path), "-o", str(out), "--candidates", "32"]) == 0
    kit = load_kit(out, latent_dim=tiny_bundle.latent_dim)
    assert [pad.note for pad in kit.pads] == list(PAD_NOTES)
    assert len({pad.seed for pad in kit.pads}) == 16 and all(1 <= pad.seed <= 32 for pad in kit.pads)
    printed = capsys.readouterr().out
    assert " 36 kick " in printed and "p=" in printed


def test_the_embedded_model_ships_its_evaluation_and_the_kit_was_picked_by_its_classifier():
    """presets/models/<model>-eval holds the report of the default kit's model; the pads follow the classifier."""
    import json

    from ganshot.engine.presets import load_model_and_kit, models_root
    from ganshot.training.classifier import load_classifier

    bundle, kit = load_model_and_kit()
    eval_dir = models_root() / f"{bundle.name}-eval"
    report = json.loads((eval_dir / "report.json").read_text())
    assert report["format"] == "ganshot-evaluation" and report["model"]["model_json_sha256"] == bundle.sha256
    assert report["generated"]["count"] >= 1000 and (eval_dir / "report.md").is_file()
    assert (eval_dir / "classes.png").read_bytes()[:4] == b"\x89PNG"
    classifier, _ = load_classifier(eval_dir / "classifier.safetensors")
    # Each pad's (seed, psi) must beat every sampled rival the picker could have taken: the unused seeds of
    # 1..512 (every 8th) at every truncation of PICK_TRUNCATIONS, rendered as the pad's class. (A full re-pick
    # renders 512 x 3 candidates per class: minutes on two cores.)
    from ganshot.training.evaluate import render_seeds

    used = {pad.seed for pad in kit.pads}
    rivals = [s for s in range(1, 513, 8) if s not in used]
    column = {name: i for i, name in enumerate(classifier.classes)}
    label_of = {pad.note: (list(bundle.classes).index(pad.class_name) if pad.class_name else None) for pad in kit.pads}
    best_rival: dict = {}
    for label in set(label_of.values()):
        best_rival[label] = np.concatenate([classifier.predict(render_seeds(bundle, rivals, label=label,
                                                                            truncation=psi))[0]
                                            for psi in PICK_TRUNCATIONS]).max(axis=0)
    beaten = 0
    for pad in kit.pads:
        wanted = column[note_class(pad.note)]
        own = classifier.predict(render_seeds(bundle, [pad.seed], label=label_of[pad.note],
                                              truncation=pad.truncation))[0][0, wanted]
        beaten += own >= best_rival[label_of[pad.note]][wanted] - 1e-4
    assert beaten >= 14, beaten  # a float rounding may flip a close pick
    assert {pad.truncation for pad in kit.pads} <= set(PICK_TRUNCATIONS)
    assert {note_class(pad.note) for pad in kit.pads} >= {"kick", "snare", "closed_hat", "crash", "ride", "low_tom"}


def test_a_conditional_model_renders_each_pads_class_and_the_kit_asks_for_it(tmp_path):
    import torch

    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.kit_model import check_model
    from ganshot.engine.presets import seeded_kit
    from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
    from ganshot.training.export import export_generator

    classes = ["kick", "snare", "closed_hat", "crash"]
    spec = GeneratorSpec(latent_dim=8, d=2, num_samples=2048, num_classes=len(classes))
    torch.manual_seed(0)
    bundle = load_bundle(export_generator(WaveGANGenerator(spec), spec, tmp_path / "cond", name="cond",
                                          sample_rate=16000, classes=classes))
    calls = []

    class Loudness:  # the louder the one-shot, the surer of every class: deterministic, audio-dependent
        sample_rate, classes = 16000, CLASSES

        def predict(self, audio):
            calls.append(np.asarray(audio).copy())
            level = np.abs(audio).mean(axis=1, keepdims=True)
            return np.repeat(level / (level.max() + 1e-9), len(CLASSES), axis=1), np.zeros((len(audio), 4))

    seeds, records = choose_seeds(bundle, Loudness(), num_candidates=20)
    kit = seeded_kit(bundle, seeds)
    assert len(set(seeds)) == len(PAD_NOTES) and len(calls) == len({p.class_name for p in kit.pads})
    by_note = {p.note: p.class_name for p in kit.pads}
    assert by_note[36] == "kick" and by_note[38] == "snare" and by_note[42] == "closed_hat" and by_note[49] == "crash"
    assert all(p.class_name in classes for p in kit.pads)
    check_model(kit, bundle)  # a valid kit for the conditional model
    # the same seed rendered as two classes differs: the picks really were judged per class
    assert any(not np.allclose(a[0], b[0]) for a, b in zip(calls, calls[1:]))
