"""Cost of a pattern GAN training step on this machine (one torch thread), per config and dataset.

    python bench/pattern_cost.py --plan drums:data/grooves --plan melodic:data/bach --steps 30

Each plan trains ``--steps`` steps into a temporary run folder (log every step) and reports the
median wall milliseconds per step (critic + generator step, R1 every 16th), the CPU milliseconds
per step of this process (what a shared machine's load does not inflate), the parameter counts and
the steps a CPU-minute buys. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path


def measure(config: str, data: str, steps: int) -> dict:
    import torch

    from ganshot.training.patterns.config import load_pattern_config
    from ganshot.training.patterns.dataset import load_dataset
    from ganshot.training.patterns.model import PatternCritic, PatternGenerator
    from ganshot.training.patterns.train import spec_for, train_patterns

    with tempfile.TemporaryDirectory(prefix="pattern-cost-") as work:
        work = Path(work)
        parent = str(Path(config).resolve()) if config.endswith(".toml") else config
        (work / "c.toml").write_text(f"inherit = {json.dumps(parent)}\n[train]\nlog_every = 1\n"
                                     f"checkpoint_every = {steps + 1}\n")
        run = train_patterns(str(work / "c.toml"), data, work / "run", max_steps=steps)
        log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
        spec = spec_for(load_dataset(data), load_pattern_config(config))
    ms = statistics.median(entry["ms_per_step"] for entry in log[2:] or log)
    cpu_ms = (log[-1]["cpu_s"] - log[1]["cpu_s"]) * 1000 / max(len(log) - 2, 1)  # this process's CPU time
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    return {"config": config, "data": data, "rows": spec.rows, "steps": spec.steps, "channels": spec.channels,
            "g_params": count(PatternGenerator(spec)), "d_params": count(PatternCritic(spec)), "ms_per_step": ms,
            "cpu_ms_per_step": cpu_ms, "steps_per_cpu_min": 60000 / cpu_ms, "torch_threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", action="append", required=True, metavar="CONFIG:DATA")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    print("| config | data | window (channels x steps x rows) | G params | D params | wall ms/step (median) | CPU ms/step | steps/CPU-min |")
    print("|---|---|---|---|---|---|---|---|")
    for plan in args.plan:
        config, data = plan.split(":", 1)
        r = measure(config, data, args.steps)
        print(f"| {r['config']} | {r['data']} | {r['channels']} x {r['steps']} x {r['rows']} | {r['g_params']:,} | "
              f"{r['d_params']:,} | {r['ms_per_step']:.0f} | {r['cpu_ms_per_step']:.0f} | "
              f"{r['steps_per_cpu_min']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
