"""The OSC address space as one table, argument coercion, and a pure ``route`` onto the Engine API.

Cheat sheet::

    ADDRESSES["/pad/trigger"]                 # Route(address, args, handler, timed, doc)
    result = route(message, engine, RouteContext(at_frame=None, counters={...}))
    # -> None (done), Reply("/status.reply", tags, args), or RenderJob(request_id, z)
    when = schedule(timetag, time.time(), max_ahead_s=10.0)   # bundle timetag -> When | OscError

Every refusal raises :class:`~.validate.OscError` with a one-line reason (wrong count,
wrong type, out of range, not finite, unknown address, or the Engine's own
:class:`~ganshot.engine.errors.GanshotError` message), so the server answers it with
``/fail``. The Engine is driven only through its command methods; ``/render`` and
``/status`` come back to the caller as values, because the server owns replies and
the render thread.

Coercion: an ``int`` slot takes ``i``/``h``, or ``f``/``d`` holding a whole number
(Max sends floats for everything: 3.0 -> 3, 3.5 refused). A ``float`` slot takes
``f``/``d``/``i``/``h``. A ``str`` slot takes ``s``/``S``. Floats must be finite.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ganshot.engine.kit_schema import (
    MAX_ABS_Z, MAX_CHOKE_GROUP, MAX_DIRECTION, MAX_DIRECTIONS, MAX_GAIN_DB, MAX_LATENT_DIM, MAX_PADS,
    MAX_PITCH_SEMITONES, MAX_SEED, MIN_DIRECTION, MIN_GAIN_DB, MIN_PITCH_SEMITONES,
)
from ganshot.engine.errors import GanshotError

from .validate import IMMEDIATE, Message, OscError, ntp_to_unix

__all__ = [
    "Arg", "Route", "ADDRESSES", "STATUS_FIELDS", "RouteContext", "Reply", "RenderJob", "When",
    "route", "coerce", "schedule", "status_reply", "address_table_markdown",
    "MAX_PATH_CHARS", "MAX_RANDOM_SEED", "MAX_INT32",
]

MAX_PATH_CHARS = 4096
MAX_INT32 = 2**31 - 1
MAX_RANDOM_SEED = MAX_INT32  # /pad/random without a seed picks one in [0, this]
_INT_TAGS, _FLOAT_TAGS, _STR_TAGS = "ih", "fdih", "sS"


@dataclass(frozen=True)
class Arg:
    """One argument slot: ``kind`` is "int", "float", "str" or "floats" (1.. floats, last slot only)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    optional: bool = False


@dataclass(frozen=True)
class Route:
    """One row of the address table. ``timed``: a bundle's timetag schedules it at the exact frame."""

    address: str
    args: tuple[Arg, ...]
    handler: str
    timed: bool = False
    doc: str = ""


