"""``ganshot patterns {dataset,train,export,generate,evaluate}``: the pattern GAN's offline commands.

``generate`` and ``evaluate`` run the bundle with ONNX Runtime (no torch); ``train`` and ``export``
import torch inside their handlers.
"""

from __future__ import annotations

import sys

__all__ = ["add_patterns_commands"]


def _say(line: str) -> None:
    print(f"ganshot: {line}", file=sys.stderr, flush=True)


def _low_priority(args) -> None:
    import os

    import torch

    torch.set_num_threads(args.threads)
    if args.nice:
        os.nice(args.nice)


def cmd_dataset(args) -> int:
    from ganshot.training.patterns.dataset import build_dataset

    build_dataset(args.out, midi_dir=args.midi, corpus=args.corpus, mode=args.mode, bars=args.bars, meter=args.meter,
                  hop_bars=args.hop_bars, max_files=args.max_files, say=_say)
    return 0


def cmd_train(args) -> int:
    from ganshot.training.patterns.train import train_patterns

    _low_priority(args)
    run = train_patterns(args.config, args.data, args.out, resume=args.resume, max_steps=args.steps,
                         max_cpu_minutes=args.cpu_minutes, say=_say)
    if args.export:
        from ganshot.training.patterns.export import export_pattern_run

        _say(f"wrote patterns bundle {export_pattern_run(run, args.export)}")
    return 0


def cmd_export(args) -> int:
    from ganshot.training.patterns.export import export_pattern_run

    path = export_pattern_run(args.run_dir, args.out, name=args.name, step=args.step, ema=args.weights == "ema")
    _say(f"wrote patterns bundle {path}")
    return 0


def cmd_generate(args) -> int:
    from ganshot.training.patterns.generate import generate_patterns

    paths = generate_patterns(args.bundle, args.out, n=args.num, bars=args.bars, tempo_bpm=args.tempo,
                              seed=args.seed, program=args.program)
    _say(f"wrote {len(paths)} MIDI files, pianoroll.png and patterns.json to {args.out}")
    return 0


def cmd_evaluate(args) -> int:
    from ganshot.training.patterns.evaluate import evaluate_patterns, report_markdown

    report = evaluate_patterns(args.bundle, args.data, n=args.num, seed=args.seed, out_dir=args.out)
    print(report_markdown(report))
    return 0


def add_patterns_commands(sub, fmt) -> None:
    """Register ``ganshot patterns ...`` on the ``ganshot`` subparsers."""
    patterns = sub.add_parser("patterns", help="a GAN over note patterns (drums or melodic): dataset, train, "
                              "export, generate MIDI, evaluate", formatter_class=fmt)
    psub = patterns.add_subparsers(dest="patterns_command", metavar="COMMAND")
    psub.required = True

    ds = psub.add_parser("dataset", help="cut MIDI files into bar-aligned piano-roll windows", formatter_class=fmt)
    source = ds.add_mutually_exclusive_group(required=True)
    source.add_argument("--midi", default=None, metavar="DIR", help="a folder of your MIDI files (searched recursively)")
    source.add_argument("--corpus", choices=("bach", "gm-grooves"), default=None,
                        help="an offline corpus: bach (music21's Bach chorales, melodic; needs ganshot[patterns]) "
                        "or gm-grooves (ganshot's textbook GM grooves, drums)")
    ds.add_argument("-o", "--out", required=True, help="dataset folder (manifest.json, windows.safetensors)")
    ds.add_argument("--mode", choices=("drums", "melodic"), default=None,
                    help="drums: MIDI channel 10 as 16 GM drum classes; melodic: other channels, MIDI 36-83 "
                    "(default: the corpus's mode, else drums)")
    ds.add_argument("--bars", type=int, default=2, help="bars per window")
    ds.add_argument("--meter", default="4/4", help="keep windows of this time signature")
    ds.add_argument("--hop-bars", type=int, default=1, help="bars between window starts")
    ds.add_argument("--max-files", type=int, default=None, help="only the first N files")
    ds.set_defaults(handler=_dataset_mode)

    tr = psub.add_parser("train", help="train a pattern GAN (checkpoints, --resume, TensorBoard)", formatter_class=fmt)
    tr.add_argument("config", help="config name (drums, melodic) or a TOML file")
    tr.add_argument("--data", required=True, help="pattern dataset folder")
    tr.add_argument("--out", required=True, help="run folder")
    tr.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    tr.add_argument("--steps", type=int, default=None, help="stop after this many steps (default: the config's)")
    tr.add_argument("--cpu-minutes", type=float, default=None, help="stop (and save) after this much CPU time")
    tr.add_argument("--threads", type=int, default=1, help="torch threads")
    tr.add_argument("--nice", type=int, default=10, help="raise this process's niceness by this much (0: leave it)")
    tr.add_argument("--export", default=None, metavar="BUNDLE", help="then export the run to this bundle folder")
    tr.set_defaults(handler=cmd_train)

    ex = psub.add_parser("export", help="export a pattern run to a bundle (ONNX + safetensors + model.json)",
                         formatter_class=fmt)
    ex.add_argument("run_dir", help="pattern run folder")
    ex.add_argument("-o", "--out", required=True, help="bundle folder to write")
    ex.add_argument("--name", default=None, help="model name (default: the run folder's name)")
    ex.add_argument("--step", type=int, default=None, help="checkpoint step (default: the newest)")
    ex.add_argument("--weights", choices=("ema", "live"), default="ema",
                    help="the generator's moving average, or its last weights")
    ex.set_defaults(handler=cmd_export)

    gen = psub.add_parser("generate", help="write N generated patterns as MIDI files plus a piano-roll PNG",
                          formatter_class=fmt)
    gen.add_argument("bundle", help="patterns bundle folder")
    gen.add_argument("-n", "--num", type=int, default=8, help="patterns to write")
    gen.add_argument("--bars", type=int, default=4, help="bars per pattern")
    gen.add_argument("--tempo", type=float, default=120.0, help="bpm")
    gen.add_argument("--seed", type=int, default=0, help="seed of the first pattern (then +1 each)")
    gen.add_argument("--program", type=int, default=0, help="melodic: GM program 0-127 of the MIDI files")
    gen.add_argument("-o", "--out", required=True, help="output folder")
    gen.set_defaults(handler=cmd_generate)

    ev = psub.add_parser("evaluate", help="compare generated patterns with the corpus and a random baseline",
                         formatter_class=fmt)
    ev.add_argument("bundle", help="patterns bundle folder")
    ev.add_argument("--data", required=True, help="the pattern dataset the model learnt from")
    ev.add_argument("-n", "--num", type=int, default=500, help="generated (and random) windows")
    ev.add_argument("--seed", type=int, default=0, help="first seed")
    ev.add_argument("-o", "--out", default=None, help="report folder (default: BUNDLE/evaluation)")
    ev.set_defaults(handler=cmd_evaluate)


def _dataset_mode(args) -> int:
    if args.mode is None:
        args.mode = "melodic" if args.corpus == "bach" else "drums"
    return cmd_dataset(args)
