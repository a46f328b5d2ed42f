"""Soak bench: ``ganshot serve``'s engine for minutes on a realtime JACK dummy server under
everything at once: hot model swaps, knob sweeps, an OSC flood and a MIDI stream. Not a test.

It starts its own jackd (dummy, 48 kHz, 128 frames, ``-R`` where allowed), an Engine with the
default kit on an AudioStream, the OSC server (127.0.0.1, ephemeral port) and the MIDI bridge
(JACK MIDI virtual input), then for ``--minutes`` (per repeat, ``--repeats`` times):

- every ``--swap-s`` seconds ``/model/load`` over OSC: the other shipped models the default kit
  fits, then the one it started with, in turn; today only drums-v2 fits (its pads ask for
  classes; drums-v1 is unconditional), so drums-v2 is reloaded: a full hot swap all the same;
- an OSC sender thread: ``--osc-rate`` messages/s (/pad/trigger, /pad/knob, /pad/gain in turn);
- a MIDI sender (another process, rtmidi on JACK): note-ons on the kit's notes and CC 21
  sweeps at ``--midi-rate`` messages/s;
- once a minute a row of counters; at the end of each repeat: panic, wait 2 s, and count
  what is still held (voices, the mixer's buffers: a leak shows here), the RSS (it grows
  until the render cache reaches its budget, 256 MiB by default; swaps alone plateau near
  +40 MiB after 3 swaps: measure minutes, not seconds).

Each minute one row: underflows, and who jackd says was late at its xruns (our PortAudio
client still running its callback / ours signalled but not yet woken by the OS / another
client: the MIDI sender; jackd names every client not finished, so one xrun can name
several), late starts, OSC and MIDI drops, voices sounding, RSS. Each repeat then: underflows
per minute (split the same way), model swaps done / failed, OSC sent / received / accepted /
dropped, MIDI sent / received / dropped / late, voices and buffers held after the panic (a
leak), RSS at start and end and its growth per minute over the second half (the render cache
fills first: 256 MiB by default), the peak before the limiter and its largest cut. A last
table puts the repeats side by side; ``--json`` keeps every figure. The exit status is 1 when
a swap failed, OSC or MIDI dropped or lost a message, or a voice or buffer was left after a
panic (underflows are figures, not failures: they move with the machine's load).

    nice python bench/soak.py --json soak.json    # 10 minutes x 3, unattended (about 32 minutes)
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
from realtime import close_all, start_jackd, xrun_attribution  # noqa: E402  (bench/realtime.py)

SAMPLE_RATE, BLOCK_SIZE = 48000, 128
MESSAGE_COUNTS = ("osc_received", "osc_accepted", "osc_dropped", "midi_received", "midi_dropped", "midi_late",
                  "midi_cycles_missed")

MIDI_SENDER = r"""
import json, sys, time
import rtmidi
args = json.loads(sys.argv[1])
out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="soak")
out.open_virtual_port("out")
import subprocess
for _ in range(100):
    if subprocess.run(["jack_connect", "soak:out", args["port"]], capture_output=True).returncode == 0:
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


def models_for(kit, playing: str) -> list[str]:
    """The shipped models whose contract fits ``kit`` (classes, latent size), the playing one last.

    A conditional model and an unconditional one never share a kit (its pads ask for classes or
    do not), so with one fitting model the soak reloads it: still a full hot swap (load, warm-up,
    every pad rendered in the background, the switch)."""
    from types import SimpleNamespace

    from ganshot.engine.bundle import MAX_MODEL_JSON_BYTES, parse_model_json
    from ganshot.engine.errors import GanshotError
    from ganshot.engine.kit_model import check_latent_dim, pad_label
    from ganshot.engine.presets import models_root
    from ganshot.engine.strict_json import read_json_file

    fits = []
    for folder in sorted(p for p in models_root().glob("*") if (p / "model.json").is_file()):
        data = parse_model_json(read_json_file(folder / "model.json", MAX_MODEL_JSON_BYTES, "model description"))
        bundle = SimpleNamespace(name=folder.name, conditional=bool(data.get("conditional")),
                                 classes=tuple(data.get("classes") or ()))
        try:
            check_latent_dim(kit, data["latent_dim"])
            for index, pad in enumerate(kit.pads):
                pad_label(pad, index, bundle)
        except GanshotError:
            continue
        fits.append(folder.name)
    return [name for name in fits if name != playing] + [playing]


