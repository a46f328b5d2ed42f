"""Latent matching on held-out real hits: how much closer than the best of N random seeds, and how long. Not a test.

For ``-n`` real one-shots of the dataset's held-out split (the split ``ganshot evaluate`` uses,
one per class in turn), ``ganshot match``'s :func:`~ganshot.engine.match.match_sound` runs with
the hit's own class: the search over ``--seeds`` seeded latents, then ``--steps`` of refinement
of the best few. Per hit: the best searched seed's distance, the matched distance (the
multi-resolution log-mel distance of engine/match.py), their ratio, and the wall time of the
match (one torch thread, ONNX Runtime one thread). Prints a Markdown table and the medians.

    python bench/match.py presets/models/drums-v2 --data data/drums2x8 -n 12

Results kept with the code: bench/results/match.md.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("--data", required=True)
    parser.add_argument("-n", type=int, default=12, help="held-out hits matched")
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    from ganshot.engine.bundle import load_bundle
    from ganshot.training.data import OneShotDataset
    from ganshot.training.evaluate import split_items
    from ganshot.engine.match import match_sound

    bundle = load_bundle(args.bundle)
    dataset = OneShotDataset(args.data)
    _, test_idx = split_items(dataset.manifest, seed=0)
    labels = dataset.labels.numpy()
    by_class = {}
    for index in test_idx:
        name = dataset.classes[int(labels[index])]
        if not bundle.conditional or name in bundle.classes:
            by_class.setdefault(name, []).append(int(index))
    order, picked = sorted(by_class), []
    while len(picked) < args.n and any(by_class.values()):
        for name in order:
            if by_class[name] and len(picked) < args.n:
                picked.append((name, by_class[name].pop(0)))
    print(f"{bundle.name}: {len(picked)} held-out hits, {args.seeds} seeds searched, {args.steps} refinement steps "
          f"for each of the best few\n")
    print("| hit | class | best of seeds | matched | matched / best | seconds |\n|---|---|---|---|---|---|")
    ratios, seconds = [], []
    for name, index in picked:
        target = dataset.audio[index].numpy()
        result = match_sound(bundle, target, class_name=name if bundle.conditional else None, seeds=args.seeds,
                             steps=args.steps)
        ratios.append(result.distance / result.seed_distance)
        seconds.append(result.seconds)
        print(f"| {index} | {name} | {result.seed_distance:.3f} | {result.distance:.3f} | {ratios[-1]:.2f} | "
              f"{result.seconds:.1f} |", flush=True)
    print(f"\nmedian matched / best-of-{args.seeds}: {np.median(ratios):.2f} (closer on {np.mean(np.array(ratios) < 1):.0%} "
          f"of hits); median {np.median(seconds):.1f} s a match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
