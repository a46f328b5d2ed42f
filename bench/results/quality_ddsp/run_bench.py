"""The DDSP-vs-WaveGAN bench of bench/results/quality_ddsp/ (issue 10), as it was run. Not a test.

bench/quality_per_cpu_hour.py with two additions, without changing it: every evaluation also
measures the tail noise floor per drum family and the tonal lines (training/evaluate_figures.py's
``tail_floors`` / ``tonal_lines``, generated vs the real test split), and each recipe's last
judged generator is exported to ``--bundles`` (for bench/render_speed.py). FD ratio, probe and
IS ratio are computed exactly as the bench computes them (same latents, same labels)::

    nice .venv/bin/python bench/results/quality_ddsp/run_bench.py --data data/drums2x8 \\
        --classifier presets/models/drums-v2-eval/classifier.safetensors --minutes 12 --eval-every 4 -n 300 \\
        --recipe "drums_v2 (WaveGAN)=drums_v2:train.critic_warmup_steps=0" \\
        --recipe "drums_ddsp (DDSP)=drums_ddsp:train.critic_warmup_steps=0" \\
        --out bench/results/quality_ddsp --bundles out/quality_ddsp_bundles
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))


import quality_per_cpu_hour as bench  # noqa: E402

LAST = {}  # recipe name -> (generator copy, steps) of its latest evaluation
REAL = {}


def _real_test(data_dir: Path, seed: int) -> None:
    from ganshot.training.data import OneShotDataset
    from ganshot.training.evaluate import split_items

    dataset = OneShotDataset(data_dir)
    _, test_idx = split_items(dataset.manifest, seed=seed)
    REAL.update(audio=dataset.audio.numpy()[test_idx], labels=dataset.labels.numpy()[test_idx],
                classes=dataset.classes, sample_rate=dataset.sample_rate)


def _judge(generator, ref, n: int, seed: int, latent_dim: int) -> dict:
    """bench._judge plus tails and tonal lines, on the very same generated one-shots."""
    from ganshot.training.evaluate_figures import tail_floors, tonal_lines

    audio, labels = bench.render_judged(generator, ref, n, seed, latent_dim)
    judged, probs = bench.scores(audio, ref)
    gen_labels = labels if labels is not None else probs.argmax(1)
    tails = tail_floors(REAL["audio"], REAL["labels"], audio, gen_labels, REAL["classes"])
    diffs = {f: v["difference_db"] for f, v in tails.items() if v["difference_db"] is not None}
    tonal = tonal_lines(REAL["audio"], audio, REAL["sample_rate"])
    LAST[_judge.recipe] = (copy.deepcopy(generator).eval(), None)
    return {**judged, "tail_worst_db": max(diffs.values(), key=abs) if diffs else None, "tail_db": diffs,
            "tonal_max_excess_db": tonal["max_excess_db"]}


def _table(rows: list[dict]) -> str:
    lines = ["| recipe | CPU min | generator steps | FD ratio | probe | IS ratio | worst tail floor vs real (dB) | "
             "tonal lines, max excess over real (dB) |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['recipe']} | {r['cpu_minutes']:.1f} | {r['steps']} | {r['fd_ratio']:.2f} | {r['probe']:.3f} | "
              f"{r['is_ratio']:.2f} | {r['tail_worst_db']:+.1f} | {r['tonal_max_excess_db']:+.1f} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundles", type=Path, default=Path("out/quality_ddsp_bundles"))
    own, rest = parser.parse_known_args()
    seed = 0
    data = Path(rest[rest.index("--data") + 1])
    _real_test(data, seed)
    bench._judge = _judge
    original_run = bench.run_recipe

    def run_recipe(name, *a, **k):
        _judge.recipe = name
        return original_run(name, *a, **k)

    bench.run_recipe = run_recipe
    bench._table = _table
    bench.main(rest)
    from ganshot.training.export import export_generator

    for name, (gen, _) in LAST.items():
        slug = name.split(" ")[0]
        path = export_generator(gen, gen.spec, own.bundles / slug, name=slug, sample_rate=16000,
                                classes=REAL["classes"] if gen.spec.conditional else [])
        print(f"exported {name} -> {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
