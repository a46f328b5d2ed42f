"""Kit file format: every refusal (one line naming the field), edits, targets, arbitrary input.

Pure data tests: no model is rendered, no torch or onnxruntime is imported. Files on disk
(save/load) are tests/engine/test_kit_file.py; the model a kit belongs to, test_kit_model.py.
"""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganshot.engine import kit as kit_mod
from ganshot.engine.kit_schema import TARGETS, Controller, parse_target
from ganshot.engine.limits import MAX_DIRECTIONS, MAX_LATENT_DIM
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.kit import Pad, kit_to_json, parse_kit
from tests.support.kits import LATENT, SHA, kit_data


# -- parsing: defaults --------------------------------------------------------------------


def test_defaults_fill_in():
    data = kit_data(pads=[{"note": 60, "seed": 1}], controllers=[{"number": 10, "target": "focused.pan"}])
    del data["master_gain_db"]
    kit = parse_kit(data)
    assert kit.pads[0] == Pad(note=60, seed=1)
    ctl = kit.controllers[0]
    assert (ctl.type, ctl.channel, ctl.min, ctl.max, ctl.curve) == ("cc", None, -1.0, 1.0, "linear")
    assert kit.master_gain_db == 0.0
    assert "z=<8 floats>" in repr(parse_kit(kit_data()).pads[1])


# -- refusals: error type, and the message names the field ----------------------------------


