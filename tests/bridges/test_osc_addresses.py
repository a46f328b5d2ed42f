"""The address table routed onto a real offline Engine (tiny bundle): commands, coercion, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganshot.bridges.osc.addresses import (
    ADDRESSES, STATUS_FIELDS, RenderJob, Reply, RouteContext, address_table_markdown, route, schedule,
)
from ganshot.bridges.osc.validate import IMMEDIATE, Message, OscError, unix_to_ntp
from ganshot.engine.engine import Engine
from ganshot.engine.kit import load_kit, save_kit
from ganshot.engine.latent import slerp
from tests.support import kit_for

RATE = 48000
F32 = lambda v: float(np.float32(v))  # noqa: E731 - what an OSC 'f' argument carries


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=RATE, backend="onnx") as eng:
        yield eng


def msg(address: str, tags: str = "", *args) -> Message:
    return Message(address, tags, tuple(args))


def pad(engine, index):
    engine.wait_ready(10)
    return engine.kit.pads[index]


def test_trigger_plays_now_or_at_the_frame(engine):
    before = engine.status()["triggers"]
    assert route(msg("/pad/trigger", "if", 1, F32(0.5)), engine) is None
    assert route(msg("/pad/trigger", "i", 1), engine) is None  # velocity defaults to 1
    assert route(msg("/pad/trigger", "ff", 1.0, 1.0), engine) is None  # Max sends floats
    assert engine.status()["triggers"] == before + 3
    engine.panic()
    engine.mixer.render(4096)
    target = engine.mixer.frame + 1000
    route(msg("/pad/trigger", "i", 0), engine, RouteContext(at_frame=target))
    out = engine.mixer.render(4000)
    first = int(np.argmax(np.abs(engine.pad_buffer(0)) > 0))
    assert int(np.argmax(np.abs(out[:, 0]) > 1e-6)) == 1000 + first


def test_note_maps_through_the_kit(engine):
    before = engine.status()["triggers"]
    route(msg("/note", "ii", 37, 100), engine)
    route(msg("/note", "ii", 37, 0), engine)  # note-off: ignored
    route(msg("/note", "ii", 99, 100), engine)  # unmapped: counted by the engine, not refused
    assert engine.status()["triggers"] == before + 1 and engine.triggers_unmapped == 1


def test_latent_commands(engine, tiny_bundle):
    z = [F32(v) for v in np.linspace(-1, 1, tiny_bundle.latent_dim)]
    route(msg("/pad/z", "i" + "f" * len(z), 0, *z), engine)
    assert pad(engine, 0).z == pytest.approx(z)
    route(msg("/pad/dim", "iif", 0, 3, F32(0.5)), engine)
    assert pad(engine, 0).z[3] == 0.5
    route(msg("/pad/random", "ii", 1, 42), engine)
    assert pad(engine, 1).seed == 42 and pad(engine, 1).z is None
    route(msg("/pad/random", "i", 2), engine)
    assert pad(engine, 2).seed != 3  # kit_for gave pad 2 seed 3; a fresh one is drawn
    route(msg("/pad/knob", "iif", 1, 2, F32(0.8)), engine)
    assert pad(engine, 1).directions == pytest.approx((0.0, 0.0, 0.8))
    route(msg("/pad/morph", "iiif", 3, 1, 0, F32(0.25)), engine)
    expected = slerp(engine.pad_latent(1), engine.pad_latent(0), 0.25)
    np.testing.assert_allclose(engine.pad_latent(3), expected, rtol=1e-5)
    assert engine.wait_ready(10)


def test_pad_settings(engine):
    route(msg("/pad/gain", "if", 0, F32(-6.0)), engine)
    route(msg("/pad/pan", "ii", 0, -1), engine)  # an int where a float is expected
    route(msg("/pad/pitch", "id", 0, 3.0), engine)
    route(msg("/pad/choke", "if", 0, 2.0), engine)  # a whole float where an int is expected
    p = pad(engine, 0)
    assert (p.gain_db, p.pan, p.pitch_semitones, p.choke_group) == (-6.0, -1.0, 3.0, 2)


def test_kit_load_save_inside_the_kit_folder(engine, tiny_bundle, tmp_path):
    ctx = RouteContext(kit_dir=tmp_path)
    route(msg("/pad/gain", "if", 1, F32(-3.0)), engine)
    route(msg("/kit/save", "s", "saved.json"), engine, ctx)
    assert load_kit(tmp_path / "saved.json") == engine.kit
    save_kit(kit_for(tiny_bundle, num_pads=2), tmp_path / "two.json")
    route(msg("/kit/load", "S", "two.json"), engine, ctx)
    assert len(engine.kit.pads) == 2


def test_panic_silences(engine):
    route(msg("/pad/trigger", "i", 0), engine)
    engine.mixer.render(256)
    route(msg("/panic"), engine)
    engine.mixer.render(4096)
    assert engine.status()["voices"] == 0


def test_render_and_status_come_back_as_values(engine, tiny_bundle):
    z = [0.25] * tiny_bundle.latent_dim
    assert route(msg("/render", "i" + "f" * len(z), 7, *z), engine) == RenderJob(7, tuple(z))
    reply = route(msg("/status"), engine, RouteContext(counters={"received": 5, "late": 2}))
    assert isinstance(reply, Reply) and reply.address == "/status.reply"
    assert reply.tags == "".join(t for _, t, _ in STATUS_FIELDS) == "iiiiffsiiiiiiff"
    values = dict(zip((n for n, _, _ in STATUS_FIELDS), reply.args))
    status = engine.status()
    assert values["sample_rate"] == RATE and values["backend"] == status["backend"]
    assert values["renders"] == status["renders"] and values["render_ms_p50"] > 0
    assert values["received"] == 5 and values["osc_late"] == 2 and values["dropped"] == 0
    assert values["limiter_db"] == values["limiter_max_db"] == 0.0  # nothing played loud yet


def test_status_reply_carries_the_limiters_gain_reduction(engine):
    assert engine.mixer.play(np.full(4096, 0.9, np.float32), 4.0, 4.0)  # +11 dBFS into the master bus
    engine.mixer.render(4096)
    values = dict(zip((n for n, _, _ in STATUS_FIELDS), route(msg("/status"), engine).args))
    status = engine.status()
    assert values["limiter_max_db"] == status["limiter_max_db"] > 0.0  # it limited, and says by how much
    assert values["limiter_db"] == status["limiter_db"] >= 0.0


def test_status_json_names_every_counter(engine):
    import json

    reply = route(msg("/status.json"), engine, RouteContext(counters={"received": 5, "late": 2}))
    assert reply.address == "/status.json" and reply.tags == "s"
    body = json.loads(reply.args[0])
    assert body["osc"] == {"received": 5, "late": 2}
    assert body["engine"]["sample_rate"] == RATE and body["engine"]["pads"] == len(engine.kit.pads)
    assert set(engine.status()) == set(body["engine"])


def test_knob_routes_and_master_gain_speak_engine_apply(engine, monkeypatch):
    calls = []
    monkeypatch.setattr(engine, "apply", lambda target, value: calls.append((str(target), value)))
    route(msg("/pad/gain", "if", 1, -6.0), engine)
    route(msg("/pad/knob", "iif", 2, 5, 0.5), engine)
    route(msg("/pad/pitch", "if", 0, 3.0), engine)
    route(msg("/master/gain", "f", -3.0), engine)
    assert calls == [("pad.1.gain_db", -6.0), ("pad.2.direction.5", 0.5), ("pad.0.pitch_semitones", 3.0),
                     ("master.gain_db", -3.0)]


NAN, INF = float("nan"), float("inf")
REFUSED = [
    (msg("/nope"), "unknown address /nope"),
    (msg("/pad/trigger"), "takes 1 to 2 argument(s), got 0"),
    (msg("/pad/trigger", "ifi", 0, 1.0, 3), "takes 1 to 2 argument(s), got 3"),
    (msg("/pad/trigger", "s", "0"), "pad must be an integer"),
    (msg("/pad/trigger", "f", 1.5), "pad must be an integer"),
    (msg("/pad/trigger", "T", True), "pad must be an integer"),
    (msg("/pad/trigger", "if", 0, NAN), "velocity must be finite"),
    (msg("/pad/trigger", "if", 0, INF), "velocity must be finite"),
    (msg("/pad/trigger", "if", 0, 1.5), "velocity must be in [0, 1]"),
    (msg("/pad/trigger", "i", 9), "pad must be an integer in [0, 3]"),  # the kit's own bound, from the Engine
    (msg("/pad/trigger", "i", 36), "pad is an index into the kit's pads; to play MIDI note 36 send /note 36 127"),
    (msg("/pad/knob", "iif", 0, 63, 0.5), "direction must be an integer in [0, 7]"),  # OSC reaches 63; the model has 8
    (msg("/master/gain", "f", 13.0), "gain_db must be in [-60, 12]"),
    (msg("/pad/trigger", "i", -1), "pad must be in [0, 127]"),
    (msg("/note", "ii", 200, 1), "note must be in [0, 127]"),
    (msg("/note", "if", 36, 0.5), "velocity must be an integer"),
    (msg("/pad/z", "ifff", 0, 1.0, 2.0, 3.0), "z must be 8"),
    (msg("/pad/z", "i" + "f" * 8, 0, *([0.0] * 7 + [NAN])), "z[7] must be finite"),
    (msg("/pad/z", "i", 0), "takes 1 argument(s) then z floats, got 1"),
    (msg("/pad/dim", "iif", 0, 8, 1.0), "dim must be"),
    (msg("/pad/random", "ii", 0, -5), "seed must be in"),
    (msg("/pad/knob", "iif", 0, 1, 1.5), "value must be in [-1, 1]"),
    (msg("/pad/knob", "iif", 0, 64, 0.5), "direction must be in [0, 63]"),
    (msg("/pad/morph", "iiif", 0, 1, 2, 1.5), "t must be in [0, 1]"),
    (msg("/pad/morph", "iiif", 0, 1, 7, 0.5), "pad must be an integer in [0, 3]"),
    (msg("/pad/gain", "if", 0, 40.0), "gain_db must be in [-60, 12]"),
    (msg("/pad/gain", "id", 0, -INF), "gain_db must be finite"),
    (msg("/pad/pan", "if", 0, 2.0), "pan must be in [-1, 1]"),
    (msg("/pad/pitch", "if", 0, 30.0), "semitones must be in [-24, 24]"),
    (msg("/pad/choke", "ii", 0, 17), "group must be in [0, 16]"),
    (msg("/kit/load", "i", 3), "path must be a string"),
    (msg("/kit/load", "s", "../outside.json"), "inside the kit folder"),
    (msg("/kit/load", "s", "/etc/passwd"), "must end in .json"),
    (msg("/kit/load", "s", "missing.json"), "missing.json: missing (kit file)"),
    (msg("/kit/save", "s", "/tmp/elsewhere.json"), "inside the kit folder"),
    (msg("/panic", "i", 1), "takes 0 argument(s), got 1"),
    (msg("/render", "i", 7), "takes 1 argument(s) then z floats"),
    (msg("/render", "ff", 7.5, 1.0), "request_id must be an integer"),
    (msg("/focus", "i", 4), "pad must be an integer in [0, 3]"),
    (msg("/learn", "s", "focused.volume"), "is not a known target"),
    (msg("/learn", "s", "pad.9.pan"), "pad must be an integer in [0, 3]"),
    (msg("/learn", "i", 3), "target must be a string"),
]


@pytest.mark.parametrize("message, reason", REFUSED, ids=[f"{m.address}-{i}" for i, (m, _) in enumerate(REFUSED)])
def test_refused_per_message_with_a_reason(engine, tmp_path, message, reason):
    kit, triggers = engine.kit, engine.status()["triggers"]
    with pytest.raises(OscError) as err:
        route(message, engine, RouteContext(kit_dir=tmp_path))
    assert reason in str(err.value) and "\n" not in str(err.value)
    assert engine.kit == kit and engine.status()["triggers"] == triggers


def test_focus_and_learn_reach_the_engine(engine):
    route(msg("/focus", "i", 2), engine)
    assert engine.focus == 2 and engine.status()["focus"] == 2
    route(msg("/learn", "s", "focused.direction.1"), engine)
    assert engine.learn_target == "focused.direction.1"
    route(msg("/learn", "s", "none"), engine)
    assert engine.learn_target is None


def test_schedule_bundle_timetags():
    now = 1_700_000_000.0
    assert schedule(IMMEDIATE, now, 10.0).unix_s is None
    future = schedule(unix_to_ntp(now + 2.5), now, 10.0)
    assert math.isclose(future.unix_s, now + 2.5, abs_tol=1e-6) and not future.late
    past = schedule(unix_to_ntp(now - 1.0), now, 10.0)
    assert past.late and math.isclose(past.unix_s, now - 1.0, abs_tol=1e-6)
    with pytest.raises(OscError, match="3.6e\\+03 s ahead; the limit is 10 s"):
        schedule(unix_to_ntp(now + 3600), now, 10.0)


def test_readme_table_lists_every_address():
    table = address_table_markdown()
    assert all(f"`{address}`" in table for address in ADDRESSES)
    assert "[f:velocity 0..1]" in table and "f×latent_dim:z" in table