_PAD = Arg("pad", "int", 0, MAX_PADS - 1)
#: The address space. Ranges here are checked before the Engine sees a value.
ADDRESSES: dict[str, Route] = {r.address: r for r in (
    Route("/pad/trigger", (_PAD, Arg("velocity", "float", 0.0, 1.0, optional=True)), "trigger", True,
          "play a pad (velocity defaults to 1)"),
    Route("/note", (Arg("note", "int", 0, 127), Arg("velocity", "int", 0, 127)), "note", True,
          "play the pad on a MIDI note; velocity 0 is a note-off and is ignored"),
    Route("/pad/z", (_PAD, Arg("z", "floats", -MAX_ABS_Z, MAX_ABS_Z)), "set_latent", False,
          "set a pad's latent (exactly latent_dim floats; directions reset)"),
    Route("/pad/dim", (_PAD, Arg("index", "int", 0, MAX_LATENT_DIM - 1), Arg("value", "float", -MAX_ABS_Z, MAX_ABS_Z)),
          "set_dim", False, "set one latent coordinate"),
    Route("/pad/random", (_PAD, Arg("seed", "int", 0, MAX_SEED, optional=True)), "randomize", False,
          "latent from a seed (random seed when omitted)"),
    Route("/pad/knob", (_PAD, Arg("direction", "int", 0, MAX_DIRECTIONS - 1),
                        Arg("value", "float", MIN_DIRECTION, MAX_DIRECTION)), "knob", False,
          "move a pad along a latent direction"),
    Route("/pad/morph", (_PAD, Arg("from_pad", "int", 0, MAX_PADS - 1), Arg("to_pad", "int", 0, MAX_PADS - 1),
                         Arg("t", "float", 0.0, 1.0)), "morph", False, "slerp between two pads' latents"),
    Route("/pad/gain", (_PAD, Arg("gain_db", "float", MIN_GAIN_DB, MAX_GAIN_DB)), "gain", False, "pad gain in dB"),
    Route("/pad/pan", (_PAD, Arg("pan", "float", -1.0, 1.0)), "pan", False, "pan, -1 left .. 1 right"),
    Route("/pad/pitch", (_PAD, Arg("semitones", "float", MIN_PITCH_SEMITONES, MAX_PITCH_SEMITONES)), "pitch", False,
          "pitch by resampling"),
    Route("/pad/choke", (_PAD, Arg("group", "int", 0, MAX_CHOKE_GROUP)), "choke", False,
          "choke group (0 = none)"),
    Route("/focus", (_PAD,), "focus", False, "make a pad the target of the focused.* controllers (MIDI knobs)"),
    Route("/learn", (Arg("target", "str"),), "learn", False,
          "MIDI learn: bind the next CC that moves to a controller target, e.g. focused.direction.0 "
          "(none cancels); saved with the kit"),
    Route("/kit/load", (Arg("path", "str"),), "kit_load", False, "load a kit JSON (inside the kit folder)"),
    Route("/kit/save", (Arg("path", "str"),), "kit_save", False, "save the kit JSON (inside the kit folder)"),
    Route("/panic", (), "panic", False, "fade out every voice, cancel everything scheduled"),
    Route("/render", (Arg("request_id", "int", -MAX_INT32 - 1, MAX_INT32), Arg("z", "floats", -MAX_ABS_Z, MAX_ABS_Z)),
          "render", False, "render a latent to a WAV (on the render thread); replies "
          "/rendered i:request_id s:wav_path i:frames i:sample_rate"),
    Route("/status", (), "status", False, "replies /status.reply (see STATUS_FIELDS)"),
)}

#: /status.reply arguments, in order: (name, type tag, where it comes from).
STATUS_FIELDS = (
    ("voices", "i", "engine"), ("underflows", "i", "engine"), ("late", "i", "engine"), ("renders", "i", "engine"),
    ("render_ms_p50", "f", "engine"), ("render_ms_p99", "f", "engine"), ("backend", "s", "engine"),
    ("sample_rate", "i", "engine"), ("received", "i", "osc"), ("accepted", "i", "osc"), ("rejected", "i", "osc"),
    ("dropped", "i", "osc"), ("osc_late", "i", "osc"),
)


@dataclass(frozen=True)
class Reply:
    address: str
    tags: str
    args: tuple


@dataclass(frozen=True)
class RenderJob:
    """A /render to run off the dispatch thread: ``z`` float[latent_dim] as a tuple."""

    request_id: int
    z: tuple


@dataclass(frozen=True)
class RouteContext:
    """What a handler may need besides the message: the frame a timed message plays at
    (None: now), the server's counters (for /status) and the folder kit paths must lie in
    (None: any path)."""

    at_frame: int | None = None
    counters: dict = field(default_factory=dict)
    kit_dir: Path | None = None


@dataclass(frozen=True)
class When:
    """A bundle timetag resolved: ``unix_s`` (None: now) and whether it was already past."""

    unix_s: float | None
    late: bool = False


