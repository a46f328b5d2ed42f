"""The ``ganshot`` command line: one command, subcommands, light start-up.

Each subcommand imports the heavy floors (torch, training) only inside its own
handler, so ``ganshot --help`` is instant and ``ganshot serve`` never imports
training code. A :class:`GanshotError` ends with one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys

from ganshot.engine.errors import GanshotError, UserInputError

__all__ = ["main", "build_parser", "HelpFormatter"]


def _say(line: str) -> None:
    """A progress line of a subcommand, on stderr."""
    print(f"ganshot: {line}", file=sys.stderr)

DEFAULT_SAMPLE_RATE = 16000
DEFAULT_NUM_SAMPLES = 16384


_DRUM_ONLY_FLAGS = (("variations", "--variations"), ("notes", "--notes"), ("max_kits", "--max-kits"), ("seed", "--seed"))
_PITCHED_ONLY_FLAGS = (("pitch_range", "--pitch-range"), ("hold_s", "--hold-s"))


def _cmd_dataset_soundfont(args) -> int:
    if args.programs is not None:
        return _cmd_dataset_pitched(args)
    given = [flag for key, flag in _PITCHED_ONLY_FLAGS if getattr(args, key) is not None]
    if given:
        raise UserInputError(f"{', '.join(given)} need --programs (pitched instruments); drum kits have no pitch range")
    from ganshot.training.dataset_soundfont import build_soundfont_dataset

    build_soundfont_dataset(
        args.out,
        sf2_path=args.sf2,
        sample_rate=args.sample_rate,
        num_samples=args.num_samples or DEFAULT_NUM_SAMPLES,
        seed=0 if args.seed is None else args.seed,
        velocities=tuple(args.velocities),
        variations=2 if args.variations is None else args.variations,
        notes=tuple(args.notes) if args.notes else None,
        max_kits=args.max_kits,
    )
    return 0


def _cmd_dataset_pitched(args) -> int:
    given = [flag for key, flag in _DRUM_ONLY_FLAGS if getattr(args, key) is not None]
    if given:
        raise UserInputError(f"{', '.join(given)} are for drum kits; --programs renders pitched notes without them")
    from ganshot.training import dataset_pitched

    dataset_pitched.build_pitched_dataset(
        args.out,
        args.programs,
        sf2_path=args.sf2,
        sample_rate=args.sample_rate,
        num_samples=args.num_samples or dataset_pitched.DEFAULT_NUM_SAMPLES,
        pitch_range=args.pitch_range or dataset_pitched.DEFAULT_PITCH_RANGE,
        velocities=tuple(args.velocities),
        hold_s=args.hold_s,
    )
    return 0


def _cmd_dataset_folder(args) -> int:
    from ganshot.training.dataset_folder import build_folder_dataset

    build_folder_dataset(args.input, args.out, sample_rate=args.sample_rate, num_samples=args.num_samples,
                         pitched=args.pitched, require_pitch=args.require_pitch)
    return 0


def _cmd_train(args) -> int:
    from ganshot.training.train import train

    train(
        args.config,
        data_dir=args.data,
        run_dir=args.out,
        resume=args.resume,
        overrides=args.set or [],
        max_steps=args.steps,
        init_generator=args.init_from,
    )
    return 0


def _cmd_export(args) -> int:
    from ganshot.training.export import export_run

    path = export_run(args.run_dir, args.out, name=args.name, directions_k=args.directions, best=args.best)
    print(f"ganshot: wrote model bundle {path}", file=sys.stderr)
    return 0


def _cmd_import(args) -> int:
    import warnings

    from ganshot.training.importer import import_generator

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        path = import_generator(args.model_file, args.out, sample_rate=args.sample_rate, latent_dim=args.latent_dim,
                                name=args.name, latent_distribution=args.latent_distribution, say=_say)
    for warning in caught:
        if "TorchScript" in str(warning.message):
            _say(f"warning: {warning.message}")
    _say(f"wrote model bundle {path} (play it: ganshot serve --model {path})")
    return 0


def _cmd_match(args) -> int:
    import json
    from pathlib import Path

    from ganshot.engine.atomic import atomic_write_text
    from ganshot.engine.kit import save_kit
    from ganshot.engine.match import load_target, match_sound
    from ganshot.engine.offline import write_wav
    from ganshot.engine.presets import load_model_and_kit

    if args.pad is not None and args.kit is None:  # before the search, not after it
        raise UserInputError("--pad needs --kit: the kit whose pad takes the matched latent")
    bundle, kit = load_model_and_kit(args.kit, args.model)
    target = load_target(args.sound, bundle)
    result = match_sound(bundle, target, class_name=args.class_name, seeds=args.seeds, steps=args.steps, say=_say)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, audio in (("target", target), ("best_seed", result.seed_audio), ("matched", result.audio)):
        write_wav(out / f"{name}.wav", audio, bundle.sample_rate)
    class_name = None if result.label is None else bundle.classes[result.label]
    report = {"sound": str(args.sound), "model": bundle.name, "class": class_name, "distance": result.distance,
              "best_seed": result.seed, "best_seed_distance": result.seed_distance, "refined": result.refined,
              "seeds": args.seeds, "steps": args.steps, "seconds": round(result.seconds, 2),
              "z": [float(v) for v in result.z]}
    atomic_write_text(out / "match.json", json.dumps(report, indent=2) + "\n")
    _say(f"distance {result.seed_distance:.4f} (best of {args.seeds} seeds) -> {result.distance:.4f} matched, "
         f"{result.seconds:.1f} s; {out}/matched.wav")
    if args.pad is not None:
        changes = {"z": result.z}
        if class_name is not None:
            changes["class_name"] = class_name
        save_kit(kit.with_pad(args.pad, **changes), args.kit)
        _say(f"pad {args.pad} of {args.kit} now plays the matched latent (its knobs vary that sound)")
    return 0


def _cmd_map(args) -> int:
    from ganshot.engine.presets import load_model_and_kit
    from ganshot.training.timbre_map import build_timbre_map

    bundle, _ = load_model_and_kit(None, args.model)  # no model: the default kit's
    build_timbre_map(bundle, args.out, n=args.num, classifier=args.classifier, say=_say)
    return 0


def _cmd_evaluate(args) -> int:
    from ganshot.training.classifier import ClassifierConfig
    from ganshot.training.evaluate import evaluate

    report = evaluate(args.bundle, args.data, args.out, n=args.num, seed=args.seed, retrain=args.retrain,
                      config=ClassifierConfig(epochs=args.epochs), say=_say, enhance=not args.no_enhance,
                      as_played=args.as_played, per_note=args.per_note, notes_step=args.notes_step)
    from ganshot.training import _evaluate_report, evaluate_pitched_report

    pitched = report["format"] == evaluate_pitched_report.REPORT_FORMAT
    print("\n".join((evaluate_pitched_report if pitched else _evaluate_report).console_lines(report)))
    return 0


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` only where it tells something: not for a default of None or False
    (a flag, or "not given"), nor where the help text already says what the default is."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or "default" in text or action.default is None or action.default is False \
                or action.default == argparse.SUPPRESS:
            return text
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    fmt = HelpFormatter
    parser = argparse.ArgumentParser(prog="ganshot", description="Generated one-shots, played live.", formatter_class=fmt)
    from ganshot import __version__

    parser.add_argument("--version", action="version", version=f"ganshot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_dataset_commands(sub, fmt)
    _add_train_command(sub, fmt)
    _add_export_command(sub, fmt)
    _add_evaluate_command(sub, fmt)
    _add_import_command(sub, fmt)
    _add_match_command(sub, fmt)
    _add_map_command(sub, fmt)
    from ganshot._enhance_cli import add_enhance_commands  # argparse only; handlers import lazily

    add_enhance_commands(sub, fmt)
    __import__("ganshot._patterns_cli", fromlist=["_"]).add_patterns_commands(sub, fmt)  # argparse only; lazy handlers
    from ganshot._engine_cli import add_engine_commands  # argparse only; handlers import lazily

    add_engine_commands(sub, fmt)
    return parser


def _add_dataset_commands(sub, fmt) -> None:
    """`ganshot dataset soundfont` and `ganshot dataset folder`."""
    dataset = sub.add_parser("dataset", help="build a training dataset (FLAC + manifest.json)", formatter_class=fmt)
    dsub = dataset.add_subparsers(dest="source", metavar="SOURCE")
    dsub.required = True

    sf = dsub.add_parser("soundfont", help="render GM drum kits (or, with --programs, pitched instruments) of "
                         "SoundFonts with FluidSynth", formatter_class=fmt)
    sf.add_argument(
        "--sf2", action="append", default=None, metavar="PATH",
        help="SoundFont file (.sf2/.sf3); repeat for several, de-duplicated across all "
        "(default: FluidR3_GM.sf2 + MuseScore_General.sf3 from fluid-soundfont-gm, musescore-general-soundfont)",
    )  # fmt: skip
    sf.add_argument("-o", "--out", required=True, help="output dataset folder")
    sf.add_argument("--sample-rate", type=int, default=DEFAULT_SAMPLE_RATE, help="Hz")
    sf.add_argument("--num-samples", type=int, default=None,
                    help=f"length of each one-shot in samples (default {DEFAULT_NUM_SAMPLES} for drum kits, "
                    "64000 = 4 s at 16 kHz with --programs)")
    sf.add_argument("--velocities", type=int, nargs="+", default=[50, 90, 127], help="MIDI velocities per note")
    sf.add_argument("--programs", default=None, metavar="LIST",
                    help="pitched instead of drums: GM melodic programs by name, alias or number, comma-separated "
                    "(e.g. sax,violin,flute or 65,40,73); classes are the program names")
    sf.add_argument("--pitch-range", default=None, metavar="LOW-HIGH",
                    help="with --programs: MIDI pitches to render, cut to each program's playable range (default 36-96)")
    sf.add_argument("--hold-s", type=float, default=None,
                    help="with --programs: seconds from note on to note off; the release after it is kept "
                    "(default 3/4 of the one-shot's length)")
    sf.add_argument("--seed", type=int, default=None, help="drums: seed for the small detune/gain variations (default 0)")
    sf.add_argument("--variations", type=int, default=None,
                    help="drums: seeded detune/gain variants per note and velocity (default 2)")
    sf.add_argument("--notes", type=int, nargs="+", default=None, help="drums: only these GM notes (default 35-81)")
    sf.add_argument("--max-kits", type=int, default=None, help="drums: only the first N drum kits (bank 128) of each SoundFont")
    sf.set_defaults(handler=_cmd_dataset_soundfont)

    folder = dsub.add_parser("folder", help="prepare a folder of your own one-shots", formatter_class=fmt)
    folder.add_argument("input", help="folder of wav/flac/aiff/ogg/mp3 files; subfolder names become classes")
    folder.add_argument("-o", "--out", required=True, help="output dataset folder")
    folder.add_argument("--sample-rate", type=int, default=DEFAULT_SAMPLE_RATE, help="Hz")
    folder.add_argument("--num-samples", type=int, default=DEFAULT_NUM_SAMPLES, help="length of each one-shot in samples")
    folder.add_argument("--pitched", action="store_true",
                        help="pitched instruments: give each file a MIDI pitch from its name (C4.wav, 60.wav, "
                        "sax_A3_v100.wav) or, failing that, estimated from its sound (reported)")
    folder.add_argument("--require-pitch", action="store_true",
                        help="with --pitched: refuse the build if a file has neither a pitch in its name nor a stable pitch")
    folder.set_defaults(handler=_cmd_dataset_folder)


def _add_train_command(sub, fmt) -> None:
    """`ganshot train`."""
    train = sub.add_parser("train", help="train a WaveGAN with WGAN-GP", formatter_class=fmt)
    train.add_argument("config", help="config name (wavegan_16k, ...) or path to a TOML file")
    train.add_argument("--data", required=True, help="dataset folder (with manifest.json)")
    train.add_argument("--out", required=True, help="run folder (config, checkpoints, TensorBoard logs)")
    train.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    train.add_argument("--steps", type=int, default=None, help="stop after this many generator steps (overrides config)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config value, e.g. --set model.d=16")
    train.add_argument("--init-from", default=None, metavar="BUNDLE",
                       help="start a new run from a model bundle's generator weights (fresh critic)")
    train.set_defaults(handler=_cmd_train)


def _add_export_command(sub, fmt) -> None:
    """`ganshot export`."""
    export = sub.add_parser("export", help="export a run to a model bundle (ONNX + safetensors)", formatter_class=fmt)
    export.add_argument("run_dir", help="training run folder")
    export.add_argument("-o", "--out", required=True, help="bundle folder to write")
    export.add_argument("--name", default=None, help="model name (default: the run folder's name)")
    export.add_argument("--directions", type=int, default=8, metavar="K",
                        help="GANSpace latent directions to store in the bundle (0: none)")
    export.add_argument("--best", action="store_true",
                        help="export the checkpoint the judge kept (RUN/best/, train.judge_every) instead of the newest")
    export.set_defaults(handler=_cmd_export)


def _add_evaluate_command(sub, fmt) -> None:
    """`ganshot evaluate`."""
    evaluate = sub.add_parser("evaluate", help="measure a model: Inception Score, Fréchet distance, coverage, "
                              "memorisation", formatter_class=fmt)
    evaluate.add_argument("bundle", help="model bundle folder")
    evaluate.add_argument("--data", required=True, help="dataset folder (with manifest.json) the model learnt from")
    evaluate.add_argument("-n", "--num", type=int, default=2000, help="generated one-shots to judge (drum bundles)")
    evaluate.add_argument("-o", "--out", default=None, help="report folder (default: BUNDLE-eval beside the bundle)")
    evaluate.add_argument("--seed", type=int, default=0, help="first seed of the generated one-shots")
    evaluate.add_argument("--epochs", type=int, default=20, help="classifier training epochs")
    evaluate.add_argument("--retrain", action="store_true", help="train a new classifier even if one fits")
    evaluate.add_argument("--no-enhance", action="store_true",
                          help="judge the raw generator of a bundle that carries an enhancer")
    evaluate.add_argument("--as-played", action="store_true",
                          help="judge the one-shots after the engine's post-process (tail gate, fade, peak): what is heard")
    evaluate.add_argument("--per-note", type=int, default=4, metavar="K",
                          help="pitched bundles: seeded renderings of each (program, note)")
    evaluate.add_argument("--notes-step", type=int, default=1, metavar="SEMITONES",
                          help="pitched bundles: judge every SEMITONES-th note of each program's range (both ends always)")
    evaluate.set_defaults(handler=_cmd_evaluate)


def _add_import_command(sub, fmt) -> None:
    """`ganshot import`."""
    imp = sub.add_parser("import", help="wrap a generator trained elsewhere (ONNX, or TorchScript converted here) "
                         "into a model bundle", formatter_class=fmt)
    imp.add_argument("model_file", help="MODEL.onnx, or TorchScript (.ts/.pt: code, loaded only here to convert it)")
    imp.add_argument("--sample-rate", type=int, required=True, help="the rate the generator's audio is at, Hz")
    imp.add_argument("--latent-dim", type=int, default=None, help="size of z (needed when the file does not say)")
    imp.add_argument("--latent-distribution", choices=("normal", "uniform"), default="normal",
                     help="how the generator was trained to see z")
    imp.add_argument("--name", default=None, help="model name (default: the file's name)")
    imp.add_argument("-o", "--out", required=True, help="bundle folder to write")
    imp.set_defaults(handler=_cmd_import)


def _add_match_command(sub, fmt) -> None:
    """`ganshot match`."""
    match = sub.add_parser("match", help="find the latent (and class) whose one-shot is closest to a sound you have",
                           formatter_class=fmt)
    match.add_argument("sound", help="a WAV/FLAC one-shot")
    match.add_argument("--model", default=None, help="model bundle folder or name (default: the kit's, else the embedded one)")
    match.add_argument("--kit", default=None, help="kit JSON (its model; with --pad, the kit to change)")
    match.add_argument("--pad", type=int, default=None, help="put the matched latent (and class) on this pad of --kit")
    match.add_argument("--class", dest="class_name", default=None, help="search this class only (conditional models)")
    match.add_argument("--seeds", type=int, default=1000, help="seeded latents searched (per class)")
    match.add_argument("--steps", type=int, default=100, help="gradient steps refining each of the best few")
    match.add_argument("-o", "--out", required=True, help="folder for target.wav, best_seed.wav, matched.wav, match.json")
    match.set_defaults(handler=_cmd_match)


def _add_map_command(sub, fmt) -> None:
    """`ganshot map`."""
    tmap = sub.add_parser("map", help="lay a model's one-shots out in 2-D (map.png, and map.json for serve --map "
                          "and OSC /pad/xy)", formatter_class=fmt)
    tmap.add_argument("--model", default=None, help="model bundle folder or name (default: the embedded one)")
    tmap.add_argument("-n", "--num", type=int, default=4000, help="one-shots on the map (seeds 0..n-1)")
    tmap.add_argument("--classifier", default=None,
                      help="drum classifier to embed them with (default: BUNDLE-eval/classifier.safetensors if present)")
    tmap.add_argument("-o", "--out", required=True, help="folder for map.json and map.png")
    tmap.set_defaults(handler=_cmd_map)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except GanshotError as err:
        print(f"ganshot: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganshot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # `torchrun -m ganshot.cli ...` as well as `python -m ganshot`
    raise SystemExit(main())
