"""What the web page shows, as JSON-able dicts built from the engine's own read-only snapshots.

Cheat sheet::

    memo = DigestMemo()
    state = page_state(engine, memo, pins={0: (0.2, 0.7)})   # pads, knobs' ranges, focus, model, map?
    points = map_points(engine.timbre_map, engine.bundle.classes)   # {"points": [[x, y, label], ...], ...}
    status = status_event(engine.status(), osc.counters(), web_counters)

Reads only: the page changes the engine through OSC (see :mod:`.server`). These use the
engine's thread-safe views (:meth:`Engine.pads_snapshot`, :meth:`Engine.status`, its
``timbre_map`` and ``bundle`` references, swapped whole) and the OSC server's ``counters()``.

The slider ranges come from the OSC address table (:data:`~ganshot.bridges.osc.addresses.ADDRESSES`),
so the page cannot offer a value the server refuses.
"""

from __future__ import annotations

import math

from ganshot.bridges.osc.addresses import ADDRESSES

from .thumbs import buffer_digest

__all__ = ["DigestMemo", "page_state", "map_points", "status_event", "control_ranges", "PAGE_PADS",
           "PAGE_KNOBS", "STATUS_KEYS", "OSC_STATUS_KEYS"]

PAGE_PADS = 16  # pads on the page (4 x 4); a kit with fewer shows the rest empty
PAGE_KNOBS = 8  # direction knobs of the focused pad
#: engine.status() fields the page shows (null when not a finite number yet)
STATUS_KEYS = ("voices", "underflows", "late", "renders", "render_ms_p50", "render_ms_p99", "backend",
               "sample_rate", "triggers", "focus", "model", "limiter_db", "model_swap_stage")
OSC_STATUS_KEYS = ("received", "accepted", "rejected", "dropped")
#: page control -> (OSC address, argument slot) its range comes from
_RANGES = {"velocity": ("/pad/trigger", 1), "direction": ("/pad/knob", 2), "gain_db": ("/pad/gain", 1),
           "pan": ("/pad/pan", 1), "pitch_semitones": ("/pad/pitch", 1), "morph": ("/pad/morph", 3),
           "master_gain_db": ("/master/gain", 0)}


def control_ranges() -> dict:
    """``{control: [low, high]}`` of the page's sliders, from the OSC table."""
    out = {}
    for name, (address, slot) in _RANGES.items():
        arg = ADDRESSES[address].args[slot]
        out[name] = [arg.low, arg.high]
    return out


class DigestMemo:
    """Buffer digests by buffer object: a pad's buffer is hashed once, not on every look."""

    def __init__(self):
        self._known: dict = {}  # id -> (buffer, digest); holding the buffer keeps its id unique

    def digests(self, buffers) -> list[str]:
        known, fresh = self._known, {}
        out = []
        for buffer in buffers:
            entry = known.get(id(buffer)) if buffer is not None else None
            if entry is None or entry[0] is not buffer:
                entry = (buffer, buffer_digest(buffer))
            if buffer is not None:
                fresh[id(buffer)] = entry
            out.append(entry[1])
        self._known = fresh  # only the buffers playing now
        return out


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def page_state(engine, memo: DigestMemo, pins=None) -> dict:
    """The page's picture of the kit: each pad's name, note, knobs and buffer digest, the focus,
    the model, the slider ranges, whether a timbre map is loaded, and the pins (pad -> x, y)."""
    kit, buffers = engine.pads_snapshot()
    digests = memo.digests(buffers)
    knobs = min(PAGE_KNOBS, int(engine.num_directions))
    pads = []
    for index, pad in enumerate(kit.pads[:PAGE_PADS]):
        directions = list(pad.directions[:knobs]) + [0.0] * (knobs - len(pad.directions[:knobs]))
        pads.append({"index": index, "name": pad.name, "note": pad.note, "gain_db": pad.gain_db, "pan": pad.pan,
                     "pitch_semitones": pad.pitch_semitones, "directions": directions,
                     "class_name": pad.class_name, "buffer": digests[index]})
    timbre_map = engine.timbre_map
    return {"pads": pads, "kit_pads": len(kit.pads), "page_pads": PAGE_PADS, "knobs": knobs,
            "focus": int(engine.focus), "kit": kit.name, "model": engine.bundle.name,
            "master_gain_db": kit.master_gain_db, "ranges": control_ranges(),
            "map": None if timbre_map is None else {"points": len(timbre_map.seeds),
                                                     "path": str(timbre_map.path or "")},
            "pins": {str(pad): [x, y] for pad, (x, y) in sorted((pins or {}).items())}}


def map_points(timbre_map, class_names) -> dict | None:
    """The loaded timbre map for the canvas: ``{"points": [[x, y, label|-1], ...], "classes": [...]}``
    (y up, as ``ganshot map`` lays it out); None without a map."""
    if timbre_map is None:
        return None
    points = [[round(float(x), 5), round(float(y), 5), -1 if label is None else int(label)]
              for (x, y), label in zip(timbre_map.xy, timbre_map.labels)]
    return {"points": points, "classes": list(class_names)}


def status_event(status: dict, osc_counters: dict, web_counters: dict) -> dict:
    """The live status line's data: engine counters, the OSC server's, the web bridge's."""
    out = {key: _finite(status.get(key)) for key in STATUS_KEYS}
    out["osc"] = {key: osc_counters.get(key, 0) for key in OSC_STATUS_KEYS}
    out["web"] = dict(web_counters)
    return out
