"""The Engine's controller commands: one target vocabulary for OSC knobs, MIDI controllers and
kits' controller tables (:data:`~.kit_schema.TARGETS`), focus, and MIDI learn.

A mixin of :class:`~.engine.Engine` (it uses the Engine's lock, kit, ``focus`` and edit methods);
kept apart so engine.py stays about rendering and playing.
"""

from __future__ import annotations

from .errors import UserInputError
from .kit_schema import TARGETS, Target, parse_target
from .limits import MAX_PADS, check_float

__all__ = ["ControllerCommands", "known_target"]


def known_target(text, what: str) -> Target:
    """``text`` parsed as a controller target, or UserInputError listing the known ones."""
    parsed = parse_target(text)
    if parsed is None:
        known = ", ".join(spec.pattern for spec in TARGETS)
        raise UserInputError(f"{what}{text!r:.60} is not a known target ({known})")
    return parsed


class ControllerCommands:
    """``apply``, ``set_focus``, ``learn`` and ``set_controllers`` of :class:`~.engine.Engine`."""

    # -- the command vocabulary of knobs ------------------------------------------------
    def apply(self, target, value: float) -> None:
        """Set one controller target to ``value``: the one command OSC knobs, MIDI controllers
        and kits' controller tables speak (the rows of :data:`~.kit_schema.TARGETS`).

        ``target``: a :class:`~.kit_schema.Target` or its text, e.g. ``"pad.3.gain_db"``,
        ``"focused.direction.0"`` (the :attr:`focus` pad), ``"master.gain_db"``, ``"focus"``
        (the value, rounded, is the pad index). The value is checked once, against the field
        it lands in; a refused one raises UserInputError and changes nothing.
        """
        if not isinstance(target, Target):
            target = known_target(target, "")
        spec = target.spec
        if spec.param == "master_gain_db":
            self.set_master_gain(value)
        elif spec.param == "focus":
            self.set_focus(int(round(check_float(value, "focus", 0, MAX_PADS - 1))))
        else:
            pad = self.focus if spec.scope == "focused" else target.pad
            if spec.param == "direction":
                self.set_direction(pad, target.direction, value)
            else:
                self._edit(pad, **{spec.param: value})

    # -- commands: focus and controllers --------------------------------------------------
    def set_focus(self, index: int) -> None:
        """Make pad ``index`` the target of ``focused.*`` controllers (playing a pad does too)."""
        with self._lock:
            self._check_index(index)
            self.focus = int(index)

    def learn(self, target: str | None) -> None:
        """Arm MIDI learn: a MIDI bridge binds the next CC that moves to ``target`` (a kit
        controller target such as ``"focused.direction.0"``) and calls :meth:`set_controllers`;
        None cancels."""
        if target is not None:
            parsed = known_target(target, "learn target ")
            if parsed.pad is not None:
                self._check_index(parsed.pad)
        self.learn_target = target

    def set_controllers(self, controllers) -> None:
        """Replace the kit's controller table (:class:`~.kit.Controller` objects, re-validated);
        saved with the kit by :meth:`save_kit`."""
        with self._lock:
            self._kit = self._kit.with_controllers(controllers)
