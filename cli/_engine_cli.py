"""Handlers of the engine subcommands: serve, render, export-kit (explore: :mod:`._explore_cli`).

Imported only when one of them runs; none of them imports ganshot.training, but for
``render --pattern``, which imports the torch-free ganshot.training.patterns.{bundle,generate}.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ganshot.engine.limits import MAX_CHANNEL, check_float, check_int
from ganshot.engine.tail_gate import DEFAULT_CUT_FADE_MS, MAX_CUT_FADE_MS, MAX_MARGIN_DB, MIN_MARGIN_DB
from ganshot.engine.tail_gate import DEFAULT_MARGIN_DB as DEFAULT_TAIL_GATE_DB

__all__ = ["cmd_serve", "cmd_render", "cmd_export_kit", "DEMO_PATTERN"]

STATUS_INTERVAL_S = 0.5
#: --demo: one bar of 16 sixteenth notes at 120 bpm, as (step, GM note, velocity 0..1).
DEMO_PATTERN = tuple(
    [(s, 36, 1.0) for s in (0, 6, 8)] + [(s, 38, 0.9) for s in (4, 12)]
    + [(s, 42, 0.5 + 0.3 * (s % 4 == 0)) for s in range(0, 16, 2)] + [(14, 46, 0.7)]
)
DEMO_STEP_S = 0.125


def _gate_margin(text: str):
    """--tail-gate-db: a margin in dB, or "off" (None); the range is the tail gate's own."""
    if text.strip().lower() == "off":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of dB or off, got {text!r:.40}") from None
    return check_float(value, "the margin (dB, or off)", MIN_MARGIN_DB, MAX_MARGIN_DB, argparse.ArgumentTypeError)


def _cut_fade(text: str) -> float:
    """--cut-fade-ms: milliseconds, 0 (or off) for none; the range is the cut fade's own."""
    if text.strip().lower() == "off":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"milliseconds or off, got {text!r:.40}") from None
    return check_float(value, "the cut fade (ms, or off)", 0.0, MAX_CUT_FADE_MS, argparse.ArgumentTypeError)


def _load(args):
    from ganshot.engine.presets import load_model_and_kit

    return load_model_and_kit(getattr(args, "kit", None), getattr(args, "model", None))


def _engine(args, loaded=None, **kwargs):
    from ganshot.engine.engine import Engine

    bundle, kit = loaded or _load(args)
    kwargs.setdefault("enhance", not getattr(args, "no_enhance", False))
    if hasattr(args, "tail_gate_db"):
        from ganshot.engine.postprocess import PostProcess

        kwargs.setdefault("post", PostProcess(tail_gate_db=args.tail_gate_db,
                                              extend_bandwidth=not getattr(args, "no_bandwidth_extension", False),
                                              cut_fade_ms=getattr(args, "cut_fade_ms", DEFAULT_CUT_FADE_MS)))
    return Engine(bundle, kit, sample_rate=args.sample_rate, backend=getattr(args, "backend", "auto"), **kwargs)


def _status_line(engine, device_name: str) -> str:
    s = engine.status()
    p50 = "-" if s["render_ms_p50"] != s["render_ms_p50"] else f"{s['render_ms_p50']:.1f}"
    limit = f"limit -{s['limiter_max_db']:.1f} dB | " if s["limiter_max_db"] > 0.05 else ""  # the most, since start
    enhance = s.get("enhance_ms_p50", float("nan"))
    enhance = f" (enhance {enhance:.1f})" if s.get("enhancer") and enhance == enhance else ""
    total = s.get("instrument_notes_total", 0)  # instrument pads: notes rendered ahead so far
    notes = f"notes {s['instrument_notes_ready']}/{total} | " if total else ""
    return (f"voices {s['voices']:2d} | underflows {s['underflows']} | late {s['late']} | render {p50} ms{enhance} "
            f"| {notes}{limit}{s['backend']} | {device_name} @ {s['sample_rate']} Hz")


