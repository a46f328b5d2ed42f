"""The live-pattern OSC commands: ``/pattern/play``, ``/pattern/stop``, ``/tempo``, ``/pattern/status``.

Their rows (arguments, ranges, docs) are in the address table (:data:`.addresses.ADDRESSES`);
this module holds what they do, on the engine's :class:`~ganshot.engine.pattern_player.PatternPlayer`
(``engine.patterns``, attached by ``ganshot serve``). Each handler is ``(engine, args, ctx)`` like
the table's other commands, so a refusal (a slot out of range, a source outside the patterns
folder, a bad MIDI file) is a GanshotError that the server answers with ``/fail``. Nothing here
waits: a bundle's pattern is generated on the player's own thread and heard from a later bar
line; its faults show in ``/pattern/status`` (``last_error``, the slot's ``state``).

Cheat sheet (oscsend)::

    oscsend localhost 9000 /pattern/play isi 0 grooves 3      # slot 0: bundle grooves, seed 3, next bar
    oscsend localhost 9000 /pattern/play is 1 beats/funk.mid  # slot 1: a MIDI file's notes
    oscsend localhost 9000 /tempo f 96                        # from the next bar line
    oscsend localhost 9000 /pattern/stop i 0                  # slot 0, at the next bar line
    oscsend localhost 9000 /pattern/stop                      # everything, and the transport
"""

from __future__ import annotations

import json

from .validate import OscError

__all__ = ["PATTERN_COMMANDS", "pattern_status_json", "player_of"]


def player_of(engine):
    """The engine's pattern player, or OscError when this server runs none."""
    player = getattr(engine, "patterns", None)
    if player is None:
        raise OscError("live patterns are off here (ganshot serve runs them unless --no-patterns)")
    return player


def _play(engine, args, ctx):
    slot, source, seed = args
    player_of(engine).play(slot, source, seed)


def _stop(engine, args, ctx):
    player_of(engine).stop(args[0])  # None: every slot and the transport


def _tempo(engine, args, ctx):
    player_of(engine).set_tempo(args[0])


def pattern_status_json(engine) -> str:
    """The player's status as one JSON string (what ``/pattern/status`` replies)."""
    return json.dumps(player_of(engine).status(), sort_keys=True, separators=(",", ":"))


#: command name (the table's ``Route.command``) -> handler
PATTERN_COMMANDS = {"pattern_play": _play, "pattern_stop": _stop, "tempo": _tempo}