def mutate(path: str, value=None, delete=False):
    def apply(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if delete:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
        return data

    return apply


REFUSALS = [
    (mutate("format", "ganshot-model"), "format is 'ganshot-model'"),
    (mutate("format", delete=True), "format is None"),
    (mutate("version", 3), "version 3 is newer than this ganshot reads (2)"),
    (mutate("version", True), "unknown version True"),
    (mutate("version", "1"), "unknown version '1'"),
    (mutate("colour", "red"), "unknown key 'colour'"),
    (mutate("pads.0.velocity", 1), "pads[0] has an unknown key 'velocity'"),
    (mutate("model.url", "x"), "model has an unknown key 'url'"),
    (mutate("controllers.0.learn", True), "controllers[0] has an unknown key 'learn'"),
    (mutate("name", ""), "name must be 1 to 200"),
    (mutate("name", "two\nlines"), "name must be one line"),
    (mutate("name", "\ud800"), "name is not valid Unicode"),
    (mutate("model", delete=True), "missing field 'model'"),
    (mutate("model.sha256", "AB" * 32), "model.sha256 must be 64 lowercase hex"),
    (mutate("model.path", 3), "model.path must be a string"),
    (mutate("pads", delete=True), "missing field 'pads'"),
    (mutate("pads", {}), "pads must be a list"),
    (mutate("pads", [{"note": n, "seed": 0} for n in range(128)] + [{"note": 0, "seed": 0}]), "at most 128"),
    (mutate("pads.0", []), "pads[0] must be an object"),
    (mutate("pads.0.note", 128), "pads[0].note must be an integer in [0, 127], got 128"),
    (mutate("pads.0.note", 36.0), "pads[0].note must be an integer"),
    (mutate("pads.1.note", 36), "pads[1].note 36 is already used by pads[0]"),
    (mutate("pads.0.name", "x" * 65), "pads[0].name must be at most 64"),
    (mutate("pads.0.z", [0.0] * LATENT), "pads[0] has both z and seed"),
    (mutate("pads.0.seed", delete=True), "pads[0] has neither z nor seed"),
    (mutate("pads.0.seed", -1), "pads[0].seed must be an integer in [0, "),
    (mutate("pads.1.z", []), f"pads[1].z must hold 1 to {MAX_LATENT_DIM} values"),
    (mutate("pads.1.z", [0.0, "1"]), "pads[1].z[1] must be a number, got a string"),
    (mutate("pads.1.z", [0.0, False]), "pads[1].z[1] must be a number, got true/false"),
    (mutate("pads.1.z", [float("nan")]), "pads[1].z[0] must be a finite number"),
    (mutate("pads.1.z", [10**400]), "pads[1].z[0] must be a number in [-1000, 1000]"),
    (mutate("pads.0.directions", [0.0] * (MAX_DIRECTIONS + 1)),
     f"pads[0].directions must hold 0 to {MAX_DIRECTIONS} values, got {MAX_DIRECTIONS + 1}"),
    (mutate("pads.0.directions", [1.5]), "pads[0].directions[0] must be a number in [-1, 1], got 1.5"),
    (mutate("pads.0.gain_db", 13), "pads[0].gain_db must be a number in [-60, 12], got 13"),
    (mutate("pads.0.gain_db", True), "pads[0].gain_db must be a number, got true/false"),
    (mutate("pads.0.gain_db", None), "pads[0].gain_db must be a number, got null"),
    (mutate("pads.0.pan", -1.01), "pads[0].pan must be a number in [-1, 1]"),
    (mutate("pads.0.pitch_semitones", 25), "pads[0].pitch_semitones must be a number in [-24, 24]"),
    (mutate("pads.0.choke_group", 17), "pads[0].choke_group must be an integer in [0, 16]"),
    (mutate("controllers", [{"number": 1, "target": "focused.pan"}] * 513), "controllers holds 513 entries"),
    (mutate("controllers.0.type", "nrpn"), "controllers[0].type must be one of cc"),
    (mutate("controllers.0.channel", 16), "controllers[0].channel must be an integer in [0, 15]"),
    (mutate("controllers.0.number", 128), "controllers[0].number must be an integer in [0, 127]"),
    (mutate("controllers.0.number", delete=True), "controllers[0] is missing field 'number'"),
    (mutate("controllers.0.target", "focused.volume"), "controllers[0].target 'focused.volume' is not a known target"),
    (mutate("controllers.0.target", f"focused.direction.{MAX_DIRECTIONS}"),
     f"controllers[0].target 'focused.direction.{MAX_DIRECTIONS}' is not"),
    (mutate("controllers.0.target", "pad.01.pan"), "controllers[0].target 'pad.01.pan' is not"),
    (mutate("controllers.0.target", "pad.4.pan"), "controllers[0].target 'pad.4.pan' names pads[4] but the kit has 4"),
    (mutate("controllers.1.min", -61), "controllers[1].min must be a number in [-60, 12]"),
    (mutate("controllers.0.max", 2), "controllers[0].max must be a number in [-1, 1]"),
    (mutate("controllers.0.curve", "cubic"), "controllers[0].curve must be one of linear, exp, log"),
    (mutate("master_gain_db", -61), "master_gain_db must be a number in [-60, 12], got -61"),
]


@pytest.mark.parametrize("change, message", REFUSALS, ids=[m for _, m in REFUSALS])
def test_parse_refuses_naming_the_field(change, message):
    data = change(kit_data())
    with pytest.raises(FormatError) as info:
        parse_kit(data, where="kits/x.json")
    text = str(info.value)
    assert text.startswith("kits/x.json: ") and message in text, text
    assert "\n" not in text


def test_top_level_must_be_object():
    with pytest.raises(FormatError, match="top level must be a JSON object"):
        parse_kit([kit_data()])


# -- lookups and immutable edits ------------------------------------------------------------


def test_pad_for_note():
    kit = parse_kit(kit_data())
    assert kit.pad_for_note(42).name == "Closed Hat" and kit.index_for_note(42) == 2
    assert kit.pad_for_note(36) is kit.pads[0]
    for note in (0, 37, 127, -1, 128, 36.0, None, "36"):
        assert kit.pad_for_note(note) is None and kit.index_for_note(note) == -1


def test_with_pad_returns_new_validated_kit():
    kit = parse_kit(kit_data())
    snapshot = copy.deepcopy(kit_to_json(kit))
    louder = kit.with_pad(0, gain_db=np.float32(-6.0), name="Kick 2")
    assert louder.pads[0].gain_db == -6.0 and louder.pads[0].name == "Kick 2"
    assert louder.pads[1:] == kit.pads[1:] and louder.controllers == kit.controllers
    moved = kit.with_pad(0, note=35)
    assert moved.pad_for_note(35) is moved.pads[0] and moved.pad_for_note(36) is None
    z = np.linspace(-1, 1, LATENT, dtype=np.float32)
    drawn = kit.with_pad(0, z=z)
    assert drawn.pads[0].seed is None and drawn.pads[0].z == tuple(z.tolist())
    assert drawn.with_pad(0, seed=3).pads[0].z is None
    bad = [
        ((0,), {"gain_db": 99}, r"pads\[0\]\.gain_db must be a number in \[-60, 12\]"),
        ((0,), {"note": 38}, r"pads\[0\]\.note 38 is already used by pads\[1\]"),
        ((0,), {"velocity": 1}, "has no field 'velocity'"),
        ((0,), {"seed": None}, "neither z nor seed"),
        ((4,), {"pan": 0}, r"must be an integer in \[0, 3\], got 4"),
        ((True,), {"pan": 0}, r"must be an integer in \[0, 3\], got True"),
    ]
    for args, changes, message in bad:
        with pytest.raises(UserInputError, match=message):
            kit.with_pad(*args, **changes)
    assert kit_to_json(kit) == snapshot  # a failed edit leaves the playing kit as it was


def test_a_knob_edit_equals_a_full_rebuild():
    """with_pad's quick copy (no __init__) must give exactly what dataclasses.replace gives."""
    kit = parse_kit(kit_data())
    for changes in ({"gain_db": -3.5}, {"pan": 0.25, "pitch_semitones": -2.0}, {"directions": (0.5,) * 8},
                    {"note": 60}, {"seed": 77}):
        quick = kit.with_pad(1, **changes)
        pad = dataclasses.replace(kit.pads[1], **{f.name: getattr(quick.pads[1], f.name)
                                                  for f in dataclasses.fields(kit.pads[1])})
        full = dataclasses.replace(kit, pads=(kit.pads[0], pad, *kit.pads[2:]))
        assert quick == full and hash(quick.pads[1]) == hash(full.pads[1])
        assert [quick.index_for_note(n) for n in range(128)] == [full.index_for_note(n) for n in range(128)]
        assert kit_to_json(quick) == kit_to_json(full) and type(quick) is type(full)


# -- controller targets and curves ----------------------------------------------------------


def test_every_target_pattern_parses():
    for spec in TARGETS:
        text = spec.pattern.replace("{pad}", "3").replace("{direction}", "31")
        target = parse_target(text)
        assert target is not None and target.spec is spec
        assert target.pad == (3 if "{pad}" in spec.pattern else None)
    for text in ("pad.-1.pan", "pad.128.pan", "pad.3", "focused.direction.", "pad.٣.pan", "", "x" * 300, 3):
        assert parse_target(text) is None


@pytest.mark.parametrize("curve", ["linear", "exp", "log"])
def test_controller_curves_hit_the_ends_and_rise(curve):
    ctl = Controller(number=1, target="master.gain_db", min=-60.0, max=6.0, curve=curve)
    values = [ctl.value_for(cc / 127) for cc in range(128)]
    assert values[0] == pytest.approx(-60.0) and values[-1] == pytest.approx(6.0)
    assert all(b > a for a, b in zip(values, values[1:]))
    assert ctl.value_for(-5) == pytest.approx(-60.0) and ctl.value_for(5) == pytest.approx(6.0)


def test_kit_module_stays_light():
    code = (
        "import sys, ganshot.engine.kit; "
        "bad = [m for m in ('torch', 'onnxruntime', 'onnx', 'numpy', 'ganshot.training') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- property: any JSON-like input gives a Kit or a one-line FormatError --------------------

KNOWN_KEYS = sorted(set(kit_mod.KIT_KEYS) | set(kit_mod.MODEL_KEYS) | set(kit_mod.PAD_KEYS) | {"type", "channel",
                    "number", "target", "min", "max", "curve"})
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.integers(-2, 130) | st.floats()
    | st.text(max_size=12) | st.sampled_from(["ganshot-kit", "linear", "focused.pan", "pad.0.gain_db", SHA])
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), children, max_size=6),
    max_leaves=24,
)


def check_outcome(data):
    try:
        kit = parse_kit(data, where="prop")
    except FormatError as err:
        assert "\n" not in str(err) and str(err).startswith("prop: ")
        return
    assert parse_kit(kit_to_json(kit)) == kit  # whatever parses also writes back and re-reads
    kit_mod._kit_text(kit, "prop")


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_LIKE)
def test_parse_kit_on_arbitrary_data(data):
    check_outcome(data)


def containers(node):
    """Every (container, key) slot in a decoded JSON tree."""
    slots = []
    if isinstance(node, dict):
        for key, child in node.items():
            slots.append((node, key))
            slots.extend(containers(child))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            slots.append((node, index))
            slots.extend(containers(child))
    return slots


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_parse_kit_on_mutated_kits(draw):
    data = kit_data()
    for _ in range(draw.draw(st.integers(1, 3))):
        node, key = draw.draw(st.sampled_from(containers(data)))
        action = draw.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "add" and isinstance(node, dict):
            node[draw.draw(st.sampled_from(KNOWN_KEYS))] = draw.draw(JSON_LIKE)
        elif action == "delete":
            del node[key]
        else:
            node[key] = draw.draw(JSON_LIKE)
    check_outcome(data)
