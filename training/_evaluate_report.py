"""The Markdown summary of an evaluation report (see :mod:`ganshot.training.evaluate`)."""

from __future__ import annotations

__all__ = ["markdown"]


def _yes(met: bool) -> str:
    return "met" if met else "**not met**"


def markdown(report: dict, grid_name: str) -> str:
    """``report.md`` text for ``report`` (the dict :func:`~ganshot.training.evaluate.evaluate` returns)."""
    m, d, c = report["model"], report["dataset"], report["classifier"]
    is_, fd, cov, mem, t = (report["inception_score"], report["frechet_distance"], report["coverage"],
                            report["memorisation"], report["targets"])
    steps = f", {m['steps']} generator steps" if m.get("steps") is not None else ""
    lines = [
        f"# Evaluation of {m['name']}",
        "",
        f"Model `{m['name']}` (model.json sha256 {m['model_json_sha256'][:16]}…{steps}) against the dataset "
        f"`{d['path']}` ({d['items']} one-shots, {len(d['classes'])} classes; split by source hit: "
        f"{d['train']} train, {d['test']} test). {report['generated']['count']} generated one-shots from seeds "
        f"{report['generated']['first_seed']} on ({report['generated']['non_finite']} non-finite). "
        f"Drum classifier: test accuracy {c['test_accuracy']:.3f} (balanced over classes "
        f"{c['test_balanced_accuracy']:.3f}), train {c['train_accuracy']:.3f}"
        f"{' (reused)' if c['reused'] else ''}.",
        "",
        "| figure | real | generated | ratio | target | |",
        "|---|---|---|---|---|---|",
        f"| Inception Score | {is_['real_test']:.2f} (test split) | "
        f"{is_['generated']:.2f} | {is_['ratio']:.2f} | "
        f"{t['inception_score']['target']} | {_yes(t['inception_score']['met'])} |",
        f"| Fréchet distance (classifier embedding) | {fd['floor_train_vs_test']:.3f} (train vs test, the floor) | "
        f"{fd['generated_vs_test']:.3f} ({fd['generated_used']} vs test) | {fd['ratio']:.2f} | "
        f"{t['frechet_distance']['target']} | {_yes(t['frechet_distance']['met'])} |",
        f"| nearest training one-shot (median distance) | {mem['test_nn_median']:.3f} (test) | "
        f"{mem['generated_nn_median']:.3f} | {mem['median_ratio']:.2f} | – | |",
        f"| copy share (closer than 95 % of test) | {mem['copy_share_expected']:.2f} (by definition) | "
        f"{mem['copy_share']:.3f} | – | {t['memorisation']['target']} | {_yes(t['memorisation']['met'])} |",
        "",
        "## Coverage",
        "",
        f"Share of generated one-shots per predicted class (present from {cov['present_share']:.0%}):",
        "",
        "| class | share | | family | share |",
        "|---|---|---|---|---|",
    ]
    families = list(cov["families"].items())
    for i, (name, share) in enumerate(cov["shares"].items()):
        fam = f"{families[i][0]} | {families[i][1]:.3f}" if i < len(families) else " | "
        lines.append(f"| {name} | {share:.3f} | | {fam} |")
    missing = ", ".join(cov["missing"]) or "none"
    fam_missing = ", ".join(cov["families_missing"]) or "none"
    lines += [
        "",
        f"Missing classes: {missing}. Missing families: {fam_missing} "
        f"({_yes(t['families']['met'])}: {t['families']['target']}).",
        "",
        f"`{grid_name}`: one row per class in the order above; the first tile is a real test one-shot of the class "
        "(dark when the test split has none), then the generated one-shots the classifier is surest of.",
        "",
        "Method: Inception Score = exp(E KL(p(y|x) ‖ p(y))) over each whole set with the drum classifier; Fréchet "
        "distance between Gaussians fitted to the classifier's 64-d embeddings, with as many generated one-shots "
        "as real train ones; memorisation in log-mel space (unit-norm rows): a copy is a generated one-shot closer "
        "to its nearest training one-shot than 95 % of the real test one-shots are.",
        "",
    ]
    return "\n".join(lines)
