"""Port selection, API choice and hot-plug rescanning, with the fake backend."""

from __future__ import annotations

import pytest

from ganshot.bridges.midi.ports import ArrivalClock, FakeBackend, PortWatcher, choose_api, select_ports
from ganshot.engine.errors import UserInputError

NAMES = ["Launchkey Mini:Launchkey MIDI 1 20:0", "Midi Through:Port-0 14:0", "nanoKONTROL2 24:0"]


def test_select_ports():
    assert select_ports(NAMES, ["all"]) == NAMES
    assert select_ports(NAMES, ["none"]) == []
    assert select_ports(NAMES, ["launchkey"]) == NAMES[:1]  # part of a name, any case
    assert select_ports(NAMES, ["nanoKONTROL2 24:0", "Launch"]) == [NAMES[2], NAMES[0]]
    assert select_ports(NAMES, ["midi"]) == NAMES[:2]
    assert select_ports(NAMES, ["Keystation"]) == []


@pytest.mark.parametrize("environ, platform, jack, expected", [
    ({"MIDO_BACKEND": "mido.backends.rtmidi/UNIX_JACK"}, "linux", False, "jack"),
    ({"MIDO_BACKEND": "mido.backends.rtmidi/LINUX_ALSA"}, "linux", True, "alsa"),
    ({"MIDO_BACKEND": "mido.backends.rtmidi"}, "linux", True, "jack"),
    ({}, "linux", True, "jack"),
    ({}, "linux", False, "alsa"),
    ({}, "darwin", True, "coremidi"),
    ({}, "win32", False, "winmm"),
])
def test_choose_api(environ, platform, jack, expected):
    assert choose_api("auto", environ, platform, jack_running=jack) == expected


def test_choose_api_refuses_unknown_names():
    assert choose_api("alsa", {"MIDO_BACKEND": "mido.backends.rtmidi/UNIX_JACK"}) == "alsa"  # the flag wins
    with pytest.raises(UserInputError, match="--midi-api must be"):
        choose_api("oss")
    with pytest.raises(UserInputError, match="MIDO_BACKEND names the API 'NOPE'"):
        choose_api("auto", {"MIDO_BACKEND": "mido.backends.rtmidi/NOPE"})


def test_choose_api_sees_a_private_jack_server(jack_server):
    server = jack_server(48000, 256)
    assert choose_api("auto", server.env, "linux") == "jack"
    assert choose_api("auto", dict(server.env, JACK_DEFAULT_SERVER="nobody-runs-this"), "linux") == "alsa"


def test_ports_that_appear_and_vanish_are_opened_and_closed():
    got, lines = [], []
    backend = FakeBackend(["Pads"])
    watcher = PortWatcher(backend, ["all"], lambda data, arrival_s: got.append(data), virtual_name="ganshot",
                          report=lines.append)
    watcher.open_virtual()
    watcher.scan()
    assert watcher.opened == ["Pads"] and backend.virtual.name == "ganshot"
    backend.names.append("Keys")
    watcher.scan()
    assert watcher.opened == ["Pads", "Keys"]
    backend.send("Keys", [0x90, 36, 1])
    backend.send("ganshot", [0x90, 37, 1])
    assert got == [[0x90, 36, 1], [0x90, 37, 1]]
    backend.names.remove("Pads")
    watcher.scan()
    assert watcher.opened == ["Keys"] and "Pads" not in backend.inputs
    assert lines == ["MIDI input: Pads", "MIDI input: Keys", "MIDI input gone: Pads"]
    watcher.close()
    assert backend.inputs == {} and backend.virtual.closed


def test_listing_and_opening_failures_are_counted_and_reported_once():
    lines = []
    backend = FakeBackend(["Busy", "Pads"])
    backend.fail_open.add("Busy")
    watcher = PortWatcher(backend, ["all"], lambda data, arrival_s: None, virtual_name=None, report=lines.append)
    watcher.scan()
    watcher.scan()
    assert watcher.opened == ["Pads"] and watcher.counts["open_errors"] == 2
    assert lines == ["MIDI input Busy: cannot open (cannot open Busy)", "MIDI input: Pads"]
    backend.fail_list = True
    watcher.scan()
    assert watcher.counts["scan_errors"] == 1 and watcher.opened == ["Pads"]  # kept while listing fails
    backend.fail_list = False
    backend.fail_open.clear()
    watcher.scan()
    assert watcher.opened == ["Pads", "Busy"]


def test_the_watcher_thread_rescans():
    import time

    backend = FakeBackend([])
    watcher = PortWatcher(backend, ["Pads"], lambda data, arrival_s: None, virtual_name=None, interval_s=0.02,
                          report=lambda line: None).start()
    try:
        backend.names.append("Pads")
        deadline = time.monotonic() + 5
        while not watcher.opened and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watcher.opened == ["Pads"]
    finally:
        watcher.close()


def test_arrival_times_follow_the_driver_deltas_within_the_window():
    clock = ArrivalClock(max_backdate_s=0.05)
    assert clock.stamp(0.0, 10.0) == 10.0  # the first message: when it was seen
    # a poll that came 20 ms late saw three messages at once; the driver spaced them 1 ms apart
    assert [clock.stamp(d, 10.521) for d in (0.5, 0.001, 0.001)] == pytest.approx([10.5, 10.501, 10.502])
    assert clock.clamped == 0
    assert clock.stamp(0.1, 10.55) == 10.55  # the driver says later than seen: seen
    assert clock.stamp(0.001, 10.7) == pytest.approx(10.65)  # a chain 149 ms early: at most 50 ms back
    assert clock.clamped == 2
    assert clock.stamp(-1.0, 11.0) == 11.0 and clock.stamp(None, 12.0) == 12.0  # no usable delta


def test_the_fake_backend_stamps_what_it_sends():
    got = []
    backend = FakeBackend(["Pads"])
    backend.open_input("Pads", lambda data, arrival_s: got.append((data, arrival_s)))
    backend.send("Pads", [0x90, 36, 1], arrival_s=5.0)
    backend.send("Pads", [0x90, 37, 1])
    assert got[0] == ([0x90, 36, 1], 5.0) and got[1][1] > 5.0
