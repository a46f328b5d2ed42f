"""The MIDI server on a real offline Engine (tiny bundle) fed through the fake port backend:
bad input, bounded queue, knob rate limit with the last position rendered, learn, kit sets."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from ganshot.bridges.midi.kitset import KitSwitcher, load_kitset
from ganshot.bridges.midi.mapping import MidiMapper, SetParam
from ganshot.bridges.midi.ports import FakeBackend, PortWatcher
from ganshot.bridges.midi.server import KnobLimiter, MidiServer
from ganshot.engine.kit_schema import Controller
from ganshot.engine.engine import Engine
from ganshot.engine.kit import ModelRef, kit_to_json, load_kit, save_kit
from tests.support import kit_for

RATE = 48000
NOTE_ON, CC = 0x99, 0xB0  # note-on on channel 10, control change on channel 1


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=RATE, backend="onnx") as eng:
        yield eng


@pytest.fixture
def served(engine):
    """(server, fake backend with port "Pads" open) for ``engine``."""
    backend = FakeBackend(["Pads"])
    with MidiServer(engine) as server:
        watcher = PortWatcher(backend, ["all"], server.feed, virtual_name="ganshot")
        watcher.open_virtual()
        watcher.start()
        yield server, backend
        watcher.close()


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_notes_from_a_port_play_pads(served, engine):
    server, backend = served
    backend.send("Pads", [NOTE_ON, 37, 100])
    backend.send("ganshot", [NOTE_ON, 38, 127])  # the virtual input
    backend.send("Pads", [0x89, 38, 0])  # note-off: ignored
    assert server.wait_idle(5)
    assert engine.status()["triggers"] == 2 and engine.focus == 2  # focus = the last pad played
    counters = server.counters()
    assert counters["received"] == 3 and counters["map_notes"] == 2 and counters["map_note_offs"] == 1


def test_bad_input_is_counted_and_never_raises(served, engine):
    server, backend = served
    rng = random.Random(7)
    for _ in range(2000):
        backend.send("Pads", [0xF0] + [rng.randrange(128) for _ in range(200)] + [0xF7])  # sysex flood
    for _ in range(500):
        backend.send("Pads", [0xF8])  # clock
        backend.send("Pads", [0xFE])  # active sensing
    garbage = [[0x12, 0x34], [0x90, 200, 3], [0x90, 36], [0xB0, 1, 2, 3, 4], [0xF4], [0xF1, 0x80], [0xFF]]
    for data in garbage:
        backend.send("Pads", data)
    for _ in range(300):  # random bytes, any length
        backend.send("Pads", [rng.randrange(256) for _ in range(rng.randrange(1, 5))])
    for weird in (None, "abc", 42, [], [None], [-1, 2]):
        server.feed(weird)
    assert server.wait_idle(5)
    counters = server.counters()
    assert counters["sysex"] >= 2000 and counters["clock"] >= 500 and counters["active_sensing"] >= 500
    assert counters["garbage"] >= 4 and counters["realtime"] >= 1 and counters["feed_errors"] >= 1
    assert counters["errors"] == 0 and counters["dropped"] == 0
    before = engine.status()["triggers"]
    backend.send("Pads", [NOTE_ON, 36, 90])  # still serving
    assert server.wait_idle(5) and engine.status()["triggers"] == before + 1


def test_the_queue_is_bounded(engine):
    server = MidiServer(engine, queue_size=8)  # not started: nothing drains it
    for _ in range(100):
        server.feed([NOTE_ON, 36, 100])
    counters = server.counters()
    assert counters["received"] == 8 and counters["dropped"] == 92 and counters["queue_max"] == 8


def test_engine_refusals_and_internal_errors_are_counted(served, engine, monkeypatch):
    server, backend = served
    kit = engine.kit
    engine.set_controllers([Controller(number=40, target="focused.direction.20", min=-1, max=1)])
    backend.send("Pads", [CC, 40, 127])  # the tiny model has 8 directions: refused, kit untouched
    assert server.wait_idle(5)
    assert server.counters()["rejected"] == 1 and engine.kit.pads == kit.pads
    monkeypatch.setattr(engine, "trigger_note", lambda *a: 1 / 0)
    backend.send("Pads", [NOTE_ON, 36, 100])
    backend.send("Pads", [CC, 22, 127])
    assert server.wait_idle(5)
    assert server.counters()["errors"] == 1 and engine.kit.pads[engine.focus].directions[1] == 1.0


def test_knob_limiter_newest_value_wins_on_the_trailing_edge():
    clock = FakeClock()
    limiter = KnobLimiter(rate_hz=10, clock=clock)  # 100 ms
    assert limiter.offer("a", 1) == 1  # leading edge
    assert limiter.offer("a", 2) is None and limiter.offer("a", 3) is None
    assert limiter.offer("b", 9) == 9  # knobs are independent
    assert limiter.next_due_s() == pytest.approx(0.1) and limiter.due() == []
    clock.now += 0.1
    assert limiter.next_due_s() == 0.0 and limiter.due() == [3]  # only the newest
    assert limiter.next_due_s() is None
    assert limiter.offer("a", 4) is None  # within 100 ms of the trailing apply
    clock.now += 0.5
    assert limiter.due() == [4] and limiter.offer("a", 5) is None  # 4 was applied just now
    clock.now += 0.1
    assert limiter.due() == [5] and limiter.pending == {}


def test_a_fast_sweep_renders_its_last_position(served, engine):
    server, backend = served
    backend.send("Pads", [NOTE_ON, 37, 100])  # focus pad 1
    sweep = list(range(128)) + list(range(127, 36, -1)) + list(range(37, 90)) + [41]
    for value in sweep:
        backend.send("Pads", [CC, 21, value])
    assert server.wait_idle(10) and engine.wait_ready(10)
    expected = -1.0 + 2.0 * 41 / 127
    assert engine.kit.pads[1].directions[0] == pytest.approx(expected, abs=1e-12)
    counters = server.counters()
    assert counters["knob_coalesced"] > 0 and counters["knob_applied"] < len(sweep) // 4  # rate-limited
    buffer = engine.pad_buffer(1)
    assert np.array_equal(buffer, engine.render(engine.pad_latent(1)))  # the last position, rendered
    assert engine.worker.stats()["renders_done"] <= 4 + counters["knob_applied"]


def test_learn_binds_a_cc_into_the_kit_and_saves_with_it(served, engine, tmp_path, tiny_bundle):
    server, backend = served
    learned = []
    server.on_learn = learned.append
    engine.learn("focused.direction.3")
    backend.send("Pads", [CC + 4, 70, 100])  # channel 5
    assert server.wait_idle(5) and engine.learn_target is None
    row = Controller(number=70, target="focused.direction.3", min=-1.0, max=1.0, channel=4)
    assert learned == [row] and engine.kit.controllers == (row,)
    assert engine.kit.pads[0].directions[3] == pytest.approx(-1 + 2 * 100 / 127)
    backend.send("Pads", [CC + 4, 70, 0])  # now it is a knob
    assert server.wait_idle(5) and engine.kit.pads[0].directions[3] == -1.0
    path = tmp_path / "learned.json"
    kit = engine.kit
    engine.save_kit(path)
    assert load_kit(path).controllers == (row,) and kit_to_json(load_kit(path)) == kit_to_json(kit)


def write_kitset(tmp_path, tiny_bundle, count=2):
    paths = []
    for i in range(count):
        kit = kit_for(tiny_bundle, num_pads=2 + i)
        kit = kit.__class__(name=f"kit{i}", model=ModelRef.of(tiny_bundle), pads=kit.pads)
        paths.append(save_kit(kit, tmp_path / f"kit{i}.json").name)
    path = tmp_path / "set.json"
    path.write_text(json.dumps({"format": "ganshot-kitset", "version": 1, "kits": paths}))
    return path


def test_program_change_switches_kits_and_keeps_their_edits(engine, tmp_path, tiny_bundle):
    switcher = KitSwitcher(load_kitset(write_kitset(tmp_path, tiny_bundle), bundle=tiny_bundle))
    backend = FakeBackend(["Pads"])
    with MidiServer(engine, MidiMapper(), switcher) as server:
        watcher = PortWatcher(backend, ["Pads"], server.feed, virtual_name=None).start()
        backend.send("Pads", [0xC0, 1])  # program 2 in a DAW
        assert server.wait_idle(5) and engine.kit.name == "kit1" and len(engine.kit.pads) == 3
        backend.send("Pads", [CC, 7, 10])  # master gain on kit1 ...
        backend.send("Pads", [CC, 7, 64])  # ... its newest value waits in the rate limiter,
        backend.send("Pads", [0xC0, 0])
        assert server.wait_idle(5) and engine.kit.name == "kit0" and engine.kit.master_gain_db == 0.0
        backend.send("Pads", [0xC0, 9])  # no 10th kit: ignored
        backend.send("Pads", [0xC0, 1])
        assert server.wait_idle(5) and engine.kit.name == "kit1"
        assert engine.kit.master_gain_db == pytest.approx(-60 + 60 * 64 / 127)  # ... and came back with kit1
        counters = server.counters()
        assert counters["kit_switches"] == 3 and counters["programs_ignored"] == 1
        watcher.close()
    assert engine.wait_ready(10)


def test_program_change_without_a_kit_set_is_counted(served, engine):
    server, backend = served
    backend.send("Pads", [0xC0, 1])
    assert server.wait_idle(5) and server.counters()["programs_ignored"] == 1


def test_knob_values_use_the_setparam_key():
    assert SetParam("direction", 1, 2, 0.5).key == ("direction", 1, 2)


def test_waiting_knob_values_stay_with_their_kit_on_a_switch(engine, tmp_path, tiny_bundle):
    switcher = KitSwitcher(load_kitset(write_kitset(tmp_path, tiny_bundle), bundle=tiny_bundle))
    server = MidiServer(engine, MidiMapper(), switcher, clock=FakeClock())  # time stands still: no trailing edge
    server.handle(bytes([0xC0, 1]))
    server.handle(bytes([CC, 7, 10]))  # applied at once
    server.handle(bytes([CC, 7, 64]))  # waits
    assert server.limiter.pending
    server.handle(bytes([0xC0, 0]))  # applies it to kit1 first
    assert engine.kit.name == "kit0" and not server.limiter.pending
    assert switcher.kits[1].master_gain_db == pytest.approx(-60 + 60 * 64 / 127)
    assert engine.wait_ready(10)
