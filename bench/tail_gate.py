"""Tail gate: each drum family's tail floor, real vs generated raw vs as played (gated). Not a test.

For every class of a conditional drum bundle, ``-n`` seeded one-shots are rendered (ONNX, the
class as label) and post-processed as the engine does, once with the tail gate off and once with
it on (``PostProcess()``'s default margin); the real one-shots of that class in ``--data`` are
the reference. The tail floor is training/artefacts.py's (RMS of the last 25 %, dB re the
one-shot's peak; -120 is digital silence); "gated" is the share of one-shots the gate touched.

    python bench/tail_gate.py presets/models/drums-v2 --data data/drums2x8 -n 40

Results kept with the code: bench/results/tail_gate.md.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("--data", required=True, help="the dataset folder the bundle was trained on")
    parser.add_argument("-n", type=int, default=40, help="one-shots per class")
    args = parser.parse_args(argv)

    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.postprocess import PostProcess, postprocess
    from ganshot.training.artefacts import tail_floor_db
    from ganshot.training.data import OneShotDataset
    from ganshot.training.evaluate import render_seeds

    bundle = load_bundle(args.bundle)
    if not bundle.conditional:
        sys.exit("bench/tail_gate.py: needs a class-conditional bundle (one row per class)")
    dataset = OneShotDataset(args.data)
    real, labels = dataset.audio.numpy(), dataset.labels.numpy()
    gate = PostProcess()
    print(f"{bundle.name}: tail floor, median dB re peak ({args.n} one-shots a class; gate margin "
          f"{gate.tail_gate_db:g} dB)\n")
    print("| class | real | generated, raw | as played (gated) | gated |\n|---|---|---|---|---|")
    for index, name in enumerate(bundle.classes):
        if name not in dataset.classes or not np.any(labels == dataset.classes.index(name)):
            continue
        audio = render_seeds(bundle, range(args.n), label=index)
        raw, _ = postprocess(audio, bundle.sample_rate, PostProcess(tail_gate_db=None))
        played, _ = postprocess(audio, bundle.sample_rate, gate)
        floors = [np.median(tail_floor_db(a)) for a in (real[labels == dataset.classes.index(name)], raw, played)]
        share = np.mean(np.any(raw != played, axis=1))
        print(f"| {name} | {floors[0]:.0f} | {floors[1]:.0f} | {floors[2]:.0f} | {share:.0%} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