def schedule(timetag: int, now_unix_s: float, max_ahead_s: float) -> When:
    """Resolve a bundle timetag against ``now_unix_s``; OscError when more than ``max_ahead_s`` ahead."""
    if timetag == IMMEDIATE:
        return When(None)
    unix_s = ntp_to_unix(timetag)
    ahead = unix_s - now_unix_s
    if ahead > max_ahead_s:
        raise OscError(f"timetag is {ahead:.3g} s ahead; the limit is {max_ahead_s:g} s (--osc-max-ahead)")
    return When(unix_s, late=ahead < 0)


def _number(tag: str, value, arg: Arg):
    if arg.kind == "int":
        if tag in _INT_TAGS:
            number = int(value)
        elif tag in "fd" and math.isfinite(value) and float(value).is_integer():
            number = int(value)
        else:
            raise OscError(f"{arg.name} must be an integer, got {tag}:{value!r:.24}")
    else:
        if tag not in _FLOAT_TAGS:
            raise OscError(f"{arg.name} must be a number, got type {tag!r}")
        number = float(value)
        if not math.isfinite(number):
            raise OscError(f"{arg.name} must be finite, got {number}")
    if arg.low is not None and not arg.low <= number <= arg.high:
        raise OscError(f"{arg.name} must be in [{arg.low:g}, {arg.high:g}], got {number:.6g}")
    return number


def _floats(tags: str, args: tuple, arg: Arg) -> tuple:
    values = []
    for i, (tag, value) in enumerate(zip(tags, args)):
        if tag not in _FLOAT_TAGS or not arg.low <= float(value) <= arg.high:  # NaN fails the range test too
            _number(tag, value, Arg(f"{arg.name}[{i}]", "float", arg.low, arg.high))  # raises with the reason
        values.append(float(value))
    return tuple(values)


def coerce(spec: Route, message: Message) -> tuple:
    """The message's arguments as Python values per ``spec`` (floats slot -> one tuple), or OscError."""
    args, tags = message.args, message.tags
    required = sum(not a.optional for a in spec.args)
    variadic = bool(spec.args) and spec.args[-1].kind == "floats"
    if variadic:
        fixed = len(spec.args) - 1
        if len(args) < fixed + 1:
            name = spec.args[-1].name
            raise OscError(f"{spec.address} takes {fixed} argument(s) then {name} floats, got {len(args)}")
    elif not required <= len(args) <= len(spec.args):
        want = str(required) if required == len(spec.args) else f"{required} to {len(spec.args)}"
        raise OscError(f"{spec.address} takes {want} argument(s), got {len(args)}")
    out = []
    for index, arg in enumerate(spec.args):
        if arg.kind == "floats":
            out.append(_floats(tags[index:], args[index:], arg))
        elif index < len(args):
            tag, value = tags[index], args[index]
            if arg.kind == "str":
                if tag not in _STR_TAGS:
                    raise OscError(f"{arg.name} must be a string, got type {tag!r}")
                if len(value) > MAX_PATH_CHARS:
                    raise OscError(f"{arg.name} is longer than {MAX_PATH_CHARS} characters")
                out.append(value)
            else:
                out.append(_number(tag, value, arg))
    return tuple(out)


def _kit_path(text: str, ctx: RouteContext) -> Path:
    if not text.endswith(".json"):
        raise OscError("kit path must end in .json")
    if ctx.kit_dir is None:
        return Path(text)
    root = Path(ctx.kit_dir).resolve()
    path = (root / text).resolve()
    if path != root and root not in path.parents:
        raise OscError(f"kit path must be inside the kit folder {root} (--osc-kit-dir)")
    return path


def status_reply(status: dict, counters: dict) -> Reply:
    """/status.reply from ``engine.status()`` and the server's counters, in STATUS_FIELDS order."""
    values = []
    for name, tag, source in STATUS_FIELDS:
        value = status.get(name) if source == "engine" else counters.get(name.removeprefix("osc_"), 0)
        if tag == "i":
            value = max(-MAX_INT32 - 1, min(MAX_INT32, int(value or 0)))
        elif tag == "f":
            value = float(value) if value is not None and math.isfinite(value) else -1.0  # -1: no render yet
        else:
            value = str(value)
        values.append(value)
    return Reply("/status.reply", "".join(tag for _, tag, _ in STATUS_FIELDS), tuple(values))


