"""OSC bench: datagram-to-voice latency, and a 10,000 messages/s flood, on a JACK dummy server. Not a test.

One run, one table, everything side by side. It starts its own JACK server (dummy driver,
48 kHz, 128 frames, a name of its own, stopped by pid at the end) and serves an Engine there
with the OSC server exactly as ``ganshot serve`` does (AudioStream, then OscServer on
127.0.0.1). A separate sender process (a real UDP peer, its own GIL) then:

1. latency: sends ``--probes`` ``/pad/trigger 0 1`` about every ``--probe-gap-ms``. The
   engine's ``trigger`` is wrapped to note when each one reaches it and which stream frame
   is heard at that moment; the mixer's record tap gives the exact frame each voice started
   on. Rows: sent -> Engine.trigger (UDP, queue, parse, route), and sent -> voice start
   frame heard at the DAC (that plus the rest of the block being mixed and the DAC's lead,
   by the stream clock that Engine.frame_for_time uses). Both processes read
   ``time.monotonic()``. On the dummy driver "heard" is the stream clock's reckoning: when a
   busy machine wakes the cycles early or late, the frames queued ahead of the DAC at a call
   (a row of its own) spread wider than one block, and so does the latency's tail.
2. flood: ``--rate`` messages/s for ``--flood-s`` seconds (/pad/trigger on pads 1-15,
   /pad/gain, /pad/pan in turn; no renders), then ``/status`` at once and four more times:
   the time to each /status.reply. Rows: handled (messages accepted per second of flood),
   underflows (and jackd's attribution of xruns), dropped (what the server counts: the
   kernel's drops for its full socket buffer, and sent - received: they agree), the
   server's RSS before, at its peak, and after.

Model: a random WaveGAN (latent 100, d=4, 2048 samples at 16 kHz) exported to a temporary
bundle; pad 0 (the probe) plays hard left at +24 semitones (32 ms), pads 1-15 hard right.

    python bench/osc.py
    python bench/osc.py --rate 20000 --flood-s 60   # the target: 20k/s handled, 0 dropped
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtime import close_all, start_jackd, stop_process, xrun_attribution  # noqa: E402  (bench/realtime.py)

SAMPLE_RATE, BLOCK_SIZE = 48000, 128
PROBE_PITCH_SEMITONES = 24.0
QUIET = 1e-9  # the left channel between probes (the hard-right flood leaks ~6e-17 of itself)
MIN_GAP = 512  # quiet frames before a probe onset
STATUS_DEADLINE_MS = 50.0

SENDER = r"""
import json, random, socket, sys, time
from ganshot.bridges.osc.validate import encode_message, flatten, parse_datagram

a = json.loads(sys.argv[1])
target = ("127.0.0.1", a["port"])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
rng = random.Random(1)

probe = encode_message("/pad/trigger", "if", (0, 1.0))
sends = []
for _ in range(a["probes"]):
    sends.append(time.monotonic())
    sock.sendto(probe, target)
    time.sleep(a["probe_gap_s"] * rng.uniform(0.8, 1.2))
print(json.dumps({"probe_sends": sends}), flush=True)
sys.stdin.readline()  # "go"

flood = []
for i in range(3000):
    pad = 1 + rng.randrange(15)
    kind = i % 3
    if kind == 0:
        flood.append(encode_message("/pad/trigger", "if", (pad, rng.uniform(0.2, 1.0))))
    elif kind == 1:
        flood.append(encode_message("/pad/gain", "if", (pad, rng.uniform(-24.0, 0.0))))
    else:
        flood.append(encode_message("/pad/pan", "if", (pad, 1.0)))
