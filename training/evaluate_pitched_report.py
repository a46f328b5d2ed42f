"""Judging, printing and reading a pitched evaluation report (see :mod:`ganshot.training.evaluate_pitched_run`).

``judge(report, targets)`` fills ``report["targets"]``; ``console_lines(report)`` is what
``ganshot evaluate`` prints for a pitched bundle (each figure as real / generated / ratio and its
target, like the drums summary); ``markdown(report, accuracy_png, cents_png)`` is ``report.md``;
``load_pitched_report(path)`` reads ``report.json`` back, refusing formats and versions it does not know.
"""

from __future__ import annotations

__all__ = ["judge", "console_lines", "markdown", "load_pitched_report", "REPORT_FORMAT", "REPORT_VERSION",
           "READABLE_VERSIONS"]

REPORT_FORMAT, REPORT_VERSION = "ganshot-evaluation-pitched", 1
READABLE_VERSIONS = (1,)


def judge(report: dict, targets: dict) -> dict:
    """name -> {value, target, met} for every target (and {value, aim, met} for the aims)."""
    accuracy = report["pitch"]["generated"]["pitch_accuracy"]
    faulty = report["faults"]["faulty_notes"]
    is_ratio, fd_ratio = report["inception_score"]["ratio"], report["frechet_distance"]["ratio"]
    probe = report["probe"]["accuracy"]
    timbre = report["timbre"]["envelope_step_db"]["ratio"]
    return {
        "pitch_accuracy": {"value": accuracy, "limit": targets["pitch_accuracy"],
                           "target": f">= {targets['pitch_accuracy']:.0%} of notes within "
                                     f"{report['pitch']['tolerance_cents']:g} cents",
                           "met": accuracy >= targets["pitch_accuracy"]},
        "faults": {"value": len(faulty), "target": "every note of the range renders without silence or clipping",
                   "met": len(faulty) <= targets["faulty_notes_max"]},
        "inception_score": {"value": is_ratio, "target": f">= {targets['is_ratio_min']} x real test",
                            "met": is_ratio >= targets["is_ratio_min"]},
        "frechet_distance": {"value": fd_ratio, "target": f"<= {targets['fd_ratio_max']} x floor",
                             "met": fd_ratio <= targets["fd_ratio_max"]},
        "probe": {"value": probe, "target": f"<= {targets['probe_max']} (0.5 = indistinguishable)",
                  "met": probe <= targets["probe_max"]},
        "timbre_step": {"value": timbre, "aim": f"<= {targets['timbre_step_ratio_aim']} x real (an aim)",
                        "met": timbre is not None and timbre <= targets["timbre_step_ratio_aim"]},
    }


def _num(value, fmt: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{fmt}}{suffix}"


def _row(label: str, real: str, generated: str, compared: str, target: dict | None) -> str:
    verdict = "" if target is None else \
        f"{target.get('target', target.get('aim')):44} {'met' if target['met'] else 'NOT MET'}"
    return f"{label:34} {real:>9} {generated:>9} {compared:>15}  {verdict}".rstrip()


