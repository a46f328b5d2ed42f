"""``ganshot enhance-train``, ``enhance-pairs`` and ``enhance``: the enhancement post-filter's commands.

``enhance`` imports only the engine (ONNX Runtime); ``enhance-train`` and ``enhance-pairs``
import torch and training inside their handlers.
"""

from __future__ import annotations

import sys

__all__ = ["add_enhance_commands", "cmd_enhance_train", "cmd_enhance_pairs", "cmd_enhance"]


def _say(line: str) -> None:
    print(f"ganshot: {line}", file=sys.stderr, flush=True)


def cmd_enhance_train(args) -> int:
    from ganshot.training.enhance import EnhanceConfig, train_enhancer

    _low_priority(args)
    cfg = EnhanceConfig(steps=args.steps, batch_size=args.batch_size, seed=args.seed, max_cpu_minutes=args.cpu_minutes,
                        inversion_pairs=args.inversion_pairs, inversion_share=args.inversion_share,
                        adv_weight=args.adv_weight)
    last = train_enhancer(args.data, args.model, args.out, cfg, resume=args.resume, say=_say)
    _say(f"last checkpoint {last}")
    if args.export:
        from ganshot.training.enhance_export import export_enhancer

        path = export_enhancer(args.out, args.model, args.export)
        _say(f"wrote model bundle {path} (the model of {args.model} + this enhancer)")
    return 0


def _low_priority(args) -> None:
    import os

    import torch

    torch.set_num_threads(args.threads)
    if args.nice:
        os.nice(args.nice)


def cmd_enhance_pairs(args) -> int:
    from ganshot.engine.presets import resolve_bundle
    from ganshot.training.enhance_pairs import build_inversion_pairs

    _low_priority(args)
    path = build_inversion_pairs(args.data, resolve_bundle(args.model), args.out, count=args.count, seeds=args.seeds,
                                 steps=args.steps, say=_say)
    _say(f"wrote {path}; train with: ganshot enhance-train ... --inversion-pairs {path}")
    return 0


def cmd_enhance(args) -> int:
    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.enhancer import enhance_file
    from ganshot.engine.presets import resolve_bundle

    bundle = load_bundle(resolve_bundle(args.model))
    path = enhance_file(args.input, args.out, bundle)
    _say(f"wrote {path}")
    return 0


def low_priority(parser) -> None:
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--nice", type=int, default=10, help="raise this process's niceness by this much (0: leave it)")


def add_enhance_commands(sub, fmt) -> None:
    """Register ``enhance-train``, ``enhance-pairs`` and ``enhance`` on the ``ganshot`` subparsers."""
    train = sub.add_parser("enhance-train", help="train the enhancement post-filter (a spectral mask that removes "
                           "hiss, tonal lines and pre-echo) on degraded real one-shots", formatter_class=fmt)
    train.add_argument("--data", required=True, help="dataset folder (with manifest.json); its train split is used")
    train.add_argument("--model", required=True, help="model bundle the enhancer is for (its rate and length)")
    train.add_argument("--out", required=True, help="run folder (run.json, log.jsonl, checkpoints)")
    train.add_argument("--steps", type=int, default=3000, help="training steps in all")
    train.add_argument("--batch-size", type=int, default=12, help="one-shots per step")
    train.add_argument("--seed", type=int, default=0, help="seed of the pairs and the weights")
    train.add_argument("--cpu-minutes", type=float, default=None,
                       help="stop (and save) after this much CPU time; --resume continues")
    train.add_argument("--inversion-pairs", default=None, metavar="FILE",
                       help="latent-inversion pairs G(z*) -> real (from `ganshot enhance-pairs`) to mix into each batch")
    train.add_argument("--inversion-share", type=float, default=0.25, help="share of each batch from --inversion-pairs")
    train.add_argument("--adv-weight", type=float, default=0.0,
                       help="weight of the adversarial term (a log-|STFT| critic, least squares); 0: none")
    low_priority(train)
    train.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    train.add_argument("--export", default=None, metavar="BUNDLE",
                       help="then write a copy of --model with this enhancer to this new bundle folder")
    train.set_defaults(handler=cmd_enhance_train)

    pairs = sub.add_parser("enhance-pairs", help="fit latents to real train-split hits (`ganshot match`) and keep "
                           "the pairs G(z*) -> real for enhance-train", formatter_class=fmt)
    pairs.add_argument("--data", required=True, help="dataset folder (with manifest.json); its train split is used")
    pairs.add_argument("--model", required=True, help="model bundle (folder, or name under presets/models)")
    pairs.add_argument("-o", "--out", required=True, metavar="PAIRS.safetensors",
                       help="pairs file; an existing one is resumed (same model)")
    pairs.add_argument("-n", "--count", type=int, default=96, help="hits to match, round-robin over the classes")
    pairs.add_argument("--seeds", type=int, default=256, help="seeds searched per hit (per class)")
    pairs.add_argument("--steps", type=int, default=60, help="gradient steps refining each of the best seeds")
    low_priority(pairs)
    pairs.set_defaults(handler=cmd_enhance_pairs)

    enhance = sub.add_parser("enhance", help="run a bundle's enhancer on a one-shot WAV/FLAC file", formatter_class=fmt)
    enhance.add_argument("input", metavar="IN.wav", help="one-shot at the model's rate, at most its length")
    enhance.add_argument("-o", "--out", required=True, metavar="OUT.wav", help="output WAV (32-bit float)")
    enhance.add_argument("--model", required=True, help="bundle with an enhancer (folder, or name under presets/models)")
    enhance.set_defaults(handler=cmd_enhance)