rate, seconds, sent = a["rate"], a["flood_s"], 0
start = time.monotonic()
while True:
    elapsed = time.monotonic() - start
    if elapsed >= seconds:
        break
    for _ in range(min(int(elapsed * rate) - sent, rate // 100)):
        sock.sendto(flood[sent % len(flood)], target)
        sent += 1
    time.sleep(0.0005)
flood_s = time.monotonic() - start

status, waits = encode_message("/status", "", ()), []
sock.settimeout(2.0)
for _ in range(5):
    asked = time.monotonic()
    sock.sendto(status, target)
    waited = None
    try:
        while waited is None:
            data, _ = sock.recvfrom(65536)
            if any(m.address == "/status.reply" for _, m in flatten(parse_datagram(data))):
                waited = (time.monotonic() - asked) * 1e3
    except socket.timeout:
        pass
    waits.append(waited)
    time.sleep(0.02)
print(json.dumps({"sent": sent, "flood_s": flood_s, "status_ms": waits}), flush=True)
"""


def random_bundle(workdir: Path) -> Path:
    import torch

    from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
    from ganshot.training.export import export_generator

    spec = GeneratorSpec(latent_dim=100, d=4, num_samples=2048)
    torch.manual_seed(0)
    return export_generator(WaveGANGenerator(spec), spec, workdir / "wavegan-d4", name="random-d4", sample_rate=16000)


def rss_kib() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in KiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def thread_cpu_s(tid: int) -> float:
    """CPU seconds (user + system) a thread of this process has run, from /proc."""
    fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def match_probes(audio, first_frame: int, probe_sends, calls) -> list[tuple]:
    """Pair each probe with the onset its voice started on in ``audio`` (left channel).

    ``first_frame``: stream frame of ``audio[0]``; ``calls``: (call time, frame heard at the
    call, mixer frame at the call) per probe. Returns (send time, call time, frame heard at the
    call, mixer frame at the call, start frame) for the probes found within 4 blocks.
    """
    loud = np.flatnonzero(np.abs(audio[:, 0]) > QUIET)
    onsets = loud[np.concatenate([[True], np.diff(loud) > MIN_GAP])] if len(loud) else loud
    starts = np.array([first_frame + int(o) for o in onsets], dtype=np.int64)
    found = []
    for sent_at, (called_at, heard_frame, mixer_frame) in zip(probe_sends, calls):
        i = int(np.searchsorted(starts, mixer_frame))
        if i < len(starts) and starts[i] - mixer_frame < 4 * BLOCK_SIZE:
            found.append((sent_at, called_at, heard_frame, mixer_frame, int(starts[i])))
    return found


class RecordDrain:
    """Drains the mixer's record tap (every mixed frame) into memory, with its first stream frame."""

    def __init__(self, mixer):
        self.mixer, self.chunks = mixer, []
        self._stop = threading.Event()
        mixer.record_start(1 << 20)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.05):
            self.chunks.append(self.mixer.record_read())

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.mixer.record_stop()
        self.chunks.append(self.mixer.record_read())
        info = self.mixer.record_info()
        self.mixer.record_release()
        return np.concatenate(self.chunks), info


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--probes", type=int, default=150, help="latency probes")
    parser.add_argument("--probe-gap-ms", type=float, default=100.0, help="mean time between probes")
    parser.add_argument("--rate", type=int, default=10000, help="flood messages a second")
    parser.add_argument("--flood-s", type=float, default=10.0, help="flood duration")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ganshot-osc-bench-"))
    jackd = engine = server = sender = None
    try:
        log_path = workdir / "jackd.log"
        jackd, env = start_jackd(log_path)
        os.environ.update(env)  # before sounddevice is imported: PortAudio joins this server
        logging.getLogger("ganshot.bridges.osc.server").setLevel(logging.ERROR)  # the flood's drops are counted

        from ganshot.bridges.osc.server import OscServer
        from ganshot.engine.audio_stream import AudioStream
        from ganshot.engine.bundle import load_bundle
        from ganshot.engine.engine import Engine
        from ganshot.engine.presets import seeded_kit
        from ganshot.engine.runtime import load_generator_runtime

        bundle = load_bundle(random_bundle(workdir))
        kit = seeded_kit(bundle, range(1, 17), name="osc bench").with_pad(
            0, pan=-1.0, pitch_semitones=PROBE_PITCH_SEMITONES)
        for index in range(1, len(kit.pads)):
            kit = kit.with_pad(index, pan=1.0)
        runtime = load_generator_runtime(bundle, backend="onnx", threads=1)
        engine = Engine(bundle, kit, sample_rate=SAMPLE_RATE, runtime=runtime)
        lead = int(np.flatnonzero(np.abs(engine.pad_buffer(0)) > 0)[0])
        stream = AudioStream(engine.mixer, device="system", sample_rate=SAMPLE_RATE, block_size=BLOCK_SIZE)
        engine.stream = stream
        stream.start()
        server = OscServer(engine, port=0, render_dir=workdir / "renders").start()
        mixer = engine.mixer
        time.sleep(1.0)  # start-up underflows happen here, and the stream clock fit fills
        record = RecordDrain(mixer)

        calls, trigger = [], engine.trigger

        def timed_trigger(index, velocity=1.0, at_frame=None):
            if index == 0:  # a probe: when it reached the engine, and the frame heard then
                now = time.monotonic()
                calls.append((now, stream.frame_at_monotonic(now), mixer.frame))
            return trigger(index, velocity, at_frame)

        engine.trigger = timed_trigger
        sender = subprocess.Popen([sys.executable, "-c", SENDER, json.dumps(
            {"port": server.port, "probes": args.probes, "probe_gap_s": args.probe_gap_ms / 1e3, "rate": args.rate,
             "flood_s": args.flood_s})], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        probe_sends = json.loads(sender.stdout.readline())["probe_sends"]
        time.sleep(0.3)  # the last probe plays
        engine.trigger = trigger
        audio, info = record.stop()  # before the flood: the recording itself would grow the RSS

        # flood
        mixer.reset_peaks()
        before, osc_before, log_from = mixer.counters(), server.counters(), log_path.stat().st_size
        rss_before, _ = rss_kib()
        rss_peak, sampling = rss_before, threading.Event()

        io_tid = next(t.native_id for t in threading.enumerate() if t.name == "ganshot-osc-io")
        cpu_before, buffer_peak, drop_spells, drops_seen = thread_cpu_s(io_tid), 0, 0, osc_before["socket_drops"]

        def sample_rss():  # and the socket buffer: its fullest, and the 0.1 s spells in which the kernel dropped
            nonlocal rss_peak, buffer_peak, drop_spells, drops_seen
            while not sampling.wait(0.1):
                rss_peak = max(rss_peak, rss_kib()[0])
                now = server.counters()
                buffer_peak = max(buffer_peak, now["socket_queue_bytes"])
                drop_spells += now["socket_drops"] > drops_seen
                drops_seen = now["socket_drops"]

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        flood_started = time.monotonic()
        sender.stdin.write("go\n")
        sender.stdin.flush()
        result = json.loads(sender.stdout.readline())
        sampling.set()
        sampler.join()
        io_cpu_s = thread_cpu_s(io_tid) - cpu_before
        time.sleep(0.2)
        after, osc_after, log_to = mixer.counters(), server.counters(), log_path.stat().st_size
        rss_after, rss_hwm = rss_kib()
        wall_s = time.monotonic() - flood_started
        latency_s, lead_frames = stream.latency_s, stream.lead_frames
        clock = mixer._read_clock()
        ahead_s = clock.dac_time - clock.current_time  # what PortAudio's DAC times say, per block
        server.close()
        server = None
        engine.close()
        engine = None

        # latency: each probe's voice starts on the first onset at or after the mixer frame at its call
        found = match_probes(audio, info["first_frame"] - lead, probe_sends, calls)
        dispatch_ms = [(c - s) * 1e3 for s, c, _, _, _ in found]
        heard_ms = [(c - s + (start - heard) / SAMPLE_RATE) * 1e3 for s, c, heard, _, start in found]
        block_frames = [start - mixer_frame for _, _, _, mixer_frame, start in found]
        leads = [mixer_frame - heard for _, _, heard, mixer_frame, _ in found]  # frames queued ahead of the DAC

        asked = len(result["status_ms"])  # the /status datagrams after the flood are not part of it
        sent, received = result["sent"], osc_after["received"] - osc_before["received"] - asked
        accepted = osc_after["accepted"] - osc_before["accepted"] - asked
        dropped = osc_after["dropped"] - osc_before["dropped"]
        running, not_woken, others = xrun_attribution(log_path.read_bytes()[log_from:log_to].decode(errors="replace"))
        waits = result["status_ms"]
        answered = [w for w in waits if w is not None]
        rows = [
            ("latency: probes sent / reached the engine / found in the mix",
             f"{len(probe_sends)} / {len(calls)} / {len(found)}", "all equal"),
            ("  sent -> Engine.trigger p50 / p99 / max",
             f"{percentile(dispatch_ms, 50):.3f} / {percentile(dispatch_ms, 99):.3f} / "
             f"{max(dispatch_ms, default=math.nan):.3f} ms", "-"),
            ("  Engine.trigger -> start frame: frames after the next block's first",
             f"p50 {percentile(block_frames, 50):.0f}, max {max(block_frames, default=math.nan)}",
             f"0, or {BLOCK_SIZE} when it lands mid-callback"),
            ("  sent -> voice start heard at the DAC p50 / p99 / max",
             f"{percentile(heard_ms, 50):.2f} / {percentile(heard_ms, 99):.2f} / "
             f"{max(heard_ms, default=math.nan):.2f} ms",
             f"<= {1e3 * lead_frames / SAMPLE_RATE:.2f} ms + sent -> trigger (lead: DAC ahead + 2 blocks)"),
            ("  mixer frame at the call - frame heard then: min / p50 / max",
             f"{min(leads, default=0)} / {percentile(leads, 50):.0f} / {max(leads, default=0)} frames",
             f"{round(ahead_s * SAMPLE_RATE)}..{round(ahead_s * SAMPLE_RATE) + BLOCK_SIZE} (a wider spread: the "
             "dummy's cycles jitter)"),
            (f"flood: sent in {result['flood_s']:.1f} s", f"{sent} = {sent / result['flood_s']:.0f}/s",
             f"{args.rate}/s"),
            ("  server received / accepted / rejected",
             f"{received} / {accepted} / "
             f"{osc_after['rejected'] - osc_before['rejected']}", "sent / received / 0"),
            ("  handled: accepted per second of flood", f"{accepted / result['flood_s']:.0f}/s",
             f"{args.rate}/s (all sent)"),
            ("  io thread CPU: per message / capacity (messages per CPU second)",
             f"{io_cpu_s / max(1, received) * 1e6:.1f} us / {received / max(io_cpu_s, 1e-9):.0f}/s "
             f"({io_cpu_s:.1f} CPU s in {result['flood_s']:.0f} s)", ">= 20000/s"),
            ("  socket buffer: fullest / 0.1 s spells with kernel drops",
             f"{buffer_peak // 1024} KiB of {osc_after['socket_buffer_bytes'] // 1024} / {drop_spells}", "- / 0"),
            ("  dropped: counted by the server (socket buffer full) / sent - received",
             f"{dropped} / {sent - received} (buffer {osc_after['socket_buffer_bytes'] // 1024} KiB, "
             f"pass max {osc_after['batch_max']} datagrams)", "0 / 0, counted when not"),
            ("  underflows during the flood", f"{after['underflows'] - before['underflows']}", "0"),
            ("  jackd xruns: ours running / ours not woken / others", f"{running} / {not_woken} / {others}",
             "0 / - / -"),
            ("  max callback / late starts / dropped commands / stolen voices",
             f"{after['max_callback_ns'] / 1e3:.0f} us / {after['late_starts'] - before['late_starts']} / "
             f"{after['commands_dropped'] - before['commands_dropped']} / "
             f"{after['voices_stolen'] - before['voices_stolen']}",
             f"<< {BLOCK_SIZE / SAMPLE_RATE * 1e6:.0f} us / 0 / 0 / -"),
            ("  server RSS before / peak / after (VmHWM)",
             f"{rss_before / 1024:.1f} / {rss_peak / 1024:.1f} / {rss_after / 1024:.1f} MiB "
             f"({rss_hwm / 1024:.1f})", "bounded"),
            ("  /status right after the flood, then 4 more: reply ms",
             " ".join("lost" if w is None else f"{w:.1f}" for w in waits),
             f"<= {STATUS_DEADLINE_MS:.0f} ms"),
        ]
        ok = len(answered) == len(waits) and max(answered) <= STATUS_DEADLINE_MS
        print(f"ganshot OSC bench: JACK dummy {SAMPLE_RATE} Hz, block {BLOCK_SIZE}, output latency "
              f"{latency_s * 1e3:.2f} ms (PortAudio), DAC {ahead_s * 1e3:.2f} ms ahead of the callback; Engine + OscServer in one process as in `ganshot serve`, the sender in "
              f"another; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; flood wall {wall_s:.1f} s")
        width = max(len(r[0]) for r in rows)
        print(f"{'metric':<{width}}  {'value':<46} target")
        for name, value, target in rows:
            print(f"{name:<{width}}  {value:<46} {target}")
        print(f"/status within {STATUS_DEADLINE_MS:.0f} ms after the flood: {'yes' if ok else 'NO'}")
    finally:
        stop_process(sender)
        close_all(server, engine, jackd=jackd, workdir=workdir)


if __name__ == "__main__":
    main()