def console_lines(report: dict) -> list[str]:
    """The summary ``ganshot evaluate`` prints for a pitched bundle."""
    t, p, tim = report["targets"], report["pitch"], report["timbre"]
    gen, real = p["generated"], p["real"]
    is_, fd = report["inception_score"], report["frechet_distance"]
    lines = [_row("figure", "real", "generated", "ratio / diff", None) + "  target",
             _row(f"pitch within {p['tolerance_cents']:g} cents", f"{real['pitch_accuracy']:.1%}",
                  f"{gen['pitch_accuracy']:.1%}", _num(p["ratio"], suffix=" x real"), t["pitch_accuracy"])]
    for name, g in p["per_program"]["generated"].items():
        r = p["per_program"]["real"].get(name, {})
        lines.append(_row(f"  {name}", _num(r.get("pitch_accuracy"), ".1%"), f"{g['pitch_accuracy']:.1%}", "", None))
    lines += [
        _row("median |pitch error| (cents)", _num(real["median_abs_cents"], ".1f"), _num(gen["median_abs_cents"], ".1f"),
             "", None),
        _row("unvoiced notes", f"{real['unvoiced_share']:.1%}", f"{gen['unvoiced_share']:.1%}", "", None),
        _row("silent or clipped notes", str(report["faults"]["real_silent"] + report["faults"]["real_clipped"]),
             str(report["faults"]["silent"] + report["faults"]["clipped"]),
             f"{len(report['faults']['faulty_notes'])} keys", t["faults"]),
        _row("Inception Score", f"{is_['real_test']:.2f}", f"{is_['generated']:.2f}", f"{is_['ratio']:.2f} x real",
             t["inception_score"]),
        _row("Frechet distance (real = floor)", f"{fd['floor_train_vs_test']:.3f}", f"{fd['generated_vs_test']:.3f}",
             f"{fd['ratio']:.2f} x floor", t["frechet_distance"]),
        _row("real-vs-generated probe accuracy", "0.50", f"{report['probe']['accuracy']:.2f}", "", t["probe"]),
        _row("timbre step, envelope (dB)", _num(tim["envelope_step_db"]["real"]),
             _num(tim["envelope_step_db"]["generated"]), _num(tim["envelope_step_db"]["ratio"], suffix=" x real"),
             t["timbre_step"]),
        _row("timbre step, classifier embedding", _num(tim["embedding_step"]["real"]),
             _num(tim["embedding_step"]["generated"]), _num(tim["embedding_step"]["ratio"], suffix=" x real"), None),
    ]
    agreement = report["program_agreement"]
    if agreement is not None:
        lines.append(_row("program agreement (classifier)", f"{agreement['real_test']:.2f}",
                          f"{agreement['generated']:.2f}", "", None))
    if report["faults"]["faulty_notes"]:
        shown = report["faults"]["faulty_notes"][:12]
        more = len(report["faults"]["faulty_notes"]) - len(shown)
        lines.append(f"{'silent/clipped keys':34} {', '.join(shown)}{f' and {more} more' if more else ''}")
    c = report["classifier"]
    lines.append(f"{'classifier accuracy, held-out notes':34} {c['test_accuracy']:.2f} (balanced "
                 f"{c['test_balanced_accuracy']:.2f}, train {c['train_accuracy']:.2f}; aim >= 0.85)")
    return lines


def _yes(met: bool) -> str:
    return "met" if met else "**not met**"