class Soak:
    """The running engine, its bridges and jackd's log; one :meth:`repeat` per soak repeat."""

    def __init__(self, engine, osc, midi, log_path: Path, args):
        self.engine, self.osc, self.midi, self.log_path, self.args = engine, osc, midi, log_path, args
        self.swap_to = models_for(engine.kit, engine.bundle.name)
        # the port the MIDI stream goes to: the C mixer's JACK MIDI input when it plays the notes
        notes = getattr(midi, "notes", None)
        self.note_path = "c" if notes is not None else "python"
        self.midi_port = notes.input.port_name if notes is not None else "ganshot:ganshot"
        self.swaps_asked = 0
        self.control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.control.settimeout(0.2)

    def sample(self) -> dict:
        """Counters now (cumulative); rows are differences of two samples."""
        c, o = self.engine.mixer.counters(), self.osc.counters()
        m = self.midi.counters() if self.midi else {}
        log_end = self.log_path.stat().st_size
        return {"t": time.monotonic(), "underflows": c["underflows"], "late_starts": c["late_starts"],
                "voices": c["voices_sounding"], "osc_received": o["received"], "osc_accepted": o["accepted"],
                "osc_dropped": o["dropped"],
                # on the C path note-ons are played (and counted) by the C input, the rest reaches Python
                "midi_received": m.get("received", 0) + m.get("c_notes_played", 0),
                "midi_dropped": m.get("dropped", 0) + m.get("c_note_ring_drops", 0) + m.get("c_other_ring_drops", 0),
                "midi_late": m.get("late", 0) + m.get("c_notes_late", 0),
                # JACK cycles that ran without the C MIDI input (asynchronous JACK): their MIDI never reached it
                "midi_cycles_missed": m.get("c_cycles_missed", 0),
                "rss_mib": rss_mib(), "log_end": log_end}

    def row(self, a: dict, b: dict) -> dict:
        text = self.log_path.read_bytes()[a["log_end"]:b["log_end"]].decode(errors="replace")
        running, not_woken, others = xrun_attribution(text)
        out = {k: b[k] - a[k] for k in ("underflows", "late_starts", *MESSAGE_COUNTS)}
        out.update(minutes=(b["t"] - a["t"]) / 60, xrun_ours_running=running, xrun_ours_not_woken=not_woken,
                   xrun_others=others, voices=b["voices"], rss_mib=round(b["rss_mib"]))
        return out

    def swap_and_replies(self, swaps: dict, next_swap: float) -> float:
        if time.monotonic() >= next_swap:
            name = self.swap_to[self.swaps_asked % len(self.swap_to)]
            self.control.sendto(osc_message("/model/load", "s", name), ("127.0.0.1", self.osc.port))
            self.swaps_asked += 1
            next_swap += self.args.swap_s
        try:
            reply = self.control.recv(65536)
            if reply.startswith(b"/model/loaded"):
                swaps["done"] += 1
            elif reply.startswith(b"/fail"):
                swaps["failed"] += 1
                swaps["replies"].append(repr(reply[:160]))
        except socket.timeout:
            pass
        return next_swap

    def repeat(self, number: int) -> dict:
        args, seconds = self.args, self.args.minutes * 60
        stop, sent = threading.Event(), [0]
        flood = threading.Thread(target=osc_flood, args=(self.osc.port, args.osc_rate, stop, len(self.engine.kit.pads), sent))
        notes = [p.note for p in self.engine.kit.pads]
        sender = subprocess.Popen([sys.executable, "-c", MIDI_SENDER, json.dumps(
            {"rate": args.midi_rate, "seconds": seconds, "notes": notes, "port": self.midi_port})], env=os.environ,
            stdout=subprocess.PIPE, text=True) if self.midi else None
        swaps = {"done": 0, "failed": 0, "replies": []}
        first = last = self.sample()
        flood.start()
        minutes, next_swap = [], first["t"] + args.swap_s
        print(f"repeat {number}: {'min':>4} {'under':>5} {'ours run':>8} {'ours wake':>9} {'others':>6} {'late st':>7} "
              f"{'OSC drop':>8} {'MIDI drop':>9} {'voices':>6} {'RSS MiB':>7}", flush=True)
        try:
            while True:
                next_swap = self.swap_and_replies(swaps, next_swap)
                done = time.monotonic() - first["t"] >= seconds
                if (done and time.monotonic() - last["t"] > 1) or time.monotonic() - last["t"] >= 60:
                    now = self.sample()
                    r = self.row(last, now)
                    minutes.append(r)
                    last = now
                    print(f"          {len(minutes):4d} {r['underflows']:5d} {r['xrun_ours_running']:8d} "
                          f"{r['xrun_ours_not_woken']:9d} {r['xrun_others']:6d} {r['late_starts']:7d} {r['osc_dropped']:8d} "
                          f"{r['midi_dropped']:9d} {r['voices']:6d} {r['rss_mib']:7d}", flush=True)
                if done:
                    break
        finally:
            stop.set()
            flood.join()
            midi_sent = None
            if sender is not None:
                try:
                    midi_sent = int(sender.communicate(timeout=30)[0].strip() or 0)
                except (subprocess.TimeoutExpired, ValueError):
                    sender.kill()
                    sender.wait()
        for _ in range(50):  # the last /model/loaded may still be on its way
            next_swap = self.swap_and_replies(swaps, float("inf"))
            if swaps["done"] + swaps["failed"] >= self.swaps_asked:
                break
        self.engine.panic()
        time.sleep(2.0)
        end, held = self.sample(), self.engine.mixer.counters()
        total = self.row(first, last)  # the minutes above; the panic and the 2 s after it apart
        messages = self.row(first, end)  # the senders have finished: everything sent has arrived or is lost
        total.update({k: messages[k] for k in MESSAGE_COUNTS})
        half = minutes[len(minutes) // 2:] or minutes
        slope = ((half[-1]["rss_mib"] - half[0]["rss_mib"]) / max(len(half) - 1, 1)) if len(half) > 1 else 0.0
        result = dict(total, repeat=number, note_path=self.note_path, load=os.getloadavg()[0], osc_sent=sent[0], midi_sent=midi_sent,
                      swaps_done=swaps["done"], swaps_failed=swaps["failed"], swaps_asked=self.swaps_asked,
                      fail_replies=swaps["replies"][:3], voices_after_panic=held["voices_active"],
                      buffers_after_panic=held["buffers_held"], rss_start_mib=round(first["rss_mib"]),
                      rss_end_mib=round(end["rss_mib"]), rss_mib_per_min_second_half=round(slope, 1),
                      peak_db=held["peak_db"], limiter_max_reduction_db=held["limiter_max_reduction_db"],
                      peak_out_db=held["peak_out_db"], per_minute=minutes)
        self.swaps_asked = 0
        return result


def report(r: dict) -> None:
    m = max(r["minutes"], 1e-9)
    print(f"  {r['minutes']:.1f} min, load average {r['load']:.1f}: underflows {r['underflows']} "
          f"({r['underflows'] / m:.1f}/min); jackd xruns per min: ours running {r['xrun_ours_running'] / m:.1f}, "
          f"ours not woken {r['xrun_ours_not_woken'] / m:.1f}, others {r['xrun_others'] / m:.1f}; "
          f"late starts {r['late_starts']}")
    print(f"  model swaps asked / done / failed {r['swaps_asked']} / {r['swaps_done']} / {r['swaps_failed']}"
          + "".join(f"\n    {why}" for why in r["fail_replies"]))
    print(f"  OSC sent {r['osc_sent']} (+ {r['swaps_asked']} /model/load), received {r['osc_received']}, accepted {r['osc_accepted']}, dropped "
          f"{r['osc_dropped']}; MIDI sent "
          f"{r['midi_sent']}, received {r['midi_received']}, dropped {r['midi_dropped']}, late {r['midi_late']}; "
          f"JACK cycles run without the C MIDI input {r['midi_cycles_missed']}")
    print(f"  after panic + 2 s: voices {r['voices_after_panic']}, buffers held {r['buffers_after_panic']}; RSS "
          f"{r['rss_start_mib']} -> {r['rss_end_mib']} MiB, second half {r['rss_mib_per_min_second_half']:+.1f} MiB/min")
    print(f"  peak before the limiter {r['peak_db']:+.1f} dBFS, largest cut {r['limiter_max_reduction_db']:.1f} dB, "
          f"after it {r['peak_out_db']:+.2f} dBFS", flush=True)


def failures(r: dict) -> list[str]:
    """What makes a repeat fail (underflows do not: they are the figure being measured)."""
    checks = {"model swaps failed": r["swaps_failed"], "model swaps not answered": r["swaps_asked"] - r["swaps_done"]
              - r["swaps_failed"], "OSC dropped": r["osc_dropped"], "MIDI dropped": r["midi_dropped"],
              "OSC lost before the server": r["osc_sent"] + r["swaps_asked"] - r["osc_received"],  # + /model/load
              "MIDI lost before the bridge": (r["midi_sent"] or 0) - r["midi_received"],
              "MIDI sender did not finish": r["midi_sent"] is None, "voices left after panic": r["voices_after_panic"],
              "buffers left after panic": r["buffers_after_panic"]}
    return [f"{what} {int(n)}" for what, n in checks.items() if n]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--swap-s", type=float, default=30.0)
    parser.add_argument("--osc-rate", type=float, default=1000.0)
    parser.add_argument("--midi-rate", type=float, default=200.0)
    parser.add_argument("--json", default=None, help="write every figure (and each minute's row) here")
    parser.add_argument("--midi-notes", dest="midi_args", type=lambda v: ["--midi-notes", v], default=[],
                        help="who plays MIDI notes, as serve's --midi-notes (default auto: the C mixer on JACK)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ganshot-soak-"))
    log_path = workdir / "jackd.log"
    jackd, env = start_jackd(log_path)
    env["MIDO_BACKEND"] = "mido.backends.rtmidi/UNIX_JACK"
    os.environ.update(env)
    engine = osc = midi = None
    results = []
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
        midi = start_midi(engine, midi_parser.parse_args(["--midi-in", "none", "--midi-api", "jack", *args.midi_args]),
                          out=open(os.devnull, "w"))
        soak = Soak(engine, osc, midi, log_path, args)
        print(f"ganshot soak: JACK dummy {SAMPLE_RATE} Hz block {BLOCK_SIZE}, {args.minutes:g} min x {args.repeats}, "
              f"/model/load every {args.swap_s:g} s ({' -> '.join([engine.bundle.name] + soak.swap_to)} ...), "
              f"OSC {args.osc_rate:g}/s, MIDI {args.midi_rate:g}/s{f' to {soak.midi_port} (notes: {soak.note_path} path)' if midi else ' (no MIDI: rtmidi missing)'}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
        time.sleep(1.0)
        engine.mixer.reset_peaks()
        for number in range(1, args.repeats + 1):
            results.append(soak.repeat(number))
            report(results[-1])
            if args.json:  # after each repeat: a run stopped later keeps what it measured
                Path(args.json).write_text(json.dumps({"args": vars(args), "repeats": results}, indent=1) + "\n")
    finally:
        close_all(midi, osc, engine, jackd=jackd)
    print("\nrepeat  underflows/min (ours run / ours wake / others)  swaps ok  OSC drop  MIDI drop  leaks  RSS MiB/min")
    for r in results:
        m = max(r["minutes"], 1e-9)
        print(f"{r['repeat']:6d}  {r['underflows'] / m:14.1f} ({r['xrun_ours_running'] / m:.1f} / "
              f"{r['xrun_ours_not_woken'] / m:.1f} / {r['xrun_others'] / m:.1f})  {r['swaps_done']:4d}/{r['swaps_asked']:<3d} "
              f"{r['osc_dropped']:9d} {r['midi_dropped']:10d} {r['voices_after_panic'] + r['buffers_after_panic']:6d} "
              f"{r['rss_mib_per_min_second_half']:+12.1f}")
    bad = [f"repeat {r['repeat']}: {why}" for r in results for why in failures(r)]
    print("verdict: " + ("; ".join(bad) if bad else "no failed swap, no drop, no leak"), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
