"""Does continuing a run lose what it had learnt? Judge a run's checkpoints in step order. Not a test.

A training that spans several sessions is continued with ``ganshot train ... --resume`` (the
critics, the EMA and both optimisers travel with the run) or warm-started with ``--init-from``
(fresh critics, trained alone for ``train.critic_warmup_steps`` first). Either way, the first
hour after the restart must not undo what was learnt. This bench takes checkpoint folders saved
along such a continued run (the restart point first), rebuilds each one's EMA generator and
judges it exactly as ``bench/quality_per_cpu_hour.py`` does (same classifier, same held-out
split, same seeded latents and class mix):

* FD ratio: Fréchet distance (classifier embedding) generated-vs-test over the train-vs-test floor;
* probe: k-fold real-vs-generated linear probe accuracy (0.5 = indistinguishable);
* IS ratio: Inception Score of the generated set over the real test split's.

``--cpu-seconds`` gives the trainer's CPU seconds since the restart for each checkpoint (read
from ``ps -o cputimes=`` when it was copied), so the table reads against CPU time. Prints a
Markdown table and writes ``table.md``, ``results.json`` and ``warm_start.png`` to ``--out``::

    python bench/warm_start.py --run runs/drums-v2 --data data/drums2x8 \\
        --classifier presets/models/drums-v2-eval/classifier.safetensors \\
        --checkpoint presets/train/drums-v2/checkpoints/step_0001753 --checkpoint snap/step_0003000 ...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_per_cpu_hour import pyplot, write_results  # noqa: E402

from ganshot.training.judge import judge, judge_reference  # noqa: E402  (one judge for the benches and training)


def _load_ema(run_dir: Path, checkpoint: Path):
    """The checkpoint's EMA generator (its raw generator when the run keeps no EMA), and its step."""
    from ganshot.training.checkpoint import CONFIG_FILE, RUN_INFO_FILE, load_generator

    with tempfile.TemporaryDirectory(prefix="ganshot-warm-") as tmp:
        view = Path(tmp)  # a run folder whose only checkpoint is this one
        for name in (CONFIG_FILE, RUN_INFO_FILE):
            (view / name).symlink_to((run_dir / name).resolve())
        (view / "checkpoints").mkdir()
        (view / "checkpoints" / checkpoint.name).symlink_to(checkpoint.resolve())
        generator, _, step = load_generator(view)
    return generator.eval(), step


def _plot(rows: list[dict], path: Path) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    x = [r["cpu_minutes"] if r["cpu_minutes"] is not None else r["steps"] for r in rows]
    xlabel = "trainer CPU minutes since the restart" if rows[0]["cpu_minutes"] is not None else "generator steps"
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, key, title in zip(axes, ("fd_ratio", "probe", "is_ratio"),
                              ("FD / floor (lower is better)", "probe accuracy (0.5 = indistinguishable)",
                               "IS / real IS (higher is better)")):
        ax.plot(x, [r[key] for r in rows], marker="o")
        ax.axhline(rows[0][key], color="grey", linewidth=0.8, linestyle="--", label="at the restart")
        ax.set(title=title, xlabel=xlabel, ylabel=key)
        ax.legend(fontsize=8)
    fig.suptitle("ganshot: quality after continuing a run (EMA generator, same judge)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def _table(rows: list[dict]) -> str:
    lines = ["| checkpoint | step | CPU min since restart | FD ratio | probe | IS ratio |", "|---|---|---|---|---|---|"]
    for r in rows:
        cpu = "" if r["cpu_minutes"] is None else f"{r['cpu_minutes']:.0f}"
        lines.append(f"| {r['checkpoint']} | {r['steps']} | {cpu} | {r['fd_ratio']:.2f} | {r['probe']:.3f} | "
                     f"{r['is_ratio']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="the run folder (its config.toml and run.json)")
    parser.add_argument("--checkpoint", type=Path, action="append", required=True,
                        help="a checkpoint folder (step_XXXXXXX), restart point first; repeatable")
    parser.add_argument("--cpu-seconds", type=float, action="append",
                        help="trainer CPU seconds since the restart, one per --checkpoint")
    parser.add_argument("--data", type=Path, required=True, help="dataset folder the run trains on")
    parser.add_argument("--classifier", type=Path, help="classifier.safetensors (else trained here)")
    parser.add_argument("-n", type=int, default=500, help="generated one-shots per checkpoint")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/warm_start"))
    args = parser.parse_args(argv)
    if args.cpu_seconds and len(args.cpu_seconds) != len(args.checkpoint):
        parser.error(f"--cpu-seconds given {len(args.cpu_seconds)} times for {len(args.checkpoint)} checkpoints")
    torch.set_num_threads(1)
    ref = judge_reference(args.data, args.classifier, args.seed)
    rows = []
    for i, folder in enumerate(args.checkpoint):
        generator, step = _load_ema(args.run, folder)
        cpu = None if not args.cpu_seconds else args.cpu_seconds[i] / 60
        row = {"checkpoint": folder.name, "steps": step, "cpu_minutes": cpu,
               **judge(generator, ref, args.n, args.seed, generator.spec.latent_dim)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    write_results(rows, args.out, _table(rows), _plot, "warm_start.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
