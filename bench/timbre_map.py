"""Timbre map build time: ``ganshot map`` for n one-shots, wall and CPU seconds per stage. Not a test.

    nice python bench/timbre_map.py presets/models/drums-v2 -n 4000 --out bench/results/timbre_map

Renders, embeds and lays out the map exactly as ``ganshot map`` does (one ONNX thread) into
``--out`` (map.json, map.png) and writes ``--out``/README.md with the times and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("-n", type=int, default=4000)
    parser.add_argument("--classifier", default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    import torch

    from ganshot.engine.bundle import load_bundle
    from ganshot.training.timbre_map import build_timbre_map

    torch.set_num_threads(1)
    bundle = load_bundle(args.bundle)
    marks = []
    start_wall, start_cpu = time.perf_counter(), time.process_time()

    def mark(line: str) -> None:
        marks.append((line, time.perf_counter() - start_wall, time.process_time() - start_cpu))
        print(f"{marks[-1][1]:7.1f} s  {line}", flush=True)

    load_before = os.getloadavg()[0]
    build_timbre_map(bundle, args.out, n=args.n, classifier=args.classifier, say=mark)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    rows = "\n".join(f"| {line} | {w:.1f} | {c:.1f} |" for line, w, c in marks)
    text = (f"# Timbre map build time\n\n`python bench/timbre_map.py {args.bundle} -n {args.n} --out {args.out}`: "
            f"{args.n} one-shots of `{bundle.name}` rendered (ONNX, one thread), embedded and laid out in "
            f"**{wall:.1f} s wall, {cpu:.1f} s CPU** (load average {load_before:.1f} → {os.getloadavg()[0]:.1f} "
            f"on 2 cores; the CPU figure is the one to compare).\n\n| stage done | wall s | CPU s |\n|---|---|---|\n"
            f"{rows}\n\n`map.png` and `map.json` beside this file are that map.\n")
    (Path(args.out) / "README.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
