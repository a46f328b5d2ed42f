"""How long a pitched instrument takes to be playable (issue 14's target: a 61-note instrument
rendered on load in <= 20 s on the project's CPU).

For each bundle given (default: every pitch-conditional bundle in presets/models), an Engine is
built on a kit with one instrument pad over ``--low``..``--high`` (61 notes by default, the
bundle's range cut to it), exactly as ``ganshot serve`` builds it (ONNX Runtime, one thread,
48 kHz stream, the render worker's low priority), and the wall time from the Engine's
construction to the last note's buffer is measured (``Engine.wait_ready``), the median of
``--repeats`` fresh engines. Also printed: ms per note, and the render cache's hit count (a fresh
engine each time: nothing is reused).

Not a test; figures depend on the machine and on what else runs on it. Writes a Markdown table.

    python bench/instrument_load.py --out bench/results/instrument_load.md
    python bench/instrument_load.py --model presets/models/reeds --low 36 --high 96 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 48000


def _kit(bundle, low: int, high: int):
    from ganshot.engine.kit import parse_kit

    low, high = max(low, bundle.pitch_range[0]), min(high, bundle.pitch_range[1])
    pad = {"note": (low + high) // 2, "name": "instrument", "seed": 1,
           "instrument": {"low": low, "high": high}}
    if bundle.conditional:
        pad["class_name"] = bundle.classes[0]
    return parse_kit({"format": "ganshot-kit", "version": 2, "name": "load bench",
                      "model": {"name": bundle.name, "path": str(bundle.path), "sha256": bundle.sha256},
                      "pads": [pad]}), high - low + 1


def measure(bundle_path, low: int, high: int, repeats: int) -> dict:
    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.engine import Engine
    from ganshot.engine.runtime import load_generator_runtime

    bundle = load_bundle(bundle_path)
    if bundle.pitch_range is None:
        raise SystemExit(f"{bundle_path}: not a pitch-conditional bundle")
    kit, notes = _kit(bundle, low, high)
    seconds = []
    for _ in range(repeats):
        runtime = load_generator_runtime(bundle, backend="onnx", threads=1)
        started = time.perf_counter()
        engine = Engine(bundle, kit, sample_rate=SAMPLE_RATE, runtime=runtime)
        try:
            if not engine.wait_ready(600.0):
                raise SystemExit("notes not ready after 600 s")
            seconds.append(time.perf_counter() - started)
            status = engine.status()
        finally:
            engine.close()
    median = statistics.median(seconds)
    return {"bundle": bundle.name, "notes": notes, "seconds": median, "ms_per_note": 1000.0 * median / notes,
            "status_notes": f"{status.get('instrument_notes_ready', '?')}/{status.get('instrument_notes_total', '?')}",
            "architecture": bundle.meta["architecture"], "num_samples": bundle.num_samples,
            "rate": bundle.sample_rate}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=None, help="pitched bundle folder (repeatable)")
    parser.add_argument("--low", type=int, default=36)
    parser.add_argument("--high", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="write the table here too")
    args = parser.parse_args(argv)
    models = args.model
    if models is None:
        from ganshot.engine.bundle import load_bundle

        models = [str(p) for p in sorted((ROOT / "presets" / "models").iterdir())
                  if (p / "model.json").is_file() and load_bundle(p).pitch_range is not None]
    rows = [measure(m, args.low, args.high, args.repeats) for m in models]
    lines = ["| bundle | generator | notes | one note | load to last note ready (median of %d) | per note | target <= 20 s |"
             % args.repeats, "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['bundle']} | {r['architecture']} | {r['notes']} ({r['status_notes']} in status) | "
                     f"{r['num_samples'] / r['rate']:.2f} s at {r['rate']} Hz -> {SAMPLE_RATE} Hz | "
                     f"{r['seconds']:.2f} s | {r['ms_per_note']:.1f} ms | {'met' if r['seconds'] <= 20 else 'missed'} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(f"# Pitched instrument load time (issue 14)\n\n`python bench/instrument_load.py "
                                  f"--low {args.low} --high {args.high} --repeats {args.repeats}`, 2 shared CPU cores, "
                                  f"no GPU, ONNX Runtime one thread, 48 kHz stream, beside background training.\n\n"
                                  f"{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
