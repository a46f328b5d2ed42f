"""Real-time bench: the Engine served on JACK under Python load; underflows, latency, timing. Not a test.

One run, one table, everything side by side. It starts its own JACK server (dummy driver,
48 kHz, 128 frames, a name of its own, stopped by pid at the end) and serves an Engine on
it while, for ``--seconds``:

* a knob thread calls ``engine.set_direction`` with a new value ``--knob-hz`` times a
  second (pads 1-15 in turn), so the render worker re-renders all the time;
* a pure-Python control thread posts ``--events-per-s`` commands (trigger / set_gain /
  set_pan in turn, pads 1-15, hard right);
* a probe thread plays pad 0 (hard left, +24 semitones: 0.26 s) every ``--probe-s``,
  alternately scheduled at a frame (``at_frame``) and immediately (``at_frame=None``);
* jack_capture records system:playback as 32-bit float.

Rows: (i) underflows after start-up, how jackd attributed each xrun (our client still
running its callback / ours signalled but not yet woken by the OS / another client), and
the mixer's slowest callback; (ii) immediate trigger-to-output latency: frames from the
mixer frame at the call to the voice's start frame (found in the capture relative to the
previous scheduled probe) plus PortAudio's output latency; (iii) start error of scheduled
probes in samples: each onset in the capture against the previous scheduled one
(target 0). The probe channel (left) carries only pad 0: the stress pads play hard right.

Model: ``--model BUNDLE`` or, by default, a random WaveGAN (``--d``, latent 100, 16384
samples at 16 kHz) exported to a temporary bundle; ONNX Runtime with ``--threads``.

    python bench/realtime.py                      # 60 s
    python bench/realtime.py --seconds 20 --d 16
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SAMPLE_RATE, BLOCK_SIZE = 48000, 128
PROBE_PITCH_SEMITONES = 24.0  # the probe pad plays 4x shorter than the model's one-shot
SETTLE_S = 1.0  # after jack_capture joins, before counting
QUIET = 1e-9  # left-channel level between probes (stress pads leak cos(pi/2) ~ 6e-17 of themselves)
MIN_GAP = 512  # quiet frames before a probe onset (a probe hit has no quiet run this long inside)
SCHEDULE_AHEAD = SAMPLE_RATE // 10  # scheduled probes: 100 ms beyond lead_frames


# -- JACK ------------------------------------------------------------------------------------
def start_jackd(log_path: Path) -> tuple[subprocess.Popen, dict]:
    """A private jackd (dummy driver), realtime where allowed, like tests/engine/conftest.py."""
    for tool in ("jackd", "jack_lsp", "jack_capture"):
        if shutil.which(tool) is None:
            raise SystemExit(f"realtime.py: needs {tool} (Debian: jackd2 jack-capture)")
    name = f"ganshotbench{os.getpid()}"
    env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1")
    for mode in ("-R", "-r"):
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(["jackd", "-n", name, mode, "-d", "dummy", "-r", str(SAMPLE_RATE),
                                     "-p", str(BLOCK_SIZE)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            ports = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True, timeout=5).stdout
            if "system:playback_2" in ports:
                return proc, env
            time.sleep(0.1)
        stop_process(proc)
    raise SystemExit(f"realtime.py: jackd did not start: {log_path.read_text()[-1000:]}")


def stop_process(proc: subprocess.Popen | None, sig=signal.SIGTERM) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def close_all(*closables, jackd: subprocess.Popen | None = None, workdir=None) -> None:
    """A bench's teardown on JACK: close the servers/engine given (None skipped) in order, let PortAudio
    leave JACK before jackd goes (else it aborts at exit), stop jackd, remove the work folder."""
    import shutil
    import sys

    for thing in closables:
        if thing is not None:
            thing.close()
    if "sounddevice" in sys.modules:
        sys.modules["sounddevice"]._terminate()
    stop_process(jackd)
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def capture_connected(env: dict) -> bool:
    links, port = {}, None
    for line in subprocess.run(["jack_lsp", "-c"], env=env, capture_output=True, text=True).stdout.splitlines():
        if line.startswith(" "):
            links.setdefault(port, []).append(line.strip())
        else:
            port = line
    return all(links.get(f"jack_capture:input{i}") == [f"PortAudio:out_{i - 1}"] for i in (1, 2))


def xrun_attribution(log_text: str) -> tuple[int, int, int]:
    """(ours running, ours not yet woken, other clients) over jackd's "not finished" lines."""
    lines = [line for line in log_text.splitlines() if "was not finished" in line]
    ours = [line for line in lines if "client = PortAudio" in line]
    running = sum("state = Running" in line for line in ours)
    return running, len(ours) - running, len(lines) - len(ours)


