"""Web page bench: click (POST /api/command) -> voice started, on a JACK dummy server. Not a test.

It starts its own JACK server (dummy driver, 48 kHz, 128 frames, a name of its own, stopped by
pid at the end) and serves an Engine there as ``ganshot serve --web`` does (AudioStream, then
OscServer and WebServer on 127.0.0.1). A separate client process (its own GIL, as a browser is
its own process) sends ``--clicks`` POSTs of ``{"address": "/pad/trigger", "args": [0, 1.0]}``
on one keep-alive connection, about every ``--gap-ms``, and notes when each was sent and when
its 202 came back. The engine's ``trigger`` is wrapped to note when each click reached it (after
HTTP, JSON, the check against the OSC table, the UDP datagram and the OSC server's dispatch) and
which stream frame is heard then; the mixer's record tap gives the frame each voice started on
(the method of bench/osc.py, whose helpers this reuses). Both processes read ``time.monotonic()``.

Rows: click -> 202 (the browser's fetch resolves), click -> Engine.trigger, and click -> voice
start heard at the DAC (by the stream clock). Writes bench/results/web.md.

    python bench/web.py                 # 200 clicks, ~60 ms apart
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from osc import (  # noqa: E402  (bench/osc.py: the same engine set-up and voice-onset matching)
    BLOCK_SIZE, PROBE_PITCH_SEMITONES, SAMPLE_RATE, RecordDrain, match_probes, percentile, random_bundle,
)
from realtime import close_all, start_jackd  # noqa: E402  (bench/realtime.py)

RESULTS = Path(__file__).resolve().parent / "results" / "web.md"

CLIENT = r"""
import http.client, json, random, sys, time
a = json.loads(sys.argv[1])
conn = http.client.HTTPConnection("127.0.0.1", a["port"], timeout=30)
body = json.dumps({"address": "/pad/trigger", "args": [0, 1.0]}).encode()
headers = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{a['port']}"}
rng, sends, answers, statuses = random.Random(1), [], [], []
for _ in range(a["clicks"]):
    sends.append(time.monotonic())
    conn.request("POST", "/api/command", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    answers.append(time.monotonic())
    statuses.append(response.status)
    time.sleep(a["gap_s"] * rng.uniform(0.8, 1.2))
print(json.dumps({"sends": sends, "answers": answers, "statuses": statuses}), flush=True)
"""


def _row(values_ms) -> str:
    return (f"{percentile(values_ms, 50):.2f} / {percentile(values_ms, 99):.2f} / "
            f"{max(values_ms, default=math.nan):.2f} ms")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--clicks", type=int, default=200, help="POSTs of /pad/trigger")
    parser.add_argument("--gap-ms", type=float, default=60.0, help="mean time between clicks")
    parser.add_argument("--out", default=str(RESULTS), help="the Markdown result file")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ganshot-web-bench-"))
    jackd = engine = osc = web = None
    try:
        jackd, env = start_jackd(workdir / "jackd.log")
        os.environ.update(env)  # before sounddevice is imported: PortAudio joins this server
        logging.getLogger("ganshot.bridges.osc.server").setLevel(logging.ERROR)

        from ganshot.bridges.osc.server import OscServer
        from ganshot.bridges.web.server import WebServer
        from ganshot.engine.audio_stream import AudioStream
        from ganshot.engine.bundle import load_bundle
        from ganshot.engine.engine import Engine
        from ganshot.engine.presets import seeded_kit
        from ganshot.engine.runtime import load_generator_runtime

        bundle = load_bundle(random_bundle(workdir))
        kit = seeded_kit(bundle, range(1, 17), name="web bench").with_pad(
            0, pan=-1.0, pitch_semitones=PROBE_PITCH_SEMITONES)  # short and hard left: onsets stand apart
        runtime = load_generator_runtime(bundle, backend="onnx", threads=1)
        engine = Engine(bundle, kit, sample_rate=SAMPLE_RATE, runtime=runtime)
        lead = int(np.flatnonzero(np.abs(engine.pad_buffer(0)) > 0)[0])
        stream = AudioStream(engine.mixer, device="system", sample_rate=SAMPLE_RATE, block_size=BLOCK_SIZE)
        engine.stream = stream
        stream.start()
        osc = OscServer(engine, port=0, render_dir=workdir / "renders").start()
        web = WebServer(engine, osc, port=0).start()
        mixer = engine.mixer
        time.sleep(1.0)  # start-up underflows happen here, and the stream clock fit fills
        record = RecordDrain(mixer)
        before = mixer.counters()

        calls, trigger = [], engine.trigger

        def timed_trigger(index, velocity=1.0, at_frame=None):
            now = time.monotonic()
            calls.append((now, stream.frame_at_monotonic(now), mixer.frame))
            return trigger(index, velocity, at_frame)

        engine.trigger = timed_trigger
        client = subprocess.run([sys.executable, "-c", CLIENT, json.dumps(
            {"port": web.port, "clicks": args.clicks, "gap_s": args.gap_ms / 1e3})],
            capture_output=True, text=True, timeout=600)
        if client.returncode:
            raise SystemExit(f"the client failed: {client.stderr[-2000:]}")
        result = json.loads(client.stdout)
        time.sleep(0.3)  # the last click plays
        engine.trigger = trigger
        audio, info = record.stop()
        after = mixer.counters()
        web_counters = web.counters()
        lead_frames = stream.lead_frames
        web.close()
        web = None
        osc.close()
        osc = None
        engine.close()
        engine = None

        sends, answers = result["sends"], result["answers"]
        found = match_probes(audio, info["first_frame"] - lead, sends, calls)
        answer_ms = [(a - s) * 1e3 for s, a in zip(sends, answers)]
        dispatch_ms = [(c - s) * 1e3 for s, c, _, _, _ in found]
        heard_ms = [(c - s + (start - heard) / SAMPLE_RATE) * 1e3 for s, c, heard, _, start in found]
        accepted = sum(status == 202 for status in result["statuses"])
        load = os.getloadavg()[0]
        rows = [
            ("clicks sent / answered 202 / reached the engine / found in the mix",
             f"{len(sends)} / {accepted} / {len(calls)} / {len(found)}", "all equal"),
            ("click -> 202 answer (fetch resolves) p50 / p99 / max", _row(answer_ms), "-"),
            ("click -> Engine.trigger p50 / p99 / max", _row(dispatch_ms), "-"),
            ("click -> voice start heard at the DAC p50 / p99 / max", _row(heard_ms),
             f"<= {1e3 * lead_frames / SAMPLE_RATE:.2f} ms + click -> trigger (lead: DAC ahead + 2 blocks)"),
            ("underflows during the clicks", f"{after['underflows'] - before['underflows']}", "0"),
            ("web: commands / refused / send_dropped",
             f"{web_counters['commands']} / {web_counters['refused']} / {web_counters['send_dropped']}",
             f"{args.clicks} / 0 / 0"),
        ]
        width = max(len(r[0]) for r in rows)
        header = (f"ganshot web bench: JACK dummy {SAMPLE_RATE} Hz, block {BLOCK_SIZE}; Engine + OscServer + "
                  f"WebServer in one process as in `ganshot serve --web`, the HTTP client in another (one "
                  f"keep-alive connection, {args.clicks} clicks ~{args.gap_ms:g} ms apart); {os.cpu_count()} "
                  f"CPUs, load average {load:.1f}")
        lines = [header, f"{'metric':<{width}}  {'value':<34} target"]
        lines += [f"{name:<{width}}  {value:<34} {target}" for name, value, target in rows]
        print("\n".join(lines))
        table = ["| metric | value | target |", "|---|---|---|"] + [f"| {n} | {v} | {t} |" for n, v, t in rows]
        Path(args.out).write_text(
            "# Web page round trip: click -> voice\n\n"
            f"`python bench/web.py --clicks {args.clicks} --gap-ms {args.gap_ms:g}` on "
            f"{datetime.date.today().isoformat()}, project machine ({os.cpu_count()} shared CPUs, no GPU, "
            f"load average {load:.1f} from training jobs running beside it).\n\n"
            f"{header}.\n\n" + "\n".join(table) + "\n\n"
            "\"click\" is the moment the client process starts the POST; \"heard\" is the stream clock's "
            "reckoning of when the voice's first frame reaches the (dummy) DAC. The path: HTTP request, "
            "JSON checked against the OSC address table, one UDP datagram to the engine's own OSC "
            "server, its dispatch, Engine.trigger, the C mixer's next block.\n")
        print(f"wrote {args.out}")
    finally:
        close_all(web, osc, engine, jackd=jackd, workdir=workdir)


if __name__ == "__main__":
    main()
