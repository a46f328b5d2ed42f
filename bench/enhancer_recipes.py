"""Enhancer recipes at equal CPU time: synthetic pairs only, + latent-inversion pairs, + the adversarial term. Not a test.

Each recipe trains from scratch (same seed, same data, one torch thread) for ``--cpu-minutes``,
is exported beside the model as a bundle, and is judged by ``ganshot evaluate`` with one drum
classifier for all (``--classifier``, e.g. the model's own ``-eval/classifier.safetensors``),
the enhancer on, against the raw model (enhancer off). Figures: the held-out validation
log-spectral distances of the run (degraded -> clean, clean -> itself), the inversion pairs'
distance (a fit check on training rows), and from the evaluation: tail floor vs real per drum
family, the worst tonal line, FD ratio, probe.

    nice python bench/enhancer_recipes.py --data data/drums2x8 --model presets/models/drums-v2 \\
        --pairs runs/pairs-v2.safetensors --classifier presets/models/drums-v2-eval/classifier.safetensors \\
        --cpu-minutes 6 --out runs/enhancer-recipes

Results kept with the code: bench/results/enhancer_recipes.md (the table) and .json.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

FAMILIES = ("kick", "snare", "hat", "tom", "cymbal")
#: recipe name -> EnhanceConfig fields (the pairs file is filled in where asked for)
RECIPES = {
    "synthetic": {},
    "synthetic + inversion pairs": {"inversion_pairs": True},
    "synthetic + adversarial": {"adv_weight": 0.1},
    "synthetic + inversion pairs + adversarial": {"inversion_pairs": True, "adv_weight": 0.1},
}


def _evaluate(bundle: Path, data: str, classifier: str, out: Path, enhance: bool, n: int) -> dict:
    from ganshot.training.evaluate import evaluate

    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(classifier, out / "classifier.safetensors")
    report = evaluate(bundle, data, out, n=n, enhance=enhance, say=lambda line: None)
    families = report["tail_floor"]["families"]
    return {"tails_db": {f: round(families[f]["difference_db"], 1) for f in FAMILIES if f in families},
            "tonal_max_excess_db": round(report["tonal_lines"]["max_excess_db"], 1),
            "fd_ratio": round(report["frechet_distance"]["ratio"], 2), "probe": round(report["probe"]["accuracy"], 3),
            "is_ratio": round(report["inception_score"]["ratio"], 2)}


def _row(name: str, figures: dict, log: dict | None) -> str:
    tails = " / ".join(f"{figures['tails_db'].get(f, float('nan')):+.0f}" for f in FAMILIES)
    lsd = "–" if log is None else f"{log['lsd_noisy_db']:.1f} → {log['lsd_enhanced_db']:.1f}"
    same = "–" if log is None else f"{log['lsd_identity_db']:.2f}"
    pairs = "–" if log is None or "lsd_pairs_after_db" not in log else \
        f"{log['lsd_pairs_before_db']:.1f} → {log['lsd_pairs_after_db']:.1f}"
    steps = "–" if log is None else f"{log['step']:,}"
    return (f"| {name} | {steps} | {lsd} | {same} | {pairs} | {tails} | {figures['tonal_max_excess_db']:+.1f} | "
            f"{figures['fd_ratio']:.2f} | {figures['probe']:.3f} | {figures['is_ratio']:.2f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True, help="the model bundle the enhancers are for")
    parser.add_argument("--pairs", required=True, help="inversion pairs (ganshot enhance-pairs)")
    parser.add_argument("--classifier", required=True, help="the judge: a drum classifier of ganshot evaluate")
    parser.add_argument("--cpu-minutes", type=float, default=6.0)
    parser.add_argument("-n", type=int, default=1000, help="one-shots per evaluation")
    parser.add_argument("--out", required=True, help="work folder (runs, bundles, reports)")
    parser.add_argument("--only", default=None, help="comma-separated recipe names to run (default: all)")
    parser.add_argument("--results", default="bench/results/enhancer_recipes")
    args = parser.parse_args(argv)

    import torch

    from ganshot.training.enhance import EnhanceConfig, train_enhancer
    from ganshot.training.enhance_export import export_enhancer

    torch.set_num_threads(1)
    out = Path(args.out)
    results_json = Path(args.results + ".json")
    results = json.loads(results_json.read_text()) if results_json.exists() else {}
    if "raw model" not in results:
        results["raw model"] = {"figures": _evaluate(Path(args.model), args.data, args.classifier, out / "eval-raw",
                                                     False, args.n), "log": None}
    wanted = RECIPES if args.only is None else {k: RECIPES[k] for k in args.only.split(",")}
    for name, fields in wanted.items():
        index = list(RECIPES).index(name)  # folders by the recipe's place in the table, whatever --only picks
        run = out / f"run-{index}"
        fields = {**fields, "inversion_pairs": args.pairs if fields.get("inversion_pairs") else None}
        cfg = EnhanceConfig(steps=1_000_000, max_cpu_minutes=args.cpu_minutes, eval_every=200, **fields)
        train_enhancer(args.data, args.model, run, cfg, resume=True, say=lambda line: None)
        bundle = export_enhancer(run, args.model, out / f"bundle-{index}", name=f"enhancer-recipe-{index}")
        log = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
        results[name] = {"figures": _evaluate(bundle, args.data, args.classifier, out / f"eval-{index}", True, args.n),
                         "log": log, "config": {k: v for k, v in fields.items() if v is not None}}
        results_json.write_text(json.dumps(results, indent=2) + "\n")
        print(_row(name, results[name]["figures"], log), flush=True)
    header = ("| recipe | steps | held-out degraded LSD dB | clean→itself LSD dB | inversion pairs LSD dB (train) | "
              "tail vs real dB: kick / snare / hat / tom / cymbal | worst tonal line dB | FD ratio | probe | IS ratio |\n"
              "|---|---|---|---|---|---|---|---|---|---|")
    table = "\n".join([header] + [_row(k, v["figures"], v["log"]) for k, v in results.items()])
    results_json.write_text(json.dumps(results, indent=2) + "\n")
    Path(args.results + ".md").write_text(
        f"Enhancer recipes, {args.cpu_minutes:g} CPU minutes each from scratch (one torch thread, seed 0), "
        f"model {args.model}, judged by `ganshot evaluate` ({args.n} one-shots, classifier {args.classifier}).\n\n"
        f"{table}\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