# -- model -----------------------------------------------------------------------------------
def random_bundle(workdir: Path, d: int) -> Path:
    import torch

    from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
    from ganshot.training.export import export_generator

    spec = GeneratorSpec(latent_dim=100, d=d, num_samples=16384)
    torch.manual_seed(0)
    return export_generator(WaveGANGenerator(spec), spec, workdir / f"wavegan-d{d}", name=f"random-d{d}",
                            sample_rate=16000)


# -- load threads ------------------------------------------------------------------------------
class Load:
    """The three Python threads; each counts what it did."""

    def __init__(self, engine, stream, args):
        self.engine, self.stream, self.args = engine, stream, args
        self.stop = threading.Event()
        self.events = self.knobs = 0
        self.event_kinds = {"trigger": 0, "set_gain": 0, "set_pan": 0}
        self.probes: list[tuple] = []  # ("s", at_frame) or ("i", frame_before, frame_after)
        self.elapsed_s = 0.0
        self._threads = [threading.Thread(target=f, name=f.__name__, daemon=True)
                         for f in (self.knob_loop, self.control_loop, self.probe_loop)]

    def run(self, seconds: float) -> None:
        started = time.perf_counter()
        for t in self._threads:
            t.start()
        time.sleep(seconds)
        self.stop.set()
        for t in self._threads:
            t.join(timeout=10)
        self.elapsed_s = time.perf_counter() - started

    def knob_loop(self) -> None:
        rng, period = random.Random(2), 1.0 / self.args.knob_hz
        next_at = time.perf_counter()
        while not self.stop.is_set():
            self.engine.set_direction(1 + self.knobs % 15, 0, rng.uniform(-1.0, 1.0))  # new z: no cache hit
            self.knobs += 1
            next_at += period
            time.sleep(max(0.0, next_at - time.perf_counter()))

    def control_loop(self) -> None:
        """Pure Python, paced to events_per_s; when it falls behind it catches up flat out."""
        engine, rng, rate = self.engine, random.Random(3), self.args.events_per_s
        started = time.perf_counter()
        while not self.stop.is_set():
            due = int((time.perf_counter() - started) * rate) - self.events
            for _ in range(min(due, rate // 10)):
                pad = 1 + rng.randrange(15)
                kind = self.events % 3
                if kind == 0:
                    engine.trigger(pad, velocity=rng.uniform(0.2, 1.0))
                    self.event_kinds["trigger"] += 1
                elif kind == 1:
                    engine.set_gain(pad, rng.uniform(-24.0, 0.0))
                    self.event_kinds["set_gain"] += 1
                else:
                    engine.set_pan(pad, 1.0)  # hard right: the left channel is the probe's
                    self.event_kinds["set_pan"] += 1
                self.events += 1
            time.sleep(0.0005)

    def probe_loop(self) -> None:
        engine, mixer, rng = self.engine, self.engine.mixer, random.Random(4)
        while not self.stop.wait(self.args.probe_s):
            if len(self.probes) % 2 == 0:
                # far enough ahead that a GIL wait cannot make it late: this row measures placement
                at = mixer.frame + self.stream.lead_frames + SCHEDULE_AHEAD + rng.randrange(3 * BLOCK_SIZE)
                if engine.trigger(0, 1.0, at_frame=at):
                    self.probes.append(("s", at))
            else:
                before = mixer.frame
                token = engine.trigger(0, 1.0)
                after = mixer.frame
                if token:
                    self.probes.append(("i", before, after))


# -- analysis --------------------------------------------------------------------------------
def probe_onsets(left: np.ndarray) -> np.ndarray:
    """First frame above QUIET after >= MIN_GAP quiet frames."""
    loud = np.flatnonzero(np.abs(left) > QUIET)
    if not len(loud):
        return loud
    keep = np.concatenate([[True], np.diff(loud) > MIN_GAP])
    return loud[keep]


def analyse_probes(probes: list[tuple], onsets: np.ndarray) -> dict:
    """Match each probe to the onset nearest its predicted capture frame, reckoned from the
    previous scheduled probe (so one xrun shifts one probe, not all that follow)."""
    errors, latencies, outside, missing = [], [], 0, 0
    offset = None
    for probe in probes:
        if offset is None:  # the first scheduled probe is the first sound on the left
            if probe[0] != "s" or not len(onsets):
                missing += 1
                continue
            offset = int(onsets[0]) - probe[1]
            continue
        predicted = probe[1] + offset  # an immediate probe starts about at its call's frame
        nearest = int(onsets[np.argmin(np.abs(onsets - predicted))]) if len(onsets) else None
        if nearest is None or abs(nearest - predicted) > 16 * BLOCK_SIZE:
            missing += 1
            continue
        if probe[0] == "s":
            errors.append(nearest - predicted)
            offset = nearest - probe[1]
        else:
            start = nearest - offset
            latencies.append(start - probe[1])
            outside += not probe[1] <= start <= probe[2] + BLOCK_SIZE
    return {"errors": errors, "latencies": latencies, "outside": outside, "missing": missing}


def percentile(values, q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


# -- main --------------------------------------------------------------------------------------
def steal_seconds() -> float | None:
    """Seconds of CPU the hypervisor ran others on this machine's vCPUs (/proc/stat "steal", all
    CPUs), or None where there is no such column. A callback preempted by the host shows as wall
    time far above its CPU time (max_callback_ns against max_callback_cpu_ns): not ours to fix."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs")
    parser.add_argument("--events-per-s", type=int, default=5000, help="control events a second (Python thread)")
    parser.add_argument("--knob-hz", type=float, default=100.0, help="set_direction calls a second")
    parser.add_argument("--probe-s", type=float, default=0.5, help="seconds between probe hits")
    parser.add_argument("--model", default=None, help="bundle folder (default: a random WaveGAN, --d)")
    parser.add_argument("--d", type=int, default=64, help="model size of the random WaveGAN")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ganshot-realtime-"))
    jackd = capture = engine = None
    try:
        log_path = workdir / "jackd.log"
        jackd, env = start_jackd(log_path)
        os.environ.update(env)  # before sounddevice is imported: PortAudio joins this server

        from ganshot.engine.audio_stream import AudioStream
        from ganshot.engine.bundle import load_bundle
        from ganshot.engine.engine import Engine
        from ganshot.engine.presets import seeded_kit
        from ganshot.engine.mixer import callbacks_over
        from ganshot.engine.runtime import load_generator_runtime

        bundle = load_bundle(args.model or random_bundle(workdir, args.d))
        kit = seeded_kit(bundle, range(1, 17), name="realtime bench")
        kit = kit.with_pad(0, pan=-1.0, pitch_semitones=PROBE_PITCH_SEMITONES)
        for index in range(1, len(kit.pads)):
            kit = kit.with_pad(index, pan=1.0)
        runtime = load_generator_runtime(bundle, backend="onnx", threads=args.threads)
        engine = Engine(bundle, kit, sample_rate=SAMPLE_RATE, runtime=runtime)
        probe = engine.pad_buffer(0)
        stream = AudioStream(engine.mixer, device="system", sample_rate=SAMPLE_RATE, block_size=BLOCK_SIZE)
        engine.stream = stream
        stream.start()

        wav = workdir / "capture.wav"
        capture = subprocess.Popen(["jack_capture", "--daemon", "-d", str(int(args.seconds + 30)), "-f", "wav",
                                    str(wav)], env=env)
        deadline = time.monotonic() + 10
        while not capture_connected(env):
            if time.monotonic() > deadline:
                raise SystemExit("realtime.py: jack_capture did not connect")
            time.sleep(0.05)
        time.sleep(SETTLE_S)
        mixer = engine.mixer
        mixer.reset_peaks()
        before, worker_before, log_from = mixer.counters(), engine.worker.stats(), log_path.stat().st_size
        steal_before = steal_seconds()

        load = Load(engine, stream, args)
        load.run(args.seconds)

        after, worker_after, log_to = mixer.counters(), engine.worker.stats(), log_path.stat().st_size
        steal_s = None if steal_before is None else steal_seconds() - steal_before
        status, latency_s = engine.status(), stream.latency_s
        time.sleep(0.5)  # the last probe rings out and reaches the capture
        stop_process(capture, signal.SIGINT)  # jack_capture closes its file on Ctrl-C
        capture = None
        engine.close()
        engine = None

        import soundfile as sf

        if sf.info(wav).subtype != "FLOAT":
            raise SystemExit(f"realtime.py: jack_capture wrote {sf.info(wav).subtype}, not 32-bit float")
        audio, _ = sf.read(wav, dtype="float32", always_2d=True)
        found = analyse_probes(load.probes, probe_onsets(audio[:, 0]))
        running, not_woken, others = xrun_attribution(log_path.read_bytes()[log_from:log_to].decode(errors="replace"))
        period_us = BLOCK_SIZE / SAMPLE_RATE * 1e6
        lat = [1e3 * (frames / SAMPLE_RATE + latency_s) for frames in found["latencies"]]
        errors = [abs(e) for e in found["errors"]]
        renders = worker_after["renders_done"] - worker_before["renders_done"]

        hist = [b - a for a, b in zip(before["callback_cpu_hist"], after["callback_cpu_hist"])]
        slow_callbacks, callbacks = callbacks_over(hist, period_us / 2), sum(hist)
        rows = [
            ("(i) underflows after start-up", f"{after['underflows'] - before['underflows']}", "0"),
            ("    jackd xruns: ours running / ours not woken / others", f"{running} / {not_woken} / {others}",
             "0 / - / -"),
            ("    max callback: wall / CPU per block", f"{after['max_callback_ns'] / 1e3:.1f} us / "
             f"{after['max_callback_cpu_ns'] / 1e3:.1f} us", f"<< {period_us:.0f} us period"),
            ("    callbacks using half a period of CPU or more", f"{slow_callbacks} of {callbacks}", "0"),
            ("    callbacks that blocked (lock, GIL, page)", f"{after['callback_waits'] - before['callback_waits']}", "0"),
            ("    CPU time the host took from this VM (steal, all vCPUs)",
             "-" if steal_s is None else f"{steal_s * 1e3:.0f} ms", "0 on bare metal"),
            ("    late starts / dropped commands / stolen voices",
             f"{after['late_starts'] - before['late_starts']} / "
             f"{after['commands_dropped'] - before['commands_dropped']} / "
             f"{after['voices_stolen'] - before['voices_stolen']}", "0 / 0 / -"),
            ("    control events (trigger/set_gain/set_pan)",
             f"{load.events} = {load.events / load.elapsed_s:.0f}/s "
             f"({load.event_kinds['trigger']}/{load.event_kinds['set_gain']}/{load.event_kinds['set_pan']})",
             f"{args.events_per_s}/s"),
            ("    knob moves / renders done (p50, p99 ms)",
             f"{load.knobs} / {renders} ({status['render_ms_p50']:.1f}, {status['render_ms_p99']:.1f})", "-"),
            ("(ii) immediate trigger latency p50 / p99 / max",
             f"{percentile(lat, 50):.2f} / {percentile(lat, 99):.2f} / {max(lat, default=math.nan):.2f} ms",
             f"<= {1e3 * (BLOCK_SIZE / SAMPLE_RATE + latency_s):.2f} ms"),
            ("     frames from call to start p50 / max; outside [call, +1 block]",
             f"{percentile(found['latencies'], 50):.0f} / {max(found['latencies'], default=math.nan)}; "
             f"{found['outside']} of {len(found['latencies'])}", f"<= {BLOCK_SIZE}; 0"),
            ("(iii) scheduled start error max |samples| (mean)",
             f"{max(errors, default=math.nan)} ({statistics.fmean(errors) if errors else math.nan:.2f}) "
             f"over {len(errors)}", "0"),
            ("     exact / off by whole blocks (an xrun between) / other",
             f"{errors.count(0)} / {sum(e > 0 and e % BLOCK_SIZE == 0 for e in errors)} / "
             f"{sum(e % BLOCK_SIZE != 0 for e in errors)}", "all / 0 / 0"),
            ("     probes not found in the capture", f"{found['missing']} of {len(load.probes)}", "0"),
        ]
        print(f"ganshot realtime bench: JACK dummy {SAMPLE_RATE} Hz, block {BLOCK_SIZE}, {load.elapsed_s:.1f} s, "
              f"model {bundle.name} ({runtime.name}, {args.threads} thread), output latency "
              f"{latency_s * 1e3:.2f} ms, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        width = max(len(r[0]) for r in rows)
        print(f"{'metric':<{width}}  {'value':<44} target")
        for name, value, target in rows:
            print(f"{name:<{width}}  {value:<44} {target}")
    finally:
        if engine is not None:
            engine.close()
        stop_process(capture, signal.SIGINT)
        if "sounddevice" in sys.modules:  # PortAudio must leave JACK before jackd goes (else it aborts at exit)
            sys.modules["sounddevice"]._terminate()
        stop_process(jackd)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
