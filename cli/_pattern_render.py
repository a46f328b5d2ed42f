"""``ganshot render KIT --pattern BUNDLE``: a generated pattern, played offline through a kit.

The pattern's note-ons (:func:`ganshot.training.patterns.generate.switching_events`) go through the
same offline path as ``--midi`` (engine.offline.render_events), so every bar starts at the exact
frame ``round(bar * bar_s * sample_rate)``. With ``--switch-bars K`` the pattern changes to the
next seed every K bars, at the bar line. Imports ONNX Runtime and the torch-free pattern modules only.
"""

from __future__ import annotations

from ganshot.engine.errors import UserInputError

__all__ = ["add_pattern_render_arguments", "check_render_source", "pattern_render_events"]


def add_pattern_render_arguments(render) -> None:
    render.add_argument("--pattern", default=None, metavar="BUNDLE",
                        help="instead of --midi: generate a pattern with this patterns bundle and render it")
    render.add_argument("--bars", type=int, default=4, help="with --pattern: bars to render")
    render.add_argument("--tempo", type=float, default=120.0, help="with --pattern: bpm")
    render.add_argument("--seed", type=int, default=0, help="with --pattern: seed of the (first) pattern")
    render.add_argument("--switch-bars", type=int, default=None, metavar="K",
                        help="with --pattern: switch to the next seed every K bars, at the bar line")


def check_render_source(args) -> None:
    """Exactly one of --midi and --pattern (checked before the engine warms up)."""
    if (args.midi is None) == (args.pattern is None):
        raise UserInputError("give one of --midi FILE (a MIDI file) or --pattern BUNDLE (a generated pattern)")
    if args.pattern is None and args.switch_bars is not None:
        raise UserInputError("--switch-bars needs --pattern")


def pattern_render_events(args) -> list[tuple[float, int, int]]:
    """The ``(time_s, note, velocity 0..127)`` note-ons of ``--pattern`` for ``--bars`` bars."""
    from ganshot.engine.limits import check_int
    from ganshot.training.patterns.bundle import load_pattern_bundle
    from ganshot.training.patterns.generate import MAX_PATTERN_BARS, PatternSampler, switching_events

    bars = check_int(args.bars, "--bars", 1, MAX_PATTERN_BARS)
    each = bars if args.switch_bars is None else check_int(args.switch_bars, "--switch-bars", 1, bars)
    sampler = PatternSampler(load_pattern_bundle(args.pattern))
    seeds = [args.seed + index for index in range(-(-bars // each))]
    events, _ = switching_events(sampler, seeds, each, args.tempo)
    bar_s = sampler.bundle.steps_per_bar * 60.0 / (4 * args.tempo)
    return [e for e in events if e[0] < bars * bar_s - 1e-9]
