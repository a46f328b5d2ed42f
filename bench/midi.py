"""MIDI bench: JACK MIDI note-to-hit latency, and knob-to-new-buffer time, on a JACK dummy server. Not a test.

One run, one table, everything side by side. It starts its own JACK server (dummy driver,
48 kHz, 128 frames, a name of its own, stopped by pid at the end) and serves an Engine there
with the MIDI bridge exactly as ``ganshot serve`` does (AudioStream, then ``start_midi`` with
``--midi-in none --midi-api jack``: only the virtual JACK MIDI input "ganshot", drained by the
bridge's poller thread). The model is the shipped one (``presets/models/drums-v1``) through the
default kit ``presets/kits/default.json`` (ONNX Runtime, ``--threads``, on the CPU). A separate
sender process (its own GIL; it and the pollers that time it are in bench/_midi_probe.py) opens a
JACK MIDI output with python-rtmidi, connects it to "ganshot" by name and:

1. latency: sends ``--probes`` note-ons (note 36, pad 0, velocity 127) about every
   ``--probe-gap-ms``. Pad 0 plays at +24 semitones (256 ms) so that hits never overlap and the
   mix is silent between them. The engine's ``trigger`` is wrapped to note when each note
   reached it (sent -> Engine.trigger: JACK MIDI, rtmidi's queue, the 1 ms poller, the server
   queue, parse, map) and which stream frame is heard then; the mixer's record tap gives the
   exact frame each voice started on. Row: sent -> voice start heard at the DAC, by the stream
   clock that Engine.frame_for_time uses (as bench/osc.py). Both processes read
   ``time.monotonic()``.
2. knobs: CC 21 (the default map's focused.direction.0) on the focused pad (pad 0, the last
   one played). A poller thread reads ``Engine.pad_buffer(0)`` every ``--poll-ms`` and notes
   each time the buffer object changes. (a) single moves: ``--moves`` lone CC values
   ``--move-gap-ms`` apart: sent -> the next new buffer. (b) sweeps: ``--sweeps`` turns of
   ``--sweep-values`` values ``--sweep-step-ms`` apart (a fast hand on a knob): each value sent
   -> the next new buffer, and the sweep's last value sent -> the last new buffer of the sweep
   (the settled sound; the bridge rate-limits a knob to 50 values/s and the render worker keeps
   only the newest request, so a sweep renders a few buffers, not one per value).

Note paths (``--note-path``, serve's ``--midi-notes``): ``c`` (serve's default on JACK): the C
mixer's own JACK MIDI input plays notes one JACK period after their JACK frame (engine/jack_midi.py);
there is no Engine.trigger call to time, so a sampler thread notes (time, frame heard, mixer frame)
every 0.5 ms and each probe is measured from the sample at its send time; the extra row "note JACK
frame -> voice start" is exact, in frames (want: one period). ``python``: rtmidi and the bridge's
dispatch thread, notes scheduled at a constant latency (arrival + output lead + ``--lead-ms``, see
bridges/midi/server.py); ``--asap`` plays them when the dispatch thread sees them instead.
Sent -> heard includes what no receiver can remove: rtmidi's JACK output writes a message at the
start of the next period (0 to 1 period after send_message), and the DAC's lead.

    python bench/midi.py                      # the C path
    python bench/midi.py --note-path python   # the Python path, for a side-by-side figure
    python bench/midi.py --probes 100 --sweeps 20
    python bench/midi.py --note-path python --asap
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from osc import RecordDrain, match_probes  # noqa: E402  (bench/osc.py)
from realtime import close_all, start_jackd, stop_process, xrun_attribution  # noqa: E402  (bench/realtime.py)
from _midi_probe import SENDER, BufferWatch, ClockSampler, next_after, stats  # noqa: E402  (bench/_midi_probe.py)

SAMPLE_RATE, BLOCK_SIZE = 48000, 128
PROBE_PAD, PROBE_NOTE = 0, 36
PROBE_PITCH_SEMITONES = 24.0
KNOB_CC = 21
MIDI_ARGS = ["--midi-in", "none", "--midi-api", "jack"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--probes", type=int, default=60, help="latency probes (note-ons)")
    parser.add_argument("--probe-gap-ms", type=float, default=350.0, help="mean time between probes")
    parser.add_argument("--moves", type=int, default=20, help="single knob moves")
    parser.add_argument("--move-gap-ms", type=float, default=300.0, help="time between single moves")
    parser.add_argument("--sweeps", type=int, default=10, help="knob sweeps")
    parser.add_argument("--sweep-values", type=int, default=64, help="CC values per sweep")
    parser.add_argument("--sweep-step-ms", type=float, default=2.0, help="time between values in a sweep")
    parser.add_argument("--sweep-gap-ms", type=float, default=400.0, help="pause after each sweep")
    parser.add_argument("--poll-ms", type=float, default=0.5, help="pad_buffer poll period")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--lead-ms", type=float, default=None, help="--midi-lead-ms (default: the bridge's)")
    parser.add_argument("--note-path", choices=("c", "python"), default="c",
                        help="who plays notes (serve --midi-notes): the C mixer's JACK MIDI input, or Python")
    parser.add_argument("--asap", action="store_true",
                        help="python path: play notes when seen (no arrival-time scheduling)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ganshot-midi-bench-"))
    jackd = engine = midi = sender = None
    try:
        log_path = workdir / "jackd.log"
        jackd, env = start_jackd(log_path)
        env["MIDO_BACKEND"] = "mido.backends.rtmidi/UNIX_JACK"
        os.environ.update(env)  # before sounddevice and rtmidi load: PortAudio and the bridge join this server

        from ganshot.bridges.midi.cli import add_midi_arguments, start_midi
        from ganshot.engine.audio_stream import AudioStream
        from ganshot.engine.engine import Engine
        from ganshot.engine.presets import default_kit_path, load_model_and_kit
        from ganshot.engine.runtime import load_generator_runtime

        t0 = time.monotonic()
        bundle, kit = load_model_and_kit(default_kit_path())
        kit = kit.with_pad(PROBE_PAD, pitch_semitones=PROBE_PITCH_SEMITONES)
        if kit.pads[PROBE_PAD].note != PROBE_NOTE:
            raise SystemExit(f"midi.py: the default kit's pad {PROBE_PAD} is note {kit.pads[PROBE_PAD].note}")
        runtime = load_generator_runtime(bundle, backend="onnx", threads=args.threads)
        engine = Engine(bundle, kit, sample_rate=SAMPLE_RATE, runtime=runtime)
        engine.wait_ready(60)
        load_s = time.monotonic() - t0
        lead = int(np.flatnonzero(np.abs(engine.pad_buffer(PROBE_PAD)) > 0)[0])
        stream = AudioStream(engine.mixer, device="system", sample_rate=SAMPLE_RATE, block_size=BLOCK_SIZE)
        engine.stream = stream
        stream.start()
        midi_parser = argparse.ArgumentParser()
        add_midi_arguments(midi_parser)
        lead_args = [] if args.lead_ms is None else ["--midi-lead-ms", str(args.lead_ms)]
        path_args = ["--midi-notes", args.note_path]
        midi = start_midi(engine, midi_parser.parse_args(MIDI_ARGS + lead_args + path_args), out=open(os.devnull, "w"))
        if args.asap:
            midi.server._start_frame = lambda arrival_s: None
        if midi is None or midi.backend.api != "jack" or midi.watcher.virtual is None:
            raise SystemExit("midi.py: the MIDI bridge did not open its virtual JACK MIDI input")
        in_c = midi.notes is not None
        played_frames = []  # C path: the JACK frame of each note the C input played
        if in_c:
            pop = midi.notes.input.pop

            def recording_pop():
                messages = pop()
                played_frames.extend(m.jack_frame for m in messages if m.pad is not None)
                return messages

            midi.notes.input.pop = recording_pop
        mixer = engine.mixer
        time.sleep(1.0)  # start-up underflows happen here, and the stream clock fit fills
        mixer.reset_peaks()
        before, log_from = mixer.counters(), log_path.stat().st_size
        worker_before = engine.worker.stats()
        record = RecordDrain(mixer)
        sampler = ClockSampler(stream, mixer, midi.notes)

        calls, knob_calls = [], []
        trigger, set_direction = engine.trigger, engine.set_direction

        def timed_trigger(index, velocity=1.0, at_frame=None):
            now = time.monotonic()
            calls.append((now, stream.frame_at_monotonic(now), mixer.frame))
            return trigger(index, velocity, at_frame)

        def timed_set_direction(index, direction, value):
            knob_calls.append(time.monotonic())
            return set_direction(index, direction, value)

        engine.trigger, engine.set_direction = timed_trigger, timed_set_direction
        sender = subprocess.Popen([sys.executable, "-c", SENDER, json.dumps(
            {"probes": args.probes, "probe_gap_s": args.probe_gap_ms / 1e3, "note": PROBE_NOTE, "cc": KNOB_CC,
             "moves": args.moves, "move_gap_s": args.move_gap_ms / 1e3, "sweeps": args.sweeps,
             "sweep_values": args.sweep_values, "sweep_step_s": args.sweep_step_ms / 1e3,
             "sweep_gap_s": args.sweep_gap_ms / 1e3})],
            env=os.environ, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = sender.stdout.readline()
        if not line:
            raise SystemExit(f"midi.py: the sender failed (rc {sender.wait()})")
        probe_sends = json.loads(line)["probe_sends"]
        time.sleep(0.4)  # the last probe plays
        audio, info = record.stop()
        sampler.stop()
        if in_c:  # no Engine.trigger call: each probe is measured from the clock sample at its send time
            calls = [sampler.at(sent)[:3] for sent in probe_sends]

        # knobs
        midi.server.wait_idle(5)
        if engine.focus != PROBE_PAD:
            raise SystemExit(f"midi.py: focus is pad {engine.focus}, not {PROBE_PAD}")
        watch = BufferWatch(engine, PROBE_PAD, args.poll_ms / 1e3)
        sender.stdin.write("go\n")
        sender.stdin.flush()
        line = sender.stdout.readline()
        if not line:
            raise SystemExit(f"midi.py: the sender failed (rc {sender.wait()})")
        knobs = json.loads(line)
        midi.server.wait_idle(5)
        engine.wait_ready(10)
        time.sleep(0.05)
        changes = np.array(watch.stop())
        engine.trigger, engine.set_direction = trigger, set_direction
        after, log_to = mixer.counters(), log_path.stat().st_size
        worker_after, status, counters = engine.worker.stats(), engine.status(), midi.counters()
        last_value = knobs["sweeps"][-1][-1][1] if knobs["sweeps"] else None
        expected = -1.0 + 2.0 * last_value / 127 if last_value is not None else None
        final_ok = (expected is not None and abs(engine.kit.pads[PROBE_PAD].directions[0] - expected) < 1e-9
                    and np.array_equal(engine.pad_buffer(PROBE_PAD),
                                       engine.worker.render_now(engine.pad_latent(PROBE_PAD), PROBE_PITCH_SEMITONES,
                                                         engine.pad_label(PROBE_PAD))))
        ahead_s = (lambda c: c.dac_time - c.current_time)(mixer._read_clock())
        latency_s, lead_frames = stream.latency_s, stream.lead_frames
        lead_ms_used = midi.server.lead_ms
        period = midi.notes.input.counters()["period_frames"] if in_c else BLOCK_SIZE
        # C path: note JACK frame -> voice start, in frames (the mixer - JACK offset sampled nearest the note)
        note_to_start = []
        if in_c:
            loud = np.flatnonzero(np.abs(audio[:, 0]) > 0)
            starts = loud[np.concatenate([[True], np.diff(loud) > BLOCK_SIZE])] + info["first_frame"] - lead \
                if len(loud) else loud
            # the offset in force when the mixer took the note: the first sample whose next block's
            # JACK frame (mixer frame - offset) is past the note (an xrun moves the offset by periods)
            samples = [s for s in sampler.samples if s[3]]
            block_jack = np.array([s[2] - s[3] for s in samples], dtype=np.int64)
            for jack_frame in played_frames:
                i = min(int(np.searchsorted(block_jack, jack_frame, side="right")), len(samples) - 1)
                mixer_frame = jack_frame + (samples[i][3] if samples else 0)
                i = int(np.searchsorted(starts, mixer_frame))
                if i < len(starts) and starts[i] - mixer_frame < 8 * BLOCK_SIZE:
                    note_to_start.append(int(starts[i] - mixer_frame))
        midi.close()
        midi = None
        engine.close()
        engine = None

        # latency: each probe's voice starts on the first onset at or after the mixer frame at its call
        found = match_probes(audio, info["first_frame"] - lead, probe_sends, calls)
        dispatch_ms = [(c - s) * 1e3 for s, c, _, _, _ in found]
        heard_ms = [(c - s + (start - heard) / SAMPLE_RATE) * 1e3 for s, c, heard, _, start in found]
        mix_ms = [(c - s) * 1e3 + (start - mixer_frame) / SAMPLE_RATE * 1e3 for s, c, _, mixer_frame, start in found]

        # knobs: single moves
        knob_calls = np.array(knob_calls)
        move_ms, move_dispatch_ms = [], []
        for sent_at, _ in knobs["moves"]:
            ready, called = next_after(changes, sent_at), next_after(knob_calls, sent_at)
            if ready is not None:
                move_ms.append((ready - sent_at) * 1e3)
            if called is not None:
                move_dispatch_ms.append((called - sent_at) * 1e3)
        # sweeps: each value -> the next new buffer; the last value -> the sweep's last new buffer
        sweep_ms, settle_ms, per_sweep = [], [], []
        bounds = [s[0][0] for s in knobs["sweeps"][1:]] + [math.inf]
        for sweep, end in zip(knobs["sweeps"], bounds):
            for sent_at, _ in sweep:
                ready = next_after(changes, sent_at)
                if ready is not None and ready < end:
                    sweep_ms.append((ready - sent_at) * 1e3)
            inside = changes[(changes > sweep[0][0]) & (changes < end)]
            per_sweep.append(len(inside))
            if len(inside) and inside[-1] > sweep[-1][0]:
                settle_ms.append((inside[-1] - sweep[-1][0]) * 1e3)
        sweep_values = sum(len(s) for s in knobs["sweeps"])

        running, not_woken, others = xrun_attribution(log_path.read_bytes()[log_from:log_to].decode(errors="replace"))
        renders = worker_after["renders_done"] - worker_before["renders_done"]
        rows = [
            (f"note -> hit ({'C' if in_c else 'Python'} path): probes sent / "
             f"{'played in C' if in_c else 'reached Engine.trigger'} / found in the mix",
             f"{len(probe_sends)} / {counters.get('c_notes_played', 0) if in_c else len(calls)} / {len(found)}",
             "all equal"),
            ("  note JACK frame -> voice start, frames: min / max (n)" if in_c else
             "  sent -> Engine.trigger (dispatch) p50 / p99 / max",
             (f"{min(note_to_start, default=-1)} / {max(note_to_start, default=-1)} (n {len(note_to_start)})"
              if in_c else stats(dispatch_ms, 3)),
             f"{period} / {period} (one period, exact)" if in_c else "~1 ms (the JACK poller) + queue"),
            ("  sent -> voice start frame in the mix p50 / p99 / max", stats(mix_ms),
             f"<= dispatch + {1e3 * BLOCK_SIZE / SAMPLE_RATE:.2f} ms (1 block)"),
            ("  sent -> voice start heard at the DAC p50 / p99 / max", stats(heard_ms),
             f"<= {1e3 * lead_frames / SAMPLE_RATE:.2f} ms + dispatch (lead: DAC ahead + 2 blocks)"),
            ("  heard jitter p99 - p50 / late notes (bridge)",
             f"{np.percentile(heard_ms, 99) - np.percentile(heard_ms, 50):.2f} ms / "
             + (f"{counters.get('c_notes_late', 0)} of {counters.get('c_notes_scheduled', 0)} (C path)" if in_c else
              f"{counters.get('late', 0)} of {counters.get('timed', 0)} timed"
              + (" (--asap: not timed)" if args.asap else f" (lead {lead_ms_used:g} ms)")),
             "<= 1 ms / 0"),
            (f"knob: {len(knobs['moves'])} single CC {KNOB_CC} moves, new buffers seen",
             f"{len(move_ms)} (renders done in all: {renders}; render p50 / p99 "
             f"{status['render_ms_p50']:.1f} / {status['render_ms_p99']:.1f} ms)", "one per move"),
            ("  CC sent -> Engine.set_direction p50 / p99 / max", stats(move_dispatch_ms, 3), "~1 ms"),
            ("  CC sent -> new pad buffer p50 / p99 / max", stats(move_ms, 1), "dispatch + one render"),
            (f"knob: {len(knobs['sweeps'])} sweeps x {args.sweep_values} values "
             f"@ {args.sweep_step_ms:g} ms: buffers / sweep",
             f"min {min(per_sweep, default=0)}, max {max(per_sweep, default=0)} "
             f"(knob values applied {counters['knob_applied']}, coalesced {counters['knob_coalesced']})",
             "a few (50 values/s/knob)"),
            ("  each value sent -> next new buffer p50 / p99 / max", stats(sweep_ms, 1) + f" (n {len(sweep_ms)}"
             f" of {sweep_values})", "<= 20 ms + one render"),
            ("  last value sent -> settled buffer p50 / p99 / max", stats(settle_ms, 1),
             "<= 20 ms + one render"),
            ("  final buffer = render of the last CC value", "yes" if final_ok else "NO", "yes"),
            ("MIDI received / dropped / errors / rejected",
             f"{counters['received']} / {counters['dropped']} / {counters['errors']} / {counters['rejected']}",
             "- / 0 / 0 / 0"),
            ("underflows (whole run) / late starts / dropped commands",
             f"{after['underflows'] - before['underflows']} / {after['late_starts'] - before['late_starts']} / "
             f"{after['commands_dropped'] - before['commands_dropped']}", "0 / 0 / 0"),
            ("  jackd xruns: ours running / ours not woken / others", f"{running} / {not_woken} / {others}",
             "0 / - / -"),
            ("  max callback", f"{after['max_callback_ns'] / 1e3:.0f} us",
             f"<< {BLOCK_SIZE / SAMPLE_RATE * 1e6:.0f} us"),
        ]
        print(f"ganshot MIDI bench: JACK dummy {SAMPLE_RATE} Hz, block {BLOCK_SIZE}, output latency "
              f"{latency_s * 1e3:.2f} ms (PortAudio), DAC {ahead_s * 1e3:.2f} ms ahead of the callback; model "
              f"{bundle.name} (default kit, {runtime.name}, {args.threads} thread, CPU; GPU: not lent to this "
              f"task), loaded in {load_s:.1f} s; Engine + MIDI bridge (JACK MIDI virtual input 'ganshot') in one "
              f"process as in `ganshot serve`, the rtmidi sender in another; buffer poll {args.poll_ms:g} ms; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        width = max(len(r[0]) for r in rows)
        print(f"{'metric':<{width}}  {'value':<58} target")
        for name, value, target in rows:
            print(f"{name:<{width}}  {value:<58} {target}")
    finally:
        stop_process(sender)
        close_all(midi, engine, jackd=jackd, workdir=workdir)


if __name__ == "__main__":
    main()
