"""``ganshot serve``'s live-pattern flags, and starting the pattern player (and MIDI clock) from them.

Cheat sheet (in ``cli/_engine_cli.py``)::

    add_live_pattern_arguments(serve)       # --patterns-root, --tempo, --pattern-lookahead-ms, --midi-clock-in/out
    closers = start_live_patterns(engine, args, say)   # engine.patterns = a running PatternPlayer ([] with --no-patterns)

The player plays through the engine's timed triggers (engine/pattern_player.py); OSC drives it with
``/pattern/play``, ``/pattern/stop``, ``/tempo`` (bridges/osc/pattern_routes.py). No training import.
"""

from __future__ import annotations

from ganshot.engine.errors import UserInputError

__all__ = ["add_live_pattern_arguments", "start_live_patterns"]


def add_live_pattern_arguments(parser) -> None:
    from ganshot.engine.limits import MAX_TEMPO_BPM, MIN_TEMPO_BPM

    group = parser.add_argument_group("live patterns", "loops played by OSC /pattern/play on a bar grid (see the README)")
    group.add_argument("--no-patterns", action="store_true", help="do not run the live pattern player")
    group.add_argument("--patterns-root", default=None, metavar="DIR",
                       help="/pattern/play sources (patterns bundles, .mid files) must lie inside this folder "
                            "(default: the embedded presets/patterns, which holds the 'grooves' drum patterns)")
    group.add_argument("--tempo", type=float, default=120.0, metavar="BPM",
                       help=f"the patterns' starting tempo ({MIN_TEMPO_BPM:g}..{MAX_TEMPO_BPM:g}; OSC /tempo changes it)")
    group.add_argument("--pattern-lookahead-ms", type=float, default=200.0, metavar="MS",
                       help="hits are handed to the mixer this far ahead; a change arriving closer to a bar line "
                            "than this takes effect at the bar after")
    group.add_argument("--midi-clock-in", default=None, metavar="PORT|virtual",
                       help="follow a MIDI clock (tempo, Start/Stop) from this input, or from a port of our own")
    group.add_argument("--midi-clock-out", default=None, metavar="PORT|virtual",
                       help="send MIDI clock and Start/Stop of the pattern transport to this output (or our own port)")


def start_live_patterns(engine, args, say) -> list:
    """Attach a running PatternPlayer to ``engine`` as ``engine.patterns``; returns what to close,
    in the order opened (close them last first). UserInputError (one line) for a bad flag or a MIDI clock port that cannot be had."""
    if args.no_patterns:
        if args.midi_clock_in or args.midi_clock_out:
            raise UserInputError("--midi-clock-in/--midi-clock-out drive the pattern player: drop --no-patterns")
        return []
    from pathlib import Path

    from ganshot.engine.pattern_player import PatternPlayer

    from ganshot.engine.presets import patterns_root

    root = Path(args.patterns_root) if args.patterns_root is not None else patterns_root()
    if not root.is_dir():
        raise UserInputError(f"--patterns-root {root}: no such folder")
    player = PatternPlayer.for_engine(engine, root=root, tempo_bpm=args.tempo,
                                      lookahead_s=args.pattern_lookahead_ms / 1000.0).start()
    engine.patterns = player
    closers = [player.close]
    try:
        if args.midi_clock_in or args.midi_clock_out:
            from ganshot.bridges.midi.clock import start_clock

            closers += start_clock(player, engine, args, lambda line: say(f"ganshot: {line}"))
    except OSError as err:
        for close in reversed(closers):
            close()
        raise UserInputError(f"MIDI clock: {err}") from None
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    say(f"ganshot: live patterns from {root.resolve()} at {args.tempo:g} bpm (OSC /pattern/play)")
    return closers
