"""Soak bench: ``ganshot serve``'s engine for minutes on a realtime JACK dummy server under
everything at once: hot model swaps, knob sweeps, an OSC flood and a MIDI stream. Not a test.

It starts its own jackd (dummy, 48 kHz, 128 frames, ``-R`` where allowed), an Engine with the
default kit on an AudioStream, the OSC server (127.0.0.1, ephemeral port) and the MIDI bridge
(JACK MIDI virtual input), then for ``--minutes`` (per repeat, ``--repeats`` times):

- every ``--swap-s`` seconds ``/model/load`` over OSC, alternating drums-v1 and drums-v0;
- an OSC sender thread: ``--osc-rate`` messages/s (/pad/trigger, /pad/knob, /pad/gain in turn);
- a MIDI sender (another process, rtmidi on JACK): note-ons on the kit's notes and CC 21
  sweeps at ``--midi-rate`` messages/s;
- once a second the engine's counters; at the end of each repeat: panic, wait 2 s, and count
  what is still held (voices, the mixer's buffers: a leak shows here), the RSS (it grows
  until the render cache reaches its budget, 256 MiB by default; swaps alone plateau near
  +40 MiB after 3 swaps: measure minutes, not seconds).

Rows per repeat: underflows (and per minute), late starts, model swaps done / failed, OSC
accepted / dropped, MIDI received / dropped, voices and buffers held after the panic, RSS at
start and end (growth per minute), the peak level before the limiter and its largest cut.

    python bench/soak.py                      # 10 minutes x 3
    python bench/soak.py --minutes 1 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtime import start_jackd, stop_process, xrun_attribution  # noqa: E402  (bench/realtime.py)

SAMPLE_RATE, BLOCK_SIZE = 48000, 128
MODELS = ("drums-v1", "drums-v0")

MIDI_SENDER = r"""
import json, sys, time
import rtmidi
args = json.loads(sys.argv[1])
out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="soak")
out.open_virtual_port("out")
import subprocess
for _ in range(100):
    if subprocess.run(["jack_connect", "soak:out", "ganshot:ganshot"], capture_output=True).returncode == 0:
        break
    time.sleep(0.1)
