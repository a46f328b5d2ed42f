"""The OSC address space as one table, argument coercion, and a pure ``route`` onto the Engine API.

Cheat sheet::

    ADDRESSES["/pad/trigger"]                 # Route(address, args, command, timed, doc, param)
    result = route(message, engine, RouteContext(at_frame=None, counters={...}))
    # -> None (done), Reply("/status.reply", tags, args), or RenderJob(request_id, z)
    values = coerce(spec, message); run(spec, values, engine, ctx)    # the same, in two steps
    when = schedule(timetag, time.time(), max_ahead_s=10.0)   # bundle timetag -> When | OscError

Every refusal raises :class:`~.validate.OscError` with a one-line reason (wrong count,
wrong type, out of range, not finite, unknown address, or the Engine's own
:class:`~ganshot.engine.errors.GanshotError` message), so the server answers it with
``/fail``. The Engine is driven only through its command methods; ``/render`` and
``/status`` come back to the caller as values, because the server owns replies and
the render thread.

Argument types, coercion and timetags live in :mod:`.coercion` (re-exported here).
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ganshot.engine.errors import GanshotError
from ganshot.engine.kit_schema import MAX_TRUNCATION, MIN_TRUNCATION, target_for
from ganshot.engine.limits import (
    MAX_ABS_Z, MAX_CHANNEL, MAX_CHOKE_GROUP, MAX_DIRECTION, MAX_DIRECTIONS, MAX_GAIN_DB, MAX_INT32, MAX_LATENT_DIM, MAX_NOTE,
    MAX_PADS, MAX_PAN, MAX_PITCH_SEMITONES, MAX_SEED, MIN_DIRECTION, MIN_GAIN_DB, MIN_NOTE, MIN_PAN,
    MIN_PITCH_SEMITONES, MAX_PATTERN_SLOTS, MAX_TEMPO_BPM, MIN_TEMPO_BPM,
)

from .pattern_routes import PATTERN_COMMANDS, pattern_status_json
from .coercion import MAX_PATH_CHARS, Arg, Route, When, coerce, schedule
from .validate import Message, OscError

__all__ = [
    "Arg", "Route", "ModelJob", "MatchJob", "ADDRESSES", "STATUS_FIELDS", "RouteContext", "Reply", "RenderJob", "When",
    "route", "run", "coerce", "schedule", "status_reply", "status_json_reply", "address_table_markdown",
    "MAX_PATH_CHARS", "MAX_RANDOM_SEED", "MAX_INT32",
]

MAX_RANDOM_SEED = MAX_INT32  # /pad/random without a seed picks one in [0, this]


def _random_seed() -> int:
    return secrets.randbelow(MAX_RANDOM_SEED + 1)


_PAD = Arg("pad", "int", 0, MAX_PADS - 1)  # an index into the loaded kit's pads (0..N-1), not a MIDI note
_NOTE = Arg("note", "int", MIN_NOTE, MAX_NOTE)
_CHANNEL = Arg("channel", "int", 0, MAX_CHANNEL, optional=True)  # 0-based, as in kit files; left out: any
#: The address space. Types and table ranges are checked here; the Engine checks the value
#: against the kit and model it has (a pad index past the kit's last pad, a direction the
#: model lacks) and its refusal comes back as /fail.
ADDRESSES: dict[str, Route] = {r.address: r for r in (
    Route("/pad/trigger", (_PAD, Arg("velocity", "float", 0.0, 1.0, optional=True, default=1.0)), "trigger", True,
          "play a pad of the loaded kit (velocity defaults to 1); by MIDI note: /note"),
    Route("/note", (Arg("note", "int", MIN_NOTE, MAX_NOTE), Arg("velocity", "int", 0, 127)), "note", True,
          "play the pad the kit maps to a MIDI note (velocity 1..127); velocity 0 is a note-off (as /note/off)"),
    Route("/note/on", (_NOTE, Arg("velocity", "float", 0.0, 1.0), _CHANNEL), "note_on", True,
          "note-on: an instrument pad's note sounds until /note/off (a drum pad's note plays its one-shot)"),
    Route("/note/off", (_NOTE, _CHANNEL), "note_off", True,
          "note-off: the note's release fade starts on the frame (held while the sustain pedal is down); "
          "drum pads ignore it"),
    Route("/sustain", (Arg("down", "int", 0, 1), _CHANNEL), "sustain", True,
          "sustain pedal down (1) or up (0): instrument notes let go while it is down sound until it goes up"),
    Route("/pad/z", (_PAD, Arg("z", "floats", -MAX_ABS_Z, MAX_ABS_Z)), "set_latent", False,
          "set a pad's latent (exactly latent_dim floats; directions reset)"),
    Route("/pad/dim", (_PAD, Arg("index", "int", 0, MAX_LATENT_DIM - 1), Arg("value", "float", -MAX_ABS_Z, MAX_ABS_Z)),
          "set_dim", False, "set one latent coordinate"),
    Route("/pad/random", (_PAD, Arg("seed", "int", 0, MAX_SEED, optional=True, default=_random_seed)), "randomize",
          False, "latent from a seed (random seed when omitted)"),
    Route("/pad/knob", (_PAD, Arg("direction", "int", 0, MAX_DIRECTIONS - 1),
                        Arg("value", "float", MIN_DIRECTION, MAX_DIRECTION)), "apply", False,
          "move a pad along a latent direction", param="direction"),
    Route("/pad/morph", (_PAD, Arg("from_pad", "int", 0, MAX_PADS - 1), Arg("to_pad", "int", 0, MAX_PADS - 1),
                         Arg("t", "float", 0.0, 1.0)), "morph", False, "slerp between two pads' latents"),
    Route("/pad/xy", (_PAD, Arg("x", "float", 0.0, 1.0), Arg("y", "float", 0.0, 1.0)), "set_xy", False,
          "the latent (and class) under (x, y) of the loaded timbre map (ganshot map; serve --map, /map/load)"),
    Route("/pad/match", (_PAD, Arg("path", "str")), "match", False,
          "find the latent (and class) closest to a sound file (WAV/FLAC inside the kit folder) on the render "
          "thread and put it on the pad; replies /matched i:pad f:distance, or /fail"),
    Route("/map/load", (Arg("path", "str"),), "map_load", False,
          "load a timbre map JSON (ganshot map's map.json, inside the kit folder) for /pad/xy"),
    Route("/pad/gain", (_PAD, Arg("gain_db", "float", MIN_GAIN_DB, MAX_GAIN_DB)), "apply", False, "pad gain in dB",
          param="gain_db"),
    Route("/pad/pan", (_PAD, Arg("pan", "float", MIN_PAN, MAX_PAN)), "apply", False, "pan, -1 left .. 1 right",
          param="pan"),
    Route("/pad/pitch", (_PAD, Arg("semitones", "float", MIN_PITCH_SEMITONES, MAX_PITCH_SEMITONES)), "apply", False,
          "pitch by resampling", param="pitch_semitones"),
    Route("/pad/choke", (_PAD, Arg("group", "int", 0, MAX_CHOKE_GROUP)), "set_choke", False,
          "choke group (0 = none)"),
    Route("/pad/class", (_PAD, Arg("class_name", "str")), "set_class", False,
          "the class a conditional model renders for the pad (one of model.json's classes, e.g. closed_hat)"),
    Route("/pad/truncation", (_PAD, Arg("psi", "float", MIN_TRUNCATION, MAX_TRUNCATION)), "apply", False,
          "truncation psi: z scaled towards the typical sound (1 = as drawn)", param="truncation"),
    Route("/master/gain", (Arg("gain_db", "float", MIN_GAIN_DB, MAX_GAIN_DB),), "apply", False,
          "the kit's master gain in dB", param="master_gain_db"),
    Route("/focus", (_PAD,), "set_focus", False, "make a pad the target of the focused.* controllers (MIDI knobs)"),
    Route("/learn", (Arg("target", "str"),), "learn", False,
          "MIDI learn: bind the next CC that moves to a controller target, e.g. focused.direction.0 "
          "(none cancels); saved with the kit"),
    Route("/kit/load", (Arg("path", "str"),), "kit_load", False, "load a kit JSON (inside the kit folder)"),
    Route("/kit/save", (Arg("path", "str"),), "kit_save", False, "save the kit JSON (inside the kit folder)"),
    Route("/model/load", (Arg("bundle", "str"),), "model_load", True,
          "hot-swap the model: a name under presets/models or a bundle folder (inside the kit folder); it loads, "
          "warms up and renders every pad in the background while the old one plays, then switches (at the "
          "bundle's timetag, if any); replies /model/loaded s:name f:seconds, or /fail (the old model plays on)"),
    Route("/panic", (), "panic", False, "fade out every voice, cancel everything scheduled"),
    Route("/pattern/play", (Arg("slot", "int", 0, MAX_PATTERN_SLOTS - 1), Arg("source", "str"),
                            Arg("seed", "int", 0, MAX_SEED, optional=True, default=_random_seed)), "pattern_play", False,
          "loop a pattern in a slot from the next bar line: a patterns bundle (a new seed: a new pattern; random "
          "when omitted) or a .mid file's notes (channel 10: drum hits, others: held notes), under the patterns "
          "folder (serve --patterns-root)"),
    Route("/pattern/stop", (Arg("slot", "int", 0, MAX_PATTERN_SLOTS - 1, optional=True),), "pattern_stop", False,
          "silence a slot at the next bar line; without a slot: every slot, and the transport stops"),
    Route("/tempo", (Arg("bpm", "float", MIN_TEMPO_BPM, MAX_TEMPO_BPM),), "tempo", False,
          "the live patterns' tempo, from the next bar line"),
    Route("/pattern/status", (), "pattern_status", False,
          "replies /pattern/status.reply s:JSON: tempo, transport, each slot, counters"),
    Route("/render", (Arg("request_id", "int", -MAX_INT32 - 1, MAX_INT32), Arg("z", "floats", -MAX_ABS_Z, MAX_ABS_Z)),
          "render", False, "render a latent to a WAV (on the render thread); replies "
          "/rendered i:request_id s:wav_path i:frames i:sample_rate"),
    Route("/status", (), "status", False, "replies /status.reply (see STATUS_FIELDS)"),
    Route("/status.json", (), "status_json", False,
          "replies /status.json s:JSON, every engine and OSC counter by name"),
)}

#: /status.reply arguments, in order: (name, type tag, where it comes from). New fields go at the
#: end, so a patch that reads the first ones by position keeps working. ``limiter_db``: the
#: master limiter's gain reduction now (dB >= 0, 0 = not limiting); ``limiter_max_db``: the most
#: since the engine started (its peaks reset). ``f`` fields read -1 when unknown.
STATUS_FIELDS = (
    ("voices", "i", "engine"), ("underflows", "i", "engine"), ("late", "i", "engine"), ("renders", "i", "engine"),
    ("render_ms_p50", "f", "engine"), ("render_ms_p99", "f", "engine"), ("backend", "s", "engine"),
    ("sample_rate", "i", "engine"), ("received", "i", "osc"), ("accepted", "i", "osc"), ("rejected", "i", "osc"),
    ("dropped", "i", "osc"), ("osc_late", "i", "osc"), ("limiter_db", "f", "engine"), ("limiter_max_db", "f", "engine"),
)


@dataclass(frozen=True)
class Reply:
    address: str
    tags: str
    args: tuple


@dataclass(frozen=True)
class ModelJob:
    """A /model/load for the server: the bundle to swap in, from ``at_frame`` (None: when ready)."""

    bundle: str
    at_frame: int | None = None


@dataclass(frozen=True)
class RenderJob:
    """A /render to run off the dispatch thread: ``z`` float[latent_dim] as a tuple."""

    request_id: int
    z: tuple


@dataclass(frozen=True)
class MatchJob:
    """A /pad/match to run off the dispatch thread: the sound file's latent onto pad ``pad``."""

    pad: int
    path: Path


