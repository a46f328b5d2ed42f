"""A JACK client for frame-exact MIDI tests: sends note-ons at known JACK frames and captures
audio with the JACK frame of every period, so lost periods are seen, never mistaken for timing.

Run as a script (``python jack_midi_probe.py JSON``) with JACK_DEFAULT_SERVER set; JSON keys:
``target`` (MIDI input to connect to, e.g. "ganshot-midi:in"), ``source`` (audio output to
capture, e.g. "PortAudio:out_0"), ``notes`` (list of [cycle index, offset, status, note,
velocity]), ``cycles`` (how many periods to capture). Prints one JSON line: ``period``,
``sends`` ([jack_frame, status, note, velocity] per note written), ``cycle_frames`` (the JACK
frame of each captured period, in order) and ``onsets`` (JACK frames where the captured audio
turns non-zero after >= 64 zero frames). libjack through cffi's ABI mode: no headers needed.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from cffi import FFI

CDEF = """
typedef uint32_t jack_nframes_t;
void *jack_client_open(const char *name, int options, int *status, ...);
int jack_client_close(void *client);
void *jack_port_register(void *client, const char *name, const char *type, unsigned long flags, unsigned long size);
int jack_set_process_callback(void *client, int (*cb)(jack_nframes_t, void *), void *arg);
int jack_activate(void *client);
int jack_deactivate(void *client);
void *jack_port_get_buffer(void *port, jack_nframes_t nframes);
jack_nframes_t jack_last_frame_time(const void *client);
jack_nframes_t jack_get_buffer_size(void *client);
int jack_connect(void *client, const char *src, const char *dst);
const char *jack_port_name(const void *port);
void jack_midi_clear_buffer(void *buf);
int jack_midi_event_write(void *buf, jack_nframes_t time, const unsigned char *data, size_t size);
"""
QUIET_FRAMES = 64


def onsets(cycle_frames, audio, period: int) -> list[int]:
    """JACK frames where ``audio`` (one row of ``period`` frames per entry of ``cycle_frames``)
    turns non-zero after >= QUIET_FRAMES zero frames; a lost period restarts the count, so what
    follows it is never called an onset."""
    found, quiet, last = [], 0, None
    for frame, block in zip(cycle_frames, audio):
        if last is not None and (frame - last) & 0xFFFFFFFF != period:
            quiet = 0
        last = frame
        for i, sounding in enumerate((block != 0).tolist()):
            if sounding:
                if quiet >= QUIET_FRAMES:
                    found.append((frame + i) & 0xFFFFFFFF)
                quiet = 0
            else:
                quiet += 1
    return found


def main() -> None:
    args = json.loads(sys.argv[1])
    ffi = FFI()
    ffi.cdef(CDEF)
    jack = ffi.dlopen("libjack.so.0")
    status = ffi.new("int *")
    client = jack.jack_client_open(b"probe", 0x01, status)
    if client == ffi.NULL:
        raise SystemExit(f"probe: no JACK server (status 0x{status[0]:x})")
    midi_out = jack.jack_port_register(client, b"out", b"8 bit raw midi", 0x2, 0)
    audio_in = jack.jack_port_register(client, b"in", b"32 bit float mono audio", 0x1, 0)
    period = int(jack.jack_get_buffer_size(client))
    cycles = int(args["cycles"])
    audio = np.zeros((cycles, period), np.float32)
    frames = np.zeros(cycles, np.int64)
    plan = {int(c): (int(o), bytes([int(s), int(n), int(v)])) for c, o, s, n, v in args["notes"]}
    state = {"cycle": -1, "sends": []}  # cycle -1: not capturing yet (the connections settle)

    @ffi.callback("int(jack_nframes_t, void *)")
    def process(nframes, _arg):
        buf = jack.jack_port_get_buffer(midi_out, nframes)
        jack.jack_midi_clear_buffer(buf)
        k = state["cycle"]
        if k < 0 or k >= cycles:
            return 0
        start = int(jack.jack_last_frame_time(client))
        frames[k] = start
        audio[k, :] = np.frombuffer(ffi.buffer(jack.jack_port_get_buffer(audio_in, nframes), 4 * nframes),
                                    np.float32)
        if k in plan:
            offset, data = plan[k]
            if jack.jack_midi_event_write(buf, offset, data, len(data)) == 0:
                state["sends"].append([(start + offset) & 0xFFFFFFFF, *data])
        state["cycle"] = k + 1
        return 0

    jack.jack_set_process_callback(client, process, ffi.NULL)
    if jack.jack_activate(client) != 0:
        raise SystemExit("probe: JACK did not activate the client")
    try:
        for src, dst in ((args["source"].encode(), jack.jack_port_name(audio_in)),
                         (jack.jack_port_name(midi_out), args["target"].encode())):
            if jack.jack_connect(client, src, dst) != 0:
                raise SystemExit(f"probe: cannot connect {src!r} -> {ffi.string(dst)!r}")
        time.sleep(0.3)  # the graph settles
        state["cycle"] = 0
        deadline = time.monotonic() + cycles * period / 48000 * 4 + 10
        while state["cycle"] < cycles and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        jack.jack_deactivate(client)
        jack.jack_client_close(client)
    done = max(0, min(state["cycle"], cycles))
    print(json.dumps({"period": period, "sends": state["sends"], "cycle_frames": frames[:done].tolist(),
                      "onsets": onsets(frames[:done].tolist(), audio[:done], period)}), flush=True)


if __name__ == "__main__":
    main()