def _random_seed() -> int:
    return secrets.randbelow(MAX_RANDOM_SEED + 1)


def _note(engine, a, ctx):
    if a[1] > 0:  # note-on velocity 0 means note-off: one-shots ignore it
        engine.trigger_note(a[0], a[1] / 127.0, at_frame=ctx.at_frame)


_HANDLERS = {
    "trigger": lambda engine, a, ctx: engine.trigger(a[0], a[1] if len(a) > 1 else 1.0, at_frame=ctx.at_frame),
    "note": _note,
    "set_latent": lambda engine, a, ctx: engine.set_latent(a[0], a[1]),
    "set_dim": lambda engine, a, ctx: engine.set_dim(a[0], a[1], a[2]),
    "randomize": lambda engine, a, ctx: engine.randomize(a[0], a[1] if len(a) > 1 else _random_seed()),
    "knob": lambda engine, a, ctx: engine.set_direction(a[0], a[1], a[2]),
    "morph": lambda engine, a, ctx: engine.morph(a[0], from_pad=a[1], to_pad=a[2], t=a[3]),
    "gain": lambda engine, a, ctx: engine.set_gain(a[0], a[1]),
    "pan": lambda engine, a, ctx: engine.set_pan(a[0], a[1]),
    "pitch": lambda engine, a, ctx: engine.set_pitch(a[0], a[1]),
    "choke": lambda engine, a, ctx: engine.set_choke(a[0], a[1]),
    "focus": lambda engine, a, ctx: engine.set_focus(a[0]),
    "learn": lambda engine, a, ctx: engine.learn(None if a[0] in ("", "none") else a[0]),
    "kit_load": lambda engine, a, ctx: engine.load_kit(_kit_path(a[0], ctx)),
    "kit_save": lambda engine, a, ctx: engine.save_kit(_kit_path(a[0], ctx)),
    "panic": lambda engine, a, ctx: engine.panic(),
    "render": lambda engine, a, ctx: RenderJob(a[0], a[1]),
    "status": lambda engine, a, ctx: status_reply(engine.status(), ctx.counters),
}
assert all(r.handler in _HANDLERS for r in ADDRESSES.values())


def route(message: Message, engine, ctx: RouteContext = RouteContext()):
    """Check ``message`` against the table and run its Engine command.

    Returns None, a :class:`Reply` to send, or a :class:`RenderJob` to queue; raises
    :class:`OscError` with the reason for anything refused (the Engine's own errors included).
    """
    spec = ADDRESSES.get(message.address)
    if spec is None:
        raise OscError(f"unknown address {message.address}")
    values = coerce(spec, message)
    try:
        result = _HANDLERS[spec.handler](engine, values, ctx)
    except GanshotError as err:
        raise OscError(str(err)) from None
    except OSError as err:  # /kit/save into a folder that is not writable, ...
        raise OscError(f"{type(err).__name__}: {err}") from None
    return result if isinstance(result, (Reply, RenderJob)) else None  # not the Engine's voice tokens


def _arg_markdown(arg: Arg) -> str:
    tag = {"int": "i", "float": "f", "str": "s", "floats": "f×latent_dim"}[arg.kind]
    text = f"{tag}:{arg.name}"
    if arg.kind == "int" and arg.high == MAX_SEED:
        text += " 0..2⁶³-1"
    elif arg.low is not None and arg.kind != "floats" and arg.high != MAX_INT32:
        text += f" {arg.low:g}..{arg.high:g}"
    return f"[{text}]" if arg.optional else text


def address_table_markdown() -> str:
    """The README's address table, generated from :data:`ADDRESSES` so the two cannot drift."""
    rows = ["| address | arguments | does | timed |", "|---|---|---|---|"]
    for spec in ADDRESSES.values():
        args = " ".join(_arg_markdown(a) for a in spec.args) or "–"
        rows.append(f"| `{spec.address}` | {args} | {spec.doc} | {'yes' if spec.timed else ''} |")
    return "\n".join(rows)
