"""Judging and printing an evaluation report (see :mod:`ganshot.training.evaluate`).

``judge(report, targets)`` fills ``report["targets"]``; ``console_lines(report)`` is what
``ganshot evaluate`` prints; ``markdown(report, grid_name)`` is ``report.md``. The printers
read v1 reports too (they show the figures a v1 report has). ``read_report`` reads any
evaluation ``report.json`` back (drums and pitched), refusing formats and versions it does not know.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["judge", "markdown", "console_lines", "read_report", "MAX_REPORT_BYTES"]

MAX_REPORT_BYTES = 64 * 1024 * 1024


def read_report(path, report_format: str, readable_versions: tuple) -> dict:
    """``report.json`` (``path`` a folder or the file) of ``report_format`` at one of ``readable_versions``;
    FormatError with one line otherwise."""
    from ganshot.engine.errors import FormatError
    from ganshot.engine.strict_json import read_json_file

    path = Path(path)
    report = read_json_file(path / "report.json" if path.is_dir() else path, MAX_REPORT_BYTES, "evaluation report")
    if not isinstance(report, dict) or report.get("format") != report_format:
        raise FormatError(f"{path}: not a {report_format} report")
    if report.get("version") not in readable_versions:
        word = "versions" if len(readable_versions) > 1 else "version"
        raise FormatError(f"{path}: {report_format} version {report.get('version')!r} is not supported "
                          f"(this ganshot reads {word} {', '.join(map(str, readable_versions))})")
    return report


def _yes(met: bool) -> str:
    return "met" if met else "**not met**"


def _tail_worst(report: dict) -> tuple[str | None, float | None, bool]:
    """(family, |difference| dB) of the worst family, and whether every family of the real data has
    generated one-shots too (families the dataset lacks cannot be compared and are left out)."""
    families = {f: v for f, v in report["tail_floor"]["families"].items() if v["real_count"]}  # comparable ones
    known = {f: abs(v["difference_db"]) for f, v in families.items() if v["difference_db"] is not None}
    if not known:
        return None, None, False
    worst = max(known, key=known.get)
    return worst, known[worst], len(known) == len(families)


def judge(report: dict, targets: dict) -> dict:
    """name -> {value, target, met} for every target the report has figures for."""
    is_ratio = report["inception_score"]["ratio"]
    fd_ratio = report["frechet_distance"]["ratio"]
    missing = report["coverage"]["families_missing"]
    copy_share = report["memorisation"]["copy_share"]
    out = {
        "inception_score": {"value": is_ratio, "target": f">= {targets['is_ratio_min']} x real test",
                            "met": is_ratio >= targets["is_ratio_min"]},
        "frechet_distance": {"value": fd_ratio, "target": f"<= {targets['fd_ratio_max']} x floor",
                             "met": fd_ratio <= targets["fd_ratio_max"]},
        "families": {"value": missing, "target": "kick, snare, hat, tom and cymbal all present", "met": not missing},
        "memorisation": {"value": copy_share, "target": f"copy share <= {targets['copy_share_max']}",
                         "met": copy_share <= targets["copy_share_max"]},
    }
    if "probe" in report:
        accuracy = report["probe"]["accuracy"]
        out["probe"] = {"value": accuracy, "target": f"<= {targets['probe_max']} (0.5 = indistinguishable)",
                        "met": accuracy <= targets["probe_max"]}
    if "tail_floor" in report:
        family, worst, complete = _tail_worst(report)
        out["tail_floor"] = {"value": worst, "worst_family": family, "limit_db": targets["tail_db_max"],
                             "target": f"every family within {targets['tail_db_max']:g} dB of real",
                             "comparable": complete,
                             "met": complete and worst <= targets["tail_db_max"]}
    if "tonal_lines" in report:
        excess = report["tonal_lines"]["max_excess_db"]
        out["tonal_lines"] = {"value": excess, "limit_db": targets["tonal_db_max"], "target": f"no line more than {targets['tonal_db_max']:g} dB above real",
                              "met": excess <= targets["tonal_db_max"]}
    return out


def _db(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def _row(label: str, real: str, generated: str, compared: str, target: dict | None) -> str:
    verdict = "" if target is None else f"{target['target']:44} {'met' if target['met'] else 'NOT MET'}"
    return f"{label:34} {real:>9} {generated:>9} {compared:>15}  {verdict}".rstrip()


def console_lines(report: dict) -> list[str]:
    """The summary ``ganshot evaluate`` prints: each figure as real / generated / ratio, and its target."""
    t = report["targets"]
    is_, fd, mem = report["inception_score"], report["frechet_distance"], report["memorisation"]
    lines = [_row("figure", "real", "generated", "ratio / diff", None) + "  target",
             _row("Inception Score", f"{is_['real_test']:.2f}", f"{is_['generated']:.2f}",
                  f"{is_['ratio']:.2f} x real", t["inception_score"]),
             _row("Frechet distance (real = floor)", f"{fd['floor_train_vs_test']:.3f}",
                  f"{fd['generated_vs_test']:.3f}", f"{fd['ratio']:.2f} x floor", t["frechet_distance"])]
    if "probe" in report:
        lines.append(_row("real-vs-generated probe accuracy", "0.50", f"{report['probe']['accuracy']:.2f}",
                          "", t["probe"]))
    if "tail_floor" in report:
        for family, v in report["tail_floor"]["families"].items():
            diff = "-" if v["difference_db"] is None else f"{v['difference_db']:+.1f} dB"
            lines.append(_row(f"tail floor {family} (dB re peak)", _db(v["real_db"]), _db(v["generated_db"]), diff,
                              None))
        worst = t["tail_floor"]
        lines.append(_row("tail floor, worst family", "", "", "-" if worst["value"] is None else
                          f"{worst['value']:.1f} dB ({worst['worst_family']})", worst))
    if "tonal_lines" in report:
        for line in report["tonal_lines"]["lines"]:
            lines.append(_row(f"tonal line {line['frequency_hz'] / 1000:g} kHz (dB)", _db(line["real_db"]),
                              _db(line["generated_db"]), f"{line['excess_db']:+.1f} dB", None))
        lines.append(_row("tonal lines, worst excess", "", "", f"{report['tonal_lines']['max_excess_db']:+.1f} dB",
                          t["tonal_lines"]))
    lines.append(_row("memorisation: copy share", f"{mem['copy_share_expected']:.2f}", f"{mem['copy_share']:.3f}",
                      "", t["memorisation"]))
    cov = report["coverage"]
    present = cov.get("families_present", [f for f in cov["families"] if f not in cov["families_missing"]])
    lines.append(f"{'drum families':34} met: {', '.join(present) or 'none'}; "
                 f"missing: {', '.join(cov['families_missing']) or 'none'}  "
                 f"{'met' if t['families']['met'] else 'NOT MET'}")
    c = report["classifier"]
    lines.append(f"{'classifier accuracy, held-out kits':34} {c['test_accuracy']:.2f} (balanced "
                 f"{c['test_balanced_accuracy']:.2f}, train {c['train_accuracy']:.2f}; aim >= 0.85)")
    return lines


def _v2_rows(report: dict) -> list[str]:
    """The Markdown table rows of the v2 figures (none for a v1 report)."""
    t, rows = report["targets"], []
    if "probe" in report:
        p = report["probe"]
        rows.append(f"| real-vs-generated probe ({p['folds']}-fold accuracy, {p['per_side']} per side) | 0.5 (chance) | "
                    f"{p['accuracy']:.3f} | – | {t['probe']['target']} | {_yes(t['probe']['met'])} |")
    if "tail_floor" in report:
        limit = t["tail_floor"]["limit_db"]
        for family, v in report["tail_floor"]["families"].items():
            diff, met = "–", "**not met** (none generated)" if v["real_count"] else "n/a (none in the data)"
            if v["difference_db"] is not None:
                diff, met = f"{v['difference_db']:+.1f} dB", _yes(abs(v["difference_db"]) <= limit)
            rows.append(f"| tail floor, {family} (dB re peak; n = {v['real_count']} real, {v['generated_count']} "
                        f"generated) | {_db(v['real_db'])} | {_db(v['generated_db'])} | {diff} | "
                        f"within {limit:g} dB | {met} |")
    if "tonal_lines" in report:
        for line in report["tonal_lines"]["lines"]:
            rows.append(f"| tonal line at {line['frequency_hz']:g} Hz (dB over neighbours) | {line['real_db']:.1f} | "
                        f"{line['generated_db']:.1f} | {line['excess_db']:+.1f} dB | {t['tonal_lines']['target']} | "
                        f"{_yes(line['excess_db'] <= t['tonal_lines']['limit_db'])} |")
    return rows


def _coverage_lines(cov: dict, t: dict, grid_name: str) -> list[str]:
    """The coverage table rows, the missing classes and families, and what the grid shows."""
    lines = []
    families = list(cov["families"].items())
    for i, (name, share) in enumerate(cov["shares"].items()):
        fam = f"{families[i][0]} | {families[i][1]:.3f}" if i < len(families) else " | "
        lines.append(f"| {name} | {share:.3f} | | {fam} |")
    present = cov.get("families_present", [f for f in cov["families"] if f not in cov["families_missing"]])
    return lines + [
        "",
        f"Missing classes: {', '.join(cov['missing']) or 'none'}. Families met: {', '.join(present) or 'none'}; "
        f"missing: {', '.join(cov['families_missing']) or 'none'} "
        f"({_yes(t['families']['met'])}: {t['families']['target']}).",
        "",
        f"`{grid_name}`: one labelled row per class in the order above; the first tile is a real test one-shot of the "
        "class (blank when the test split has none), then the generated one-shots the classifier is surest of, "
        "with their seeds and probabilities; frequency in kHz on a log axis, time in s.",
        "",
    ]


def markdown(report: dict, grid_name: str) -> str:
    """``report.md`` text for ``report`` (the dict :func:`~ganshot.training.evaluate.evaluate` returns)."""
    m, d, c = report["model"], report["dataset"], report["classifier"]
    is_, fd, cov, mem, t = (report["inception_score"], report["frechet_distance"], report["coverage"],
                            report["memorisation"], report["targets"])
    steps = f", {m['steps']} generator steps" if m.get("steps") is not None else ""
    sources = f" from {', '.join(d['sources'])}" if d.get("sources") else ""
    lines = [
        f"# Evaluation of {m['name']}",
        "",
        f"Model `{m['name']}` (model.json sha256 {m['model_json_sha256'][:16]}…{steps}) against the dataset "
        f"`{d['path']}`{sources} ({d['items']} one-shots, {len(d['classes'])} classes; split by source hit: "
        f"{d['train']} train, {d['test']} test). {report['generated']['count']} generated one-shots from seeds "
        f"{report['generated']['first_seed']} on ({report['generated']['non_finite']} non-finite)"
        f"{', through the bundle enhancer' if report['generated'].get('enhanced') else ''}"
        f"{', as played (the engine post-process: tail gate, fade, peak)' if report['generated'].get('as_played') else ''}. "
        f"Drum classifier accuracy on the held-out kits (test split): {c['test_accuracy']:.3f} (balanced over "
        f"classes {c['test_balanced_accuracy']:.3f}; aim >= 0.85), train {c['train_accuracy']:.3f}"
        f"{' (reused)' if c['reused'] else ''}.",
        "",
        "| figure | real | generated | ratio / difference | target | |",
        "|---|---|---|---|---|---|",
        f"| Inception Score | {is_['real_test']:.2f} (test split) | "
        f"{is_['generated']:.2f} | {is_['ratio']:.2f} | "
        f"{t['inception_score']['target']} | {_yes(t['inception_score']['met'])} |",
        f"| Fréchet distance (classifier embedding) | {fd['floor_train_vs_test']:.3f} (train vs test, the floor) | "
        f"{fd['generated_vs_test']:.3f} ({fd['generated_used']} vs test) | {fd['ratio']:.2f} | "
        f"{t['frechet_distance']['target']} | {_yes(t['frechet_distance']['met'])} |",
        *_v2_rows(report),
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
    lines += _coverage_lines(cov, t, grid_name)
    lines += [
        "Method: Inception Score = exp(E KL(p(y|x) ‖ p(y))) over each whole set with the drum classifier; Fréchet "
        "distance between Gaussians fitted to the classifier's 64-d embeddings, with as many generated one-shots "
        "as real train ones; memorisation in log-mel space (unit-norm rows): a copy is a generated one-shot closer "
        "to its nearest training one-shot than 95 % of the real test one-shots are.",
    ]
    if "probe" in report:
        lines += [
            "Probe: an L2 logistic regression on the classifier's embeddings told to separate the real test split "
            "from as many generated one-shots, stratified 5-fold accuracy (0.5 = it cannot tell them apart). "
            f"Tail floor: {report['tail_floor']['definition']}; generated one-shots count for the family the "
            f"classifier gives them. Tonal lines (the transposed-convolution artefact at k·fs/16, including fs/4): "
            f"{report['tonal_lines']['definition']}; about 0 dB where there is no line.",
        ]
    return "\n".join(lines + [""])