@dataclass(frozen=True)
class RouteContext:
    """What a handler may need besides the message: the frame a timed message plays at
    (None: now), the server's counters (for /status) and the folder kit paths must lie in
    (None: any path)."""

    at_frame: int | None = None
    counters: dict = field(default_factory=dict)
    kit_dir: Path | None = None


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


def status_json_reply(status: dict, counters: dict) -> Reply:
    """/status.json: one string, a JSON object ``{"engine": {...}, "osc": {...}}`` naming every
    counter (the self-describing twin of /status.reply; new counters appear without a new tag)."""
    def plain(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None  # JSON has no NaN: "no render yet" is null
        return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
    counters = counters.snapshot() if hasattr(counters, "snapshot") else counters  # the server's live Counters
    body = {"engine": {k: plain(v) for k, v in status.items()}, "osc": {k: plain(v) for k, v in counters.items()}}
    return Reply("/status.json", "s", (json.dumps(body, sort_keys=True, separators=(",", ":")),))


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


def _note(engine, args, ctx):
    note, velocity = args
    if velocity > 0:
        engine.note_on(note, velocity / 127.0, at_frame=ctx.at_frame)
    else:  # note-on velocity 0 means note-off: instrument notes release, drum pads ignore it
        engine.note_off(note, at_frame=ctx.at_frame)


def _learn(engine, args, ctx):
    engine.learn(None if args[0] in ("", "none") else args[0])


def _model_path(text: str, ctx: RouteContext) -> str:
    """A model name (no path separator: presets/models/NAME) or a folder inside the kit folder."""
    if not text.strip():
        raise OscError("bundle must be a model name or a bundle folder")
    if "/" not in text and "\\" not in text:
        return text
    if ctx.kit_dir is None:
        return text
    root = Path(ctx.kit_dir).resolve()
    path = (root / text).resolve()
    if path != root and root not in path.parents:
        raise OscError(f"bundle folder must be inside the kit folder {root} (--osc-kit-dir), or a model name")
    return str(path)


def _model_load(engine, args, ctx):
    return ModelJob(_model_path(args[0], ctx), ctx.at_frame)


def _kit_load(engine, args, ctx):
    engine.load_kit(_kit_path(args[0], ctx))


def _match(engine, args, ctx):
    engine.pad_latent(args[0])  # a pad past the kit's last is refused now, not after the search
    return MatchJob(args[0], _sound_path(args[1], ctx))


def _sound_path(text: str, ctx: RouteContext) -> Path:
    if not text.lower().endswith((".wav", ".flac")):
        raise OscError("sound path must end in .wav or .flac")
    if ctx.kit_dir is None:
        return Path(text)
    root = Path(ctx.kit_dir).resolve()
    path = (root / text).resolve()
    if root not in path.parents:
        raise OscError(f"sound path must be inside the kit folder {root} (--osc-kit-dir)")
    return path


def _map_load(engine, args, ctx):
    engine.load_map(_kit_path(args[0], ctx))


def _kit_save(engine, args, ctx):
    engine.save_kit(_kit_path(args[0], ctx))


def _render(engine, args, ctx):
    return RenderJob(*args)


def _status(engine, args, ctx):
    return status_reply(engine.status(), ctx.counters)


def _status_json(engine, args, ctx):
    return status_json_reply(engine.status(), ctx.counters)


def _apply(engine, spec: Route, values: tuple) -> None:
    """A knob: the route's last argument sets its target parameter (pad and direction before it)."""
    *where, value = values
    pad, direction = (list(where) + [None, None])[:2]
    engine.apply(target_for(spec.param, pad=pad, direction=direction), value)


#: Commands that are not one Engine method with the arguments in order.
_COMMANDS = {"note": _note, "learn": _learn, "kit_load": _kit_load, "kit_save": _kit_save, "map_load": _map_load, "match": _match,
             "render": _render,
             "model_load": _model_load,
             "status": _status, "status_json": _status_json, **PATTERN_COMMANDS,
             "pattern_status": lambda engine, args, ctx: Reply("/pattern/status.reply", "s", (pattern_status_json(engine),))}


def _run(engine, spec: Route, values: tuple, ctx: RouteContext):
    if spec.param is not None:
        return _apply(engine, spec, values)
    if spec.command in _COMMANDS:
        return _COMMANDS[spec.command](engine, values, ctx)
    if spec.timed:
        return getattr(engine, spec.command)(*values, at_frame=ctx.at_frame)
    return getattr(engine, spec.command)(*values)


def route(message: Message, engine, ctx: RouteContext = RouteContext()):
    """Check ``message`` against the table and run its Engine command.

    Returns None, a :class:`Reply` to send, a :class:`RenderJob` to queue or a :class:`ModelJob`
    for the server to start; raises
    :class:`OscError` with the reason for anything refused (the Engine's own errors included).
    """
    spec = ADDRESSES.get(message.address)
    if spec is None:
        raise OscError(f"unknown address {message.address}")
    return run(spec, coerce(spec, message), engine, ctx)


def run(spec: Route, values: tuple, engine, ctx: RouteContext = RouteContext()):
    """Run the command of a message already checked by :func:`coerce` (``values``); as :func:`route`."""
    try:
        result = _run(engine, spec, values, ctx)
    except GanshotError as err:
        raise OscError(_with_hint(spec, values, str(err), engine)) from None
    except OSError as err:  # /kit/save into a folder that is not writable, ...
        raise OscError(f"{type(err).__name__}: {err}") from None
    return result if isinstance(result, (Reply, RenderJob, ModelJob, MatchJob)) else None  # not voice tokens


def _with_hint(spec: Route, values: tuple, reason: str, engine) -> str:
    """A refused pad index that looks like a MIDI note gets the way to play by note."""
    if spec.address == "/pad/trigger" and reason.startswith("pad must be") and reason.endswith(f"got {values[0]}"):
        return f"{reason}: pad is an index into the kit's pads; to play MIDI note {values[0]} send /note {values[0]} 127"
    return reason


def _arg_markdown(arg: Arg) -> str:
    tag = {"int": "i", "float": "f", "str": "s", "floats": "f×latent_dim"}[arg.kind]
    text = f"{tag}:{arg.name}"
    if arg is _PAD:
        text += " 0..N-1 (kit pad index)"
    elif arg.kind == "int" and arg.high == MAX_SEED:
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
