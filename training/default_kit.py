"""Pick the default kit's 16 pads from a model with the drum classifier of ``ganshot evaluate``.

Each GM pad of notes 36–51 asks for its drum class (:func:`~ganshot.engine.gm_drums.note_class`:
36 kick, 37 rimshot, 38 snare, 39 clap, 42 closed hat, 49 crash, …). The classifier judges
``candidates`` seeded one-shots of the model at each truncation psi of ``truncations`` (z
scaled by psi: lower is more typical of the class, less varied), and each pad takes the unused
seed and psi the classifier is surest belongs to its class (highest probability; a tie keeps the
larger psi), in the order of :data:`PICK_ORDER` so the pads that matter most choose first. The
kit stores each pad's psi (``truncation``). A class-conditional model
renders each pad's candidates as the pad's class (``class_name`` in the kit), so the pick is
among sounds the model already means to be that drum.

    python -m ganshot.training.default_kit presets/models/drums-v1 \\
        --classifier presets/models/drums-v1-eval/classifier.safetensors -o presets/kits/default.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import UserInputError
from ganshot.engine.kit import save_kit
from ganshot.engine.kit_schema import MAX_TRUNCATION, MIN_TRUNCATION
from ganshot.engine.presets import FIRST_PAD_NOTE, GM_PAD_NAMES, pad_class, seeded_kit

from ganshot.engine.gm_drums import note_class

__all__ = ["PAD_NOTES", "PICK_ORDER", "PICK_TRUNCATIONS", "choose_seeds", "main"]

PAD_NOTES = tuple(range(FIRST_PAD_NOTE, FIRST_PAD_NOTE + len(GM_PAD_NAMES)))
#: kick, snare, closed hat, crash, open hat, ride, the toms, then the rest.
PICK_ORDER = (36, 38, 42, 49, 46, 51, 41, 45, 48, 39, 37, 44, 40, 43, 47, 50)
#: The truncations the default kit was picked with (``--truncation``), largest first.
PICK_TRUNCATIONS = (1.0, 0.75, 0.5)


def choose_seeds(bundle, classifier, num_candidates: int = 512, first_seed: int = 1,
                 truncations=(1.0,)) -> tuple[list[int], list[dict]]:
    """(one seed per note of :data:`PAD_NOTES`, one pick record per pad) for ``bundle``.

    A pick record: ``{"note", "class", "seed", "truncation", "probability", "predicted"}``
    (``predicted``: the class the classifier ranks first for that seed and truncation).
    """
    from .evaluate import render_seeds

    if num_candidates < len(PAD_NOTES):
        raise UserInputError(f"need at least {len(PAD_NOTES)} candidates, got {num_candidates}")
    if classifier.sample_rate != bundle.sample_rate:
        raise UserInputError(f"the classifier is for {classifier.sample_rate} Hz, the model makes {bundle.sample_rate} Hz")
    missing = sorted({note_class(n) for n in PAD_NOTES} - set(classifier.classes))
    if missing:
        raise UserInputError(f"the classifier knows no {', '.join(missing)}: train it on a GM drum dataset")
    truncations = sorted({float(t) for t in truncations}, reverse=True)
    if not truncations or not all(MIN_TRUNCATION <= t <= MAX_TRUNCATION for t in truncations):
        raise UserInputError(f"truncations must lie in {MIN_TRUNCATION}..{MAX_TRUNCATION}, got {truncations}")
    seeds = list(range(first_seed, first_seed + num_candidates))
    candidates = [(seed, psi) for psi in truncations for seed in seeds]  # row i of every probability table
    column = {name: i for i, name in enumerate(classifier.classes)}

    def judge(label=None):
        return np.concatenate([classifier.predict(render_seeds(bundle, seeds, label=label, truncation=psi))[0]
                               for psi in truncations])

    if bundle.conditional:  # each pad asks the model for its class: judge the seeds rendered as that class
        probs_of = {cls: judge(list(bundle.classes).index(cls))
                    for cls in {pad_class(bundle, n, i) for i, n in enumerate(PAD_NOTES)}}
    else:
        probs = judge()
        probs_of = {note_class(n): probs for n in PAD_NOTES}
    used: set[int] = set()
    picks: dict[int, dict] = {}
    for note in PICK_ORDER:
        cls = pad_class(bundle, note, PAD_NOTES.index(note)) or note_class(note)
        probs = probs_of[cls]
        wanted = column[note_class(note)]
        order = np.argsort(-probs[:, wanted], kind="stable")
        best = next(int(i) for i in order if candidates[int(i)][0] not in used)
        seed, psi = candidates[best]
        used.add(seed)
        picks[note] = {"note": note, "class": note_class(note), "seed": seed, "truncation": psi,
                       "probability": float(probs[best, wanted]),
                       "predicted": classifier.classes[int(probs[best].argmax())]}
    records = [picks[note] for note in PAD_NOTES]
    return [r["seed"] for r in records], records


def main(argv=None) -> int:
    from .classifier import load_classifier

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="model bundle folder under presets/models/")
    parser.add_argument("--classifier", required=True, help="classifier.safetensors written by ganshot evaluate")
    parser.add_argument("-o", "--out", default="presets/kits/default.json")
    parser.add_argument("--candidates", type=int, default=512)
    parser.add_argument("--truncation", type=float, action="append",
                        help=f"a truncation psi to try (repeatable; default {' '.join(map(str, PICK_TRUNCATIONS))})")
    args = parser.parse_args(argv)
    bundle = load_bundle(args.bundle)
    classifier, _ = load_classifier(args.classifier)
    seeds, records = choose_seeds(bundle, classifier, args.candidates, truncations=args.truncation or PICK_TRUNCATIONS)
    for r in records:
        print(f"{r['note']:3d} {r['class']:12} seed {r['seed']:5d} psi {r['truncation']:.2f}  p={r['probability']:.3f}"
              f"  (first guess {r['predicted']})")
    kit = seeded_kit(bundle, seeds, name="default", truncations=[r["truncation"] for r in records])
    print(save_kit(kit, Path(args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