gap, end, i = 1.0 / args["rate"], time.monotonic() + args["seconds"], 0
while time.monotonic() < end:
    i += 1
    if i % 2:
        out.send_message([0x99, args["notes"][i % len(args["notes"])], 100])
    else:
        out.send_message([0xB9, 21, (i // 2) % 128])
    time.sleep(gap)
print(i, flush=True)
"""


def osc_message(address: str, tags: str, *args) -> bytes:
    """One OSC message, encoded by the bridge's own encoder."""
    from ganshot.bridges.osc.validate import encode_message

    return encode_message(address, tags, args)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def osc_flood(port: int, rate: float, stop: threading.Event, pads: int, sent: list) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gap, i, next_t = 1.0 / rate, 0, time.monotonic()
    while not stop.is_set():
        i += 1
        pad = i % pads
        kind = i % 3
        data = (osc_message("/pad/trigger", "if", pad, 0.5) if kind == 0 else
                osc_message("/pad/knob", "iif", pad, 0, ((i // 3) % 200) / 100 - 1) if kind == 1 else
                osc_message("/pad/gain", "if", pad, -float((i // 3) % 12)))
        sock.sendto(data, ("127.0.0.1", port))
        sent[0] += 1
        next_t += gap
        time.sleep(max(0.0, next_t - time.monotonic()))
    sock.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--swap-s", type=float, default=30.0)
    parser.add_argument("--osc-rate", type=float, default=1000.0)
    parser.add_argument("--midi-rate", type=float, default=200.0)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ganshot-soak-"))
    log_path = workdir / "jackd.log"
    jackd, env = start_jackd(log_path)
    env["MIDO_BACKEND"] = "mido.backends.rtmidi/UNIX_JACK"
    os.environ.update(env)
    engine = osc = midi = None
    try:
        from ganshot.bridges.midi.cli import add_midi_arguments, start_midi
        from ganshot.bridges.osc.server import OscServer
        from ganshot.engine.audio_stream import AudioStream
        from ganshot.engine.engine import Engine
        from ganshot.engine.presets import default_kit_path, load_model_and_kit

        from ganshot._engine_cli import _fixed_mmap_threshold

        _fixed_mmap_threshold()  # as `ganshot serve` does
        bundle, kit = load_model_and_kit(default_kit_path())
        engine = Engine(bundle, kit, sample_rate=SAMPLE_RATE, backend="onnx")
        stream = AudioStream(engine.mixer, device="system", sample_rate=SAMPLE_RATE, block_size=BLOCK_SIZE)
        engine.stream = stream
        stream.start()
        osc = OscServer(engine, host="127.0.0.1", port=0, render_dir=workdir / "renders").start()
        midi_parser = argparse.ArgumentParser()
        add_midi_arguments(midi_parser)
        midi = start_midi(engine, midi_parser.parse_args(["--midi-in", "none", "--midi-api", "jack"]),
                          out=open(os.devnull, "w"))
        control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        control.settimeout(0.2)
        load = os.getloadavg()[0]
        print(f"ganshot soak: JACK dummy {SAMPLE_RATE} Hz block {BLOCK_SIZE}, {args.minutes:g} min x {args.repeats}, "
              f"swap every {args.swap_s:g} s, OSC {args.osc_rate:g}/s, MIDI {args.midi_rate:g}/s; "
              f"{os.cpu_count()} CPUs, load average {load:.1f} at start", flush=True)
        time.sleep(1.0)
        engine.mixer.reset_peaks()
        for repeat in range(args.repeats):
            seconds = args.minutes * 60
            before, rss0, log_from = engine.mixer.counters(), rss_mib(), log_path.stat().st_size
            osc_before, midi_before = osc.counters(), midi.counters() if midi else {}
            stop, sent = threading.Event(), [0]
            flood = threading.Thread(target=osc_flood, args=(osc.port, args.osc_rate, stop, len(engine.kit.pads), sent))
            flood.start()
            notes = [p.note for p in engine.kit.pads]
            sender = subprocess.Popen([sys.executable, "-c", MIDI_SENDER, json.dumps(
                {"rate": args.midi_rate, "seconds": seconds, "notes": notes})], env=os.environ,
                stdout=subprocess.PIPE, text=True) if midi else None
            swaps = {"done": 0, "failed": 0, "replies": []}
            started, next_swap, which = time.monotonic(), time.monotonic() + args.swap_s, 1
            next_note, rss_trace = started + 60, []
            while time.monotonic() - started < seconds:
                if time.monotonic() >= next_note:  # RSS once a minute: growth that stops is a cache filling
                    rss_trace.append(round(rss_mib()))
                    next_note += 60
                if time.monotonic() >= next_swap:
                    control.sendto(osc_message("/model/load", "s", MODELS[which % 2]), ("127.0.0.1", osc.port))
                    which, next_swap = which + 1, next_swap + args.swap_s
                try:
                    reply = control.recv(65536)
                    if reply.startswith(b"/model/loaded"):
                        swaps["done"] += 1
                    elif reply.startswith(b"/fail"):
                        swaps["failed"] += 1
                        swaps["replies"].append(reply[:160])
                except socket.timeout:
                    pass
            stop.set()
            flood.join()
            midi_sent = int(sender.communicate(timeout=30)[0].strip() or 0) if sender else 0
            engine.panic()
            time.sleep(2.0)
            after, rss1 = engine.mixer.counters(), rss_mib()
            osc_after, midi_after = osc.counters(), midi.counters() if midi else {}
            running, not_woken, others = xrun_attribution(
                log_path.read_bytes()[log_from:log_path.stat().st_size].decode(errors="replace"))
            minutes = seconds / 60
            under = after["underflows"] - before["underflows"]
            print(f"repeat {repeat + 1}: {minutes:g} min, load average {os.getloadavg()[0]:.1f}")
            print(f"  underflows {under} ({under / minutes:.1f}/min); jackd xruns ours running / not woken / others "
                  f"{running} / {not_woken} / {others}; late starts {after['late_starts'] - before['late_starts']}")
            print(f"  model swaps done / failed {swaps['done']} / {swaps['failed']} (now {engine.bundle.name})"
                  + "".join(f"\n    {r!r}" for r in swaps["replies"][:3]))
            print(f"  OSC sent {sent[0]}, accepted {osc_after['accepted'] - osc_before['accepted']}, dropped "
                  f"{osc_after['dropped'] - osc_before['dropped']}, coalesced "
                  f"{osc_after.get('coalesced', 0) - osc_before.get('coalesced', 0)}")
            if midi:
                print(f"  MIDI sent {midi_sent}, received {midi_after['received'] - midi_before['received']}, dropped "
                      f"{midi_after['dropped'] - midi_before['dropped']}, late notes "
                      f"{midi_after.get('late', 0) - midi_before.get('late', 0)}")
            print(f"  after panic + 2 s: voices {after['voices_active']}, buffers held {after['buffers_held']}; "
                  f"RSS {rss0:.0f} -> {rss1:.0f} MiB ({(rss1 - rss0) / minutes:+.1f} MiB/min; each minute: {rss_trace})")
            print(f"  peak before the limiter {after['peak_db']:+.1f} dBFS, largest cut "
                  f"{after['limiter_max_reduction_db']:.1f} dB, after it {after['peak_out_db']:+.2f} dBFS", flush=True)
        return 0
    finally:
        if midi is not None:
            midi.close()
        if osc is not None:
            osc.close()
        if engine is not None:
            engine.close()
        if "sounddevice" in sys.modules:  # PortAudio must leave JACK before jackd goes (else it aborts at exit)
            sys.modules["sounddevice"]._terminate()
        stop_process(jackd)


if __name__ == "__main__":
    sys.exit(main())