def cmd_serve(args) -> int:
    from ganshot.engine.audio_stream import list_output_devices

    if args.list_devices:
        devices = list_output_devices()
        for dev in devices:
            print(f"{dev['index']:3d}  {dev['name']}  ({dev['hostapi']}, {dev['channels']} out)")
        if not devices:
            print("ganshot: no output devices found; no sound card? start JACK: jackd -d dummy -r 48000 -p 128 &",
                  file=sys.stderr)
        return 0
    from ganshot._signals import StopSignals, ignore_stop_signals

    try:
        with StopSignals() as stop:  # SIGTERM and SIGHUP stop like Ctrl-C: the recording is finished
            return _serve(args, stop)
    finally:
        if stop.is_stopping:  # the process exits in moments: a late signal of a burst must not kill it now
            ignore_stop_signals()


def _say(line: str, end: str = "\n") -> None:
    """A line on stderr; a terminal already gone (SIGHUP) must not stop the clean-up."""
    try:
        print(line, end=end, file=sys.stderr, flush=True)
    except OSError:
        pass


def _fixed_mmap_threshold(threshold_bytes: int = 128 * 1024) -> bool:
    """glibc raises its mmap threshold each time a large block is freed, after which pad buffers
    (100-400 kB, made and dropped all set long by knobs and model swaps) come from the heap and
    fragment it: the soak grew 300 -> 1,160 MiB in 6 min, and stayed near 570 MiB with the
    threshold fixed (the same as MALLOC_MMAP_THRESHOLD_=131072). False where there is no glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(-3, threshold_bytes))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def _serve(args, stop) -> int:
    from contextlib import ExitStack

    from ganshot.engine.audio_stream import AudioStream, check_block_size, check_output_settings, resolve_output_device

    check_block_size(args.block_size)
    from ganshot.bridges.web.cli import check_web_arguments

    check_web_arguments(args)  # --web with --no-osc is refused before the slow warm-up
    _fixed_mmap_threshold()  # hours of knob renders and model swaps without the heap creeping up
    if args.kit is None and args.kit_set:  # a kit set alone: serve starts on (and loads the model of) its first kit
        from ganshot.bridges.midi.kitset import first_kit_path

        args.kit = str(first_kit_path(args.kit_set))
    loaded = _load(args)  # kit and model are checked first (cheap), then the device,
    device = resolve_output_device(args.device)
    check_output_settings(device, args.sample_rate, args.block_size)  # before the slow warm-up
    engine = _engine(args, loaded)  # then the engine renders the pads
    with ExitStack() as cleanup:  # undone last-first, each step even if another fails
        cleanup.callback(engine.close)
        if args.map is not None:
            engine.load_map(args.map)
            _say(f"ganshot: timbre map {engine.timbre_map.path} ({len(engine.timbre_map.seeds)} points) for /pad/xy")
        runtime = engine.runtime
        figures = f" ({runtime.timings_summary})" if runtime.timings else ""
        _say(f"ganshot: model {engine.bundle.name}, kit {engine.kit.name!r} ({len(engine.kit.pads)} pads), "
             f"backend {runtime.name}{figures}")
        stream = AudioStream(engine.mixer, device=device, sample_rate=args.sample_rate, block_size=args.block_size)
        cleanup.callback(_close_stream, engine, stream)
        engine.stream = stream
        try:
            stream.start()
            if args.record:
                from ganshot.engine.recorder import Recorder

                recorder = Recorder(engine.mixer, args.record)
                recorder.start()
                cleanup.callback(_finish_recording, recorder)
                _say(f"ganshot: recording to {args.record} (while recording: {recorder.partial_path.name})")
            from ganshot.bridges.midi.cli import start_midi
            from ganshot.bridges.osc.cli import start_osc

            from ganshot._live_patterns import start_live_patterns

            for close in start_live_patterns(engine, args, _say):  # engine.patterns, before OSC can ask for it
                cleanup.callback(close)
            osc = start_osc(engine, args)  # after stream.start(): timetags need the running stream clock
            if osc is not None:
                cleanup.callback(osc.close)
            from ganshot.bridges.web.cli import start_web

            web = start_web(engine, osc, args)  # None without --web; its commands go to the OSC server
            if web is not None:
                cleanup.callback(web.close)  # closed before the OSC server it sends to
            midi = start_midi(engine, args)  # None with --no-midi, or (with a warning) when no MIDI system works
            if midi is not None:
                cleanup.callback(midi.close)
            _serve_loop(engine, stream, demo=args.demo, duration_s=args.duration)
        except KeyboardInterrupt:
            pass
        finally:
            stop.stopping()  # a second Ctrl-C / SIGTERM must not cut the clean-up short
    how = f" ({', '.join(stop.received)})" if stop.received else ""
    _say(f"\nganshot: stopped{how}")
    return 0


def _close_stream(engine, stream) -> None:
    from ganshot._signals import held_signals

    with held_signals():  # a second stop signal must not interrupt libjack while the stream closes
        try:
            stream.stop()
        finally:
            stream.close()
            engine.stream = None


def _finish_recording(recorder) -> None:
    recorder.close()
    _say(f"\nganshot: recorded {recorder.path} ({recorder.frames_written / recorder.mixer.sample_rate:.1f} s)")


def _serve_loop(engine, stream, demo: bool, duration_s: float | None) -> None:
    started = time.monotonic()
    next_status = started
    bar_frames = int(round(16 * DEMO_STEP_S * engine.sample_rate))
    next_bar = stream.mixer.frame + stream.lead_frames if demo else None
    interactive = sys.stderr.isatty()
    while duration_s is None or time.monotonic() - started < duration_s:
        if next_bar is not None and next_bar - engine.mixer.frame < bar_frames:  # schedule one bar ahead
            step_frames = bar_frames / 16
            for step, note, velocity in DEMO_PATTERN:
                engine.trigger_note(note, velocity, at_frame=next_bar + int(round(step * step_frames)))
            next_bar += bar_frames
        now = time.monotonic()
        if now >= next_status:
            line = _status_line(engine, stream.device_name)
            print(("\r" + line) if interactive else line, end="" if interactive else "\n", file=sys.stderr, flush=True)
            next_status = now + (STATUS_INTERVAL_S if interactive else 5.0)
        time.sleep(0.05)


def cmd_render(args) -> int:
    from ganshot.engine.offline import render_midi_file

    from ganshot._pattern_render import check_render_source, pattern_render_events

    check_render_source(args)
    if args.midi_channel is not None:
        check_int(args.midi_channel, "--midi-channel", 1, MAX_CHANNEL + 1)
    events = pattern_render_events(args) if args.pattern else None  # a bad bundle fails before the warm-up
    engine = _engine(args)
    try:
        started = time.monotonic()
        channel = None if args.midi_channel is None else args.midi_channel - 1
        if events is not None:
            from ganshot.engine.offline import render_events, write_wav

            audio = render_events(engine, events, block_size=args.block_size)
            out = write_wav(args.out, audio, engine.sample_rate)
        else:
            out = render_midi_file(engine, args.midi, args.out, channel=channel, block_size=args.block_size)
        seconds = engine.mixer.frame / engine.sample_rate
        took = time.monotonic() - started
        print(f"ganshot: wrote {out} ({seconds:.2f} s of audio in {took:.2f} s)", file=sys.stderr)
    finally:
        engine.close()
    return 0


def cmd_export_kit(args) -> int:
    from ._export_kit import export_kit

    engine = _engine(args)
    try:
        export_kit(engine, args.out_dir)
    finally:
        engine.close()
    return 0


def add_engine_commands(sub, fmt) -> None:
    """Register serve, render, export-kit and explore on the ``ganshot`` subparsers."""
    def no_enhance(p):
        p.add_argument("--no-enhance", action="store_true",
                       help="play the raw generator even when the bundle carries an enhancer (kits: \"enhance\": false)")
        p.add_argument("--tail-gate-db", type=_gate_margin, default=DEFAULT_TAIL_GATE_DB, metavar="DB|off",
                       help="end each one-shot's tail in exact zeros where it sinks to within DB of its own flat "
                            f"noise floor (the generator's hiss; default {DEFAULT_TAIL_GATE_DB:g}); off: keep the tails")
        p.add_argument("--cut-fade-ms", type=_cut_fade, default=DEFAULT_CUT_FADE_MS, metavar="MS|off",
                       help="a one-shot the model's length cuts while it still rings (a crash, an open hat) falls 60 dB "
                            f"over its last MS instead of stopping dead (default {DEFAULT_CUT_FADE_MS:g}); off: none")
        p.add_argument("--no-bandwidth-extension", action="store_true",
                       help="play a low-rate model as it is (no top octave continued above its Nyquist)")

    def common(p, kit=True):
        if kit:
            p.add_argument("--kit", default=None, help="kit JSON (default: presets/kits/default.json)")
        p.add_argument("--model", default=None, help="model bundle folder or name under presets/models (default: the kit's)")
        p.add_argument("--sample-rate", type=int, default=48000, help="output sample rate, Hz")
        p.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto", help="generator backend")

    serve = sub.add_parser("serve", help="play the kit live on an audio device", formatter_class=fmt)
    common(serve)
    serve.add_argument("--device", default=None, help="output device number or name (see --list-devices)")
    serve.add_argument("--list-devices", action="store_true", help="list output devices and exit")
    serve.add_argument("--block-size", type=int, default=128, help="frames per audio block")
    serve.add_argument("--record", default=None, metavar="OUT.wav", help="also record the output to a WAV file")
    serve.add_argument("--demo", action="store_true", help="play a demo beat on the kit")
    serve.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    serve.add_argument("--map", default=None, metavar="DIR|map.json",
                       help="a timbre map of the model (ganshot map) to play pads from by position: OSC /pad/xy")
    no_enhance(serve)

    from ganshot.bridges.midi.cli import add_midi_arguments, add_midi_ports_command  # argparse only
    from ganshot.bridges.osc.cli import add_osc_arguments  # stdlib-only import: no numpy, no torch
    from ganshot.bridges.web.cli import add_web_arguments  # argparse only

    add_osc_arguments(serve)
    add_web_arguments(serve)
    add_midi_arguments(serve)
    from ganshot._live_patterns import add_live_pattern_arguments  # argparse only

    add_live_pattern_arguments(serve)
    serve.set_defaults(handler=cmd_serve)
    add_midi_ports_command(sub, fmt)

    render = sub.add_parser("render", help="render a MIDI file (or a generated pattern) through a kit to WAV, offline",
                            formatter_class=fmt)
    render.add_argument("kit", help="kit JSON")
    render.add_argument("--midi", default=None, help="standard MIDI file (note-ons trigger pads by note)")
    render.add_argument("-o", "--out", required=True, help="output WAV (32-bit float)")
    render.add_argument("--model", default=None, help="model bundle (default: the kit's)")
    render.add_argument("--sample-rate", type=int, default=48000, help="Hz")
    render.add_argument("--block-size", type=int, default=1024, help="frames per mixed block")
    render.add_argument("--midi-channel", type=int, default=None, metavar="1-16",
                        help="render notes of this MIDI channel only (10: GM drums); default: every channel")
    render.add_argument("--backend", choices=("auto", "onnx", "torch"), default="onnx",
                        help="generator backend (offline: no auto timing pass at start-up)")
    no_enhance(render)
    from ganshot._pattern_render import add_pattern_render_arguments

    add_pattern_render_arguments(render)  # --pattern BUNDLE --bars --tempo --seed --switch-bars
    render.set_defaults(handler=cmd_render)

    export_kit = sub.add_parser("export-kit", help="one WAV per pad (NN_name.wav; an instrument pad: one per note) "
                                "and an SFZ file mapping them, for any sampler", formatter_class=fmt)
    export_kit.add_argument("kit", help="kit JSON")
    export_kit.add_argument("out_dir", help="output folder")
    export_kit.add_argument("--model", default=None, help="model bundle (default: the kit's)")
    export_kit.add_argument("--sample-rate", type=int, default=48000, help="Hz")
    export_kit.add_argument("--backend", choices=("auto", "onnx", "torch"), default="onnx", help="generator backend")
    no_enhance(export_kit)
    export_kit.set_defaults(handler=cmd_export_kit)

    from ._explore_cli import add_explore_command  # argparse only

    add_explore_command(sub, fmt)