def _per_note_lines(report: dict) -> list[str]:
    lines = ["| program | note | MIDI | renders | within | median cents | median abs cents | unvoiced | silent | "
             "clipped | peak dBFS |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in report["per_note"]:
        lines.append(f"| {row['program']} | {row['note']} | {row['midi']} | {row['renders']} | {row['within']:.0%} | "
                     f"{_num(row['median_cents'], '+.1f')} | {_num(row['median_abs_cents'], '.1f')} | "
                     f"{row['unvoiced']} | {row['silent']} | {row['clipped']} | {row['peak_db']:.1f} |")
    return lines


def markdown(report: dict, accuracy_png: str, cents_png: str) -> str:
    """``report.md`` text for a pitched report."""
    m, d, c, g = report["model"], report["dataset"], report["classifier"], report["generated"]
    p, t, tim, f = report["pitch"], report["targets"], report["timbre"], report["faults"]
    is_, fd = report["inception_score"], report["frechet_distance"]
    steps = f", {m['steps']} generator steps" if m.get("steps") is not None else ""
    programs = ", ".join(f"{x['program']} MIDI {x['low']}-{x['high']} ({x['notes']} notes)" for x in g["programs"])
    lines = [
        f"# Pitched evaluation of {m['name']}",
        "",
        f"Model `{m['name']}` (model.json sha256 {m['model_json_sha256'][:16]}…{steps}; pitch range MIDI "
        f"{m['pitch_range'][0]}-{m['pitch_range'][1]}) against the dataset `{d['path']}` ({d['items']} notes, "
        f"{len(d['classes'])} programs; split by source note: {d['train']} train, {d['test']} test). "
        f"{g['count']} renderings: {programs}, every {g['notes_step']} semitone(s), {g['per_note']} seeds per note "
        f"from seed {g['first_seed']}{', through the bundle enhancer' if g['enhanced'] else ''}"
        f"{', as played (the engine post-process)' if g['as_played'] else ''}. Program classifier accuracy on the "
        f"held-out notes: {c['test_accuracy']:.3f} (balanced {c['test_balanced_accuracy']:.3f}; aim >= 0.85), train "
        f"{c['train_accuracy']:.3f}{' (reused)' if c['reused'] else ''}.",
        "",
        "| figure | real | generated | ratio | target | |",
        "|---|---|---|---|---|---|",
        f"| pitch within {p['tolerance_cents']:g} cents | {p['real']['pitch_accuracy']:.1%} ({p['real']['notes']} notes) | "
        f"{p['generated']['pitch_accuracy']:.1%} | {_num(p['ratio'])} | {t['pitch_accuracy']['target']} | "
        f"{_yes(t['pitch_accuracy']['met'])} |",
        f"| pitch within {p['tolerance_cents']:g} cents, octave errors forgiven | "
        f"{p['real']['pitch_accuracy_any_octave']:.1%} | {p['generated']['pitch_accuracy_any_octave']:.1%} | – | – | |",
        f"| median abs pitch error (cents) | {_num(p['real']['median_abs_cents'], '.1f')} | "
        f"{_num(p['generated']['median_abs_cents'], '.1f')} | – | – | |",
        f"| unvoiced notes | {p['real']['unvoiced_share']:.1%} | {p['generated']['unvoiced_share']:.1%} | – | – | |",
        f"| silent or clipped renderings | {f['real_silent']} silent, {f['real_clipped']} clipped | {f['silent']} "
        f"silent, {f['clipped']} clipped | – | {t['faults']['target']} | {_yes(t['faults']['met'])} |",
        f"| Inception Score (programs) | {is_['real_test']:.2f} (test split) | {is_['generated']:.2f} | "
        f"{is_['ratio']:.2f} | {t['inception_score']['target']} | {_yes(t['inception_score']['met'])} |",
        f"| Fréchet distance (classifier embedding) | {fd['floor_train_vs_test']:.3f} (train vs test, the floor) | "
        f"{fd['generated_vs_test']:.3f} ({fd['generated_used']} vs test) | {fd['ratio']:.2f} | "
        f"{t['frechet_distance']['target']} | {_yes(t['frechet_distance']['met'])} |",
        f"| real-vs-generated probe ({report['probe']['folds']}-fold accuracy) | 0.5 (chance) | "
        f"{report['probe']['accuracy']:.3f} | – | {t['probe']['target']} | {_yes(t['probe']['met'])} |",
        f"| timbre step, cepstral envelope (dB) | {_num(tim['envelope_step_db']['real'])} | "
        f"{_num(tim['envelope_step_db']['generated'])} | {_num(tim['envelope_step_db']['ratio'])} | "
        f"{t['timbre_step']['aim']} | {'met' if t['timbre_step']['met'] else 'not met'} |",
        f"| timbre step, classifier embedding | {_num(tim['embedding_step']['real'])} | "
        f"{_num(tim['embedding_step']['generated'])} | {_num(tim['embedding_step']['ratio'])} | – | |",
    ]
    if report["program_agreement"] is not None:
        a = report["program_agreement"]
        lines.append(f"| program agreement (classifier gives the asked program) | {a['real_test']:.3f} (test "
                     f"accuracy) | {a['generated']:.3f} | – | – | |")
    lines += ["", f"Silent or clipped keys: {', '.join(f['faulty_notes']) or 'none'}.", "", "## Per program", "",
              "| program | pitch within (real) | pitch within (generated) | median abs cents (generated) | "
              "unvoiced (generated) |", "|---|---|---|---|---|"]
    for name, gp in p["per_program"]["generated"].items():
        rp = p["per_program"]["real"].get(name, {})
        lines.append(f"| {name} | {_num(rp.get('pitch_accuracy'), '.1%')} | {gp['pitch_accuracy']:.1%} | "
                     f"{_num(gp['median_abs_cents'], '.1f')} | {gp['unvoiced_share']:.1%} |")
    lines += ["", f"`{accuracy_png}`: the share of renderings within {p['tolerance_cents']:g} cents against the MIDI "
              "note, one panel per program; real notes as grey squares, the target as a green line, keys with a "
              f"silent or clipped rendering marked red under the axis. `{cents_png}`: histogram of the signed pitch "
              "errors in cents, generated and real.", "", "## Per note", "", *_per_note_lines(report), "",
              f"Method: pitch by {p['estimator']}; a note without a voiced sustain is a miss. Faults: "
              f"{f['definition']}. Timbre step: the median distance between the mean cepstral envelopes (c1..c12 of "
              "the log-mel spectrum, dB) or the mean classifier embeddings of neighbouring notes (at most 3 "
              "semitones apart) of one program; near 1 x real means the timbre moves along the keyboard as the "
              "instrument's does. Inception Score, Fréchet distance and the probe as in the drums evaluation, with "
              "the programs as classes.", ""]
    return "\n".join(lines)


def load_pitched_report(path) -> dict:
    """Read a pitched ``report.json`` (a folder or the file) of a version in :data:`READABLE_VERSIONS`."""
    from ._evaluate_report import read_report

    return read_report(path, REPORT_FORMAT, READABLE_VERSIONS)
