"""``ganshot render KIT --pattern BUNDLE``: a generated pattern, played offline through a kit.

The pattern's notes (note-ons, and for a melodic bundle note-offs after each note's length, which an
instrument pad releases) go through the same offline path as ``--midi`` (engine.offline.render_events), so every bar starts at the exact
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


def pattern_render_events(args) -> list[tuple]:
    """``(time_s, kind, note, velocity 0..127, None)`` events of ``--pattern`` for ``--bars`` bars:
    each note's note-on and, for a melodic bundle, its note-off after its length (an instrument pad
    releases it; drum patterns have none), a note-off before a note-on at one instant."""
    from ganshot.engine.limits import check_int
    from ganshot.engine.pattern_sampler import check_tempo
    from ganshot.training.patterns.bundle import load_pattern_bundle
    from ganshot.training.patterns.generate import MAX_PATTERN_BARS, PatternSampler

    bars = check_int(args.bars, "--bars", 1, MAX_PATTERN_BARS)
    each = bars if args.switch_bars is None else check_int(args.switch_bars, "--switch-bars", 1, bars)
    sampler = PatternSampler(load_pattern_bundle(args.pattern))
    bundle = sampler.bundle
    step_s = 60.0 / (4 * check_tempo(args.tempo))
    end_s = bars * bundle.steps_per_bar * step_s
    events = []
    for index in range(-(-bars // each)):
        offset = index * each * bundle.steps_per_bar  # each pattern starts on its bar line
        for step, row, length, velocity in sampler.pattern(args.seed + index, each).notes:
            start_s, note = (offset + step) * step_s, bundle.row_notes[row]
            if start_s >= end_s - 1e-9:
                continue
            events.append((start_s, "on", note, velocity, None))
            if not bundle.drums:
                events.append(((offset + step + length) * step_s, "off", note, 0, None))
    return sorted(events, key=lambda e: (e[0], e[1] == "on", e[2]))
