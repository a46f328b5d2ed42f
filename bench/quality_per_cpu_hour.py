"""Quality per CPU-hour: train each recipe for the same CPU budget, judge it every few minutes. Not a test.

Same data, same seed, same machine, one torch thread each, one recipe after the other (so
they never share a core). Every ``--eval-every`` CPU-minutes of *training* (evaluation time is
not counted) the current generator (its EMA when the recipe keeps one) renders ``--n`` one-shots,
and the project's drum classifier judges them against the held-out test split:

* FD ratio: Fréchet distance (classifier embedding) generated-vs-test over the train-vs-test floor;
* probe: k-fold accuracy of a linear real-vs-generated classifier on the embedding (0.5 = indistinguishable);
* IS ratio: Inception Score of the generated set over the real test split's.

Conditional recipes draw labels in the real data's class proportions, so every recipe is
compared on the same class mix. Prints a Markdown table, writes ``table.md``, ``results.json``
and ``quality_per_cpu_hour.png`` (FD ratio and probe accuracy against CPU minutes) to ``--out``.

    python bench/quality_per_cpu_hour.py --data data/drums2x8 \\
        --classifier presets/models/drums-v2-eval/classifier.safetensors --minutes 60 --eval-every 10

Results kept with the code: ``bench/results/`` (a 12-minute pilot, 2026-12-02).

A recipe is ``NAME=CONFIG[:OVERRIDE,OVERRIDE...]``; the defaults are :data:`RECIPES`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

# One judge for the benches and training (train.judge_every); the old private names stay for scripts that use them.
from ganshot.training.judge import judge as _judge  # noqa: E402
from ganshot.training.judge import judge_reference as _reference  # noqa: E402
from ganshot.training.judge import render_judged, scores  # noqa: E402,F401

RECIPES = {
    "wgan_gp 5:1 (drums-v1 recipe)": ("wavegan_small", ["train.class_balance=0.5"]),
    "drums_v2 + STFT critics [256, 1024]": ("drums_v2", ["train.critic_warmup_steps=0", "model.stft_critic=[256, 1024]"]),
    "drums_v2 (waveform critic only)": ("drums_v2", ["train.critic_warmup_steps=0"]),
}


class _BudgetSpent(Exception):
    pass


def write_results(rows: list[dict], out: Path, table: str, plot, png_name: str) -> None:
    """Print ``table``; write it, the rows as JSON and ``plot(rows, out / png_name)`` to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    print(table)
    (out / "table.md").write_text(table + "\n", encoding="utf-8")
    (out / "results.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    plot(rows, out / png_name)


def run_recipe(name: str, config: str, overrides, data_dir: Path, ref, minutes: float, every: float, n: int,
               seed: int, workdir: Path) -> list[dict]:
    """Train one recipe for ``minutes`` CPU-minutes; a row per evaluation."""
    from ganshot.training.train import train

    rows, spent = [], [0.0]
    marks = list(np.arange(every, minutes + 1e-9, every))
    started = [time.process_time()]

    def on_step(state, stats):
        spent[0] += time.process_time() - started[0]
        if marks and spent[0] / 60 >= marks[0]:
            marks.pop(0)
            gen = state.ema.module if state.ema is not None else getattr(state.generator, "module", state.generator)
            gen.eval()
            row = {"recipe": name, "cpu_minutes": round(spent[0] / 60, 2), "steps": state.step,
                   **_judge(gen, ref, n, seed, gen.spec.latent_dim)}
            gen.train()
            rows.append(row)
            print(json.dumps(row), flush=True)
        if spent[0] / 60 >= minutes:
            raise _BudgetSpent
        started[0] = time.process_time()

    try:
        train(config, data_dir=data_dir, run_dir=workdir / name.replace(" ", "_").replace("/", "-"),
              overrides=[f"train.seed={seed}", "train.checkpoint_every=100000", *overrides],
              max_steps=10**9, on_step=on_step)
    except _BudgetSpent:
        pass
    return rows


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None (and a line saying so) where it is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNG (pip install matplotlib)", file=sys.stderr)
        return None
    return plt


def _plot(rows: list[dict], path: Path) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        mine = [r for r in rows if r["recipe"] == recipe]
        x = [r["cpu_minutes"] for r in mine]
        axes[0].plot(x, [r["fd_ratio"] for r in mine], marker="o", label=recipe)
        axes[1].plot(x, [r["probe"] for r in mine], marker="o", label=recipe)
    axes[0].set(title="Fréchet distance / train-test floor (lower is better)", xlabel="training CPU minutes (1 thread)",
                ylabel="FD ratio")
    axes[1].set(title="real-vs-generated probe accuracy (0.5 = indistinguishable)", xlabel="training CPU minutes (1 thread)",
                ylabel="accuracy")
    axes[1].axhline(0.5, color="grey", linewidth=0.8)
    axes[0].legend(fontsize=8)
    fig.suptitle("ganshot: quality per CPU-hour, same data, seed and machine")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def _table(rows: list[dict]) -> str:
    lines = ["| recipe | CPU min | steps | FD ratio | probe | IS ratio |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['recipe']} | {r['cpu_minutes']:.1f} | {r['steps']} | {r['fd_ratio']:.2f} | {r['probe']:.3f} | "
              f"{r['is_ratio']:.2f} |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (ganshot dataset ...)")
    parser.add_argument("--classifier", type=Path, help="classifier.safetensors from ganshot evaluate (else trained here)")
    parser.add_argument("--minutes", type=float, default=60.0, help="CPU minutes of training per recipe")
    parser.add_argument("--eval-every", type=float, default=10.0, help="CPU minutes between evaluations")
    parser.add_argument("-n", type=int, default=500, help="generated one-shots per evaluation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipe", action="append", help="NAME=CONFIG[:OVERRIDE,...] (repeatable; default: RECIPES)")
    parser.add_argument("--out", type=Path, default=Path("out/quality_per_cpu_hour"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    recipes = RECIPES
    if args.recipe:
        recipes = {}
        for item in args.recipe:
            name, _, spec = item.partition("=")
            config, _, overrides = spec.partition(":")
            recipes[name] = (config, [o for o in re.split(r",(?=\s*\w+\.\w+=)", overrides) if o])  # commas in lists stay
    ref = _reference(args.data, args.classifier, args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ganshot-quality-") as tmp:
        for name, (config, overrides) in recipes.items():
            rows += run_recipe(name, config, overrides, args.data, ref, args.minutes, args.eval_every, args.n,
                               args.seed, Path(tmp))
    write_results(rows, args.out, _table(rows), _plot, "quality_per_cpu_hour.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
