"""Handlers of the engine subcommands: serve, render, export-kit, explore.

Imported only when one of them runs; none of them imports ganshot.training.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from ganshot.engine.errors import UserInputError

__all__ = ["cmd_serve", "cmd_render", "cmd_export_kit", "cmd_explore", "DEMO_PATTERN"]

STATUS_INTERVAL_S = 0.5
#: --demo: one bar of 16 sixteenth notes at 120 bpm, as (step, GM note, velocity 0..1).
DEMO_PATTERN = tuple(
    [(s, 36, 1.0) for s in (0, 6, 8)] + [(s, 38, 0.9) for s in (4, 12)]
    + [(s, 42, 0.5 + 0.3 * (s % 4 == 0)) for s in range(0, 16, 2)] + [(14, 46, 0.7)]
)
DEMO_STEP_S = 0.125


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "pad"


def _load(args):
    from ganshot.engine.presets import load_model_and_kit

    return load_model_and_kit(getattr(args, "kit", None), getattr(args, "model", None))


def _engine(args, loaded=None, **kwargs):
    from ganshot.engine.engine import Engine

    bundle, kit = loaded or _load(args)
    return Engine(bundle, kit, sample_rate=args.sample_rate, backend=getattr(args, "backend", "auto"), **kwargs)


def _status_line(engine, device_name: str) -> str:
    s = engine.status()
    p50 = "-" if s["render_ms_p50"] != s["render_ms_p50"] else f"{s['render_ms_p50']:.1f}"
    return (f"voices {s['voices']:2d} | underflows {s['underflows']} | late {s['late']} | render {p50} ms "
            f"| {s['backend']} | {device_name} @ {s['sample_rate']} Hz")


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
    from ganshot._signals import StopSignals

    with StopSignals() as stop:  # SIGTERM and SIGHUP stop like Ctrl-C: the recording is finished
        return _serve(args, stop)


def _say(line: str, end: str = "\n") -> None:
    """A line on stderr; a terminal already gone (SIGHUP) must not stop the clean-up."""
    try:
        print(line, end=end, file=sys.stderr, flush=True)
    except OSError:
        pass


def _serve(args, stop) -> int:
    from contextlib import ExitStack

    from ganshot.engine.audio_stream import AudioStream, check_block_size, check_output_settings, resolve_output_device

    check_block_size(args.block_size)
    if args.kit is None and args.kit_set:  # a kit set alone: serve starts on (and loads the model of) its first kit
        from ganshot.bridges.midi.kitset import first_kit_path

        args.kit = str(first_kit_path(args.kit_set))
    loaded = _load(args)  # kit and model are checked first (cheap), then the device,
    device = resolve_output_device(args.device)
    check_output_settings(device, args.sample_rate, args.block_size)  # before the slow warm-up
    engine = _engine(args, loaded)  # then the engine renders the pads
    with ExitStack() as cleanup:  # undone last-first, each step even if another fails
        cleanup.callback(engine.close)
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

            osc = start_osc(engine, args)  # after stream.start(): timetags need the running stream clock
            if osc is not None:
                cleanup.callback(osc.close)
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

    if args.midi_channel is not None and not 1 <= args.midi_channel <= 16:
        raise UserInputError(f"--midi-channel must be 1..16, got {args.midi_channel}")
    engine = _engine(args)
    try:
        started = time.monotonic()
        channel = None if args.midi_channel is None else args.midi_channel - 1
        out = render_midi_file(engine, args.midi, args.out, channel=channel, block_size=args.block_size)
        seconds = engine.mixer.frame / engine.sample_rate
        took = time.monotonic() - started
        print(f"ganshot: wrote {out} ({seconds:.2f} s of audio in {took:.2f} s)", file=sys.stderr)
    finally:
        engine.close()
    return 0


def cmd_export_kit(args) -> int:
    from ganshot.engine.latent import db_to_gain
    from ganshot.engine.offline import write_wav

    engine = _engine(args)
    try:
        out_dir = Path(args.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for index, pad in enumerate(engine.kit.pads):
            buffer = engine.pad_buffer(index) * float(db_to_gain(pad.gain_db))
            path = write_wav(out_dir / f"{pad.note:02d}_{_slug(pad.name)}.wav", buffer, engine.sample_rate, "PCM_24")
            print(path)
    finally:
        engine.close()
    return 0


MAX_STRIP = 256  # --direction: at most this many one-shots (the contact sheet is one row of them)
STRIP_FORMAT, STRIP_VERSION = "ganshot-strip", 1


def _strip_latents(bundle, direction: int, seed: int, count: int):
    """``(coefficients, sigma, latents)``: the z of ``seed`` with knob ``direction`` at ``count`` values, -1 to +1.

    Each latent is what :meth:`Engine.pad_latent` renders for a pad with that seed and
    directions ``[0, ..., 0, c]``: z moves by ``c · DIRECTION_RANGE_SIGMAS · σ_k`` along the
    bundle's direction k, or along latent axis k with σ = 1 when the bundle has no directions.
    """
    import numpy as np

    from ganshot.engine.engine import DIRECTION_RANGE_SIGMAS
    from ganshot.engine.latent import apply_directions, seeded_latent

    found = bundle.directions
    total = bundle.latent_dim if found is None else len(found["vectors"])
    if isinstance(direction, bool) or not 0 <= direction < total:
        has = f"{total} directions" if found is not None else f"no directions; its {total} latent axes stand in"
        raise UserInputError(f"--direction must be in 0..{total - 1} (model {bundle.name!r} has {has}), "
                             f"got {direction}")
    knobs = direction + 1
    vectors = None if found is None else np.asarray(found["vectors"], np.float32)[:knobs]
    sigmas = np.ones(knobs, np.float32) if found is None else np.asarray(found["sigmas"], np.float32)[:knobs]
    z0 = seeded_latent(seed, bundle.latent_dim, bundle.latent_distribution)
    coefficients = [float(c) for c in np.linspace(-1.0, 1.0, count)]
    latents = []
    for c in coefficients:
        knob = np.zeros(knobs, np.float32)
        knob[direction] = c
        latents.append(apply_directions(z0, vectors, knob, sigmas * DIRECTION_RANGE_SIGMAS))
    return coefficients, float(sigmas[direction]), latents


def _render_one_shots(bundle, args, latents, paths) -> list:
    """Render each latent to its WAV path; returns their spectrograms (the band the model can produce)."""
    from ganshot.engine.offline import write_wav
    from ganshot.engine.render_worker import RenderWorker
    from ganshot.engine.runtime import load_generator_runtime
    from ganshot.engine.spectrogram import spectrogram_image

    runtime = load_generator_runtime(bundle, backend=args.backend)
    worker = RenderWorker(runtime, bundle.sha256, args.sample_rate)
    keep = min(1.0, bundle.sample_rate / args.sample_rate)  # rows below the model's Nyquist
    images = []
    try:
        for z, path in zip(latents, paths):
            buffer = worker.render_now(z)
            write_wav(path, buffer, args.sample_rate, "PCM_24")
            image = spectrogram_image(buffer)
            images.append(image[-max(1, int(image.shape[0] * keep)):])
    finally:
        worker.close()
    return images


def cmd_explore(args) -> int:
    import json

    from ganshot.engine.atomic import atomic_write_text
    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.kit import save_kit
    from ganshot.engine.latent import seeded_latent
    from ganshot.engine.presets import default_kit_path, load_model_and_kit, resolve_bundle, seeded_kit
    from ganshot.engine.spectrogram import contact_sheet, write_png

    strip = args.direction is not None
    low, high = (2, MAX_STRIP) if strip else (1, 10000)
    if not low <= args.num <= high:
        raise UserInputError(f"-n must be in {low}..{high}{' with --direction' if strip else ''}, got {args.num}")
    bundle = load_bundle(resolve_bundle(args.model)) if args.model else load_model_and_kit(default_kit_path())[0]
    if strip:  # every check before the output folder is made
        coefficients, sigma, latents = _strip_latents(bundle, args.direction, args.seed, args.num)
        names = [f"dir{args.direction:02d}_{i:03d}_c{c:+.3f}.wav" for i, c in enumerate(coefficients)]
    else:
        seeds = [args.seed + i for i in range(args.num)]
        latents = [seeded_latent(seed, bundle.latent_dim, bundle.latent_distribution) for seed in seeds]
        names = [f"seed_{seed:06d}.wav" for seed in seeds]
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    images = _render_one_shots(bundle, args, latents, [out_dir / name for name in names])
    sheet = write_png(out_dir / "contact_sheet.png", contact_sheet(images, columns=len(images) if strip else 8))
    if strip:
        meta = {"format": STRIP_FORMAT, "version": STRIP_VERSION, "model": bundle.name, "model_sha256": bundle.sha256,
                "seed": args.seed, "direction": args.direction, "sigma": sigma, "coefficients": coefficients,
                "files": names}
        listing = atomic_write_text(out_dir / "strip.json", json.dumps(meta, indent=2) + "\n")
        print(f"ganshot: {len(names)} one-shots along direction {args.direction} (seed {args.seed}), {sheet.name}, "
              f"{listing.name} in {out_dir}", file=sys.stderr)
        return 0
    kit = seeded_kit(bundle, seeds[:16], name=f"explore seed {args.seed}", model_path=str(bundle.path.resolve()))
    kit_path = save_kit(kit, out_dir / "kit.json")
    print(f"ganshot: {len(seeds)} one-shots, {sheet.name}, {kit_path.name} in {out_dir}", file=sys.stderr)
    return 0


def add_engine_commands(sub, fmt) -> None:
    """Register serve, render, export-kit and explore on the ``ganshot`` subparsers."""
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

    from ganshot.bridges.midi.cli import add_midi_arguments, add_midi_ports_command  # argparse only
    from ganshot.bridges.osc.cli import add_osc_arguments  # stdlib-only import: no numpy, no torch

    add_osc_arguments(serve)
    add_midi_arguments(serve)
    serve.set_defaults(handler=cmd_serve)
    add_midi_ports_command(sub, fmt)

    render = sub.add_parser("render", help="render a MIDI file through a kit to WAV, offline", formatter_class=fmt)
    render.add_argument("kit", help="kit JSON")
    render.add_argument("--midi", required=True, help="standard MIDI file (note-ons trigger pads by note)")
    render.add_argument("-o", "--out", required=True, help="output WAV (32-bit float)")
    render.add_argument("--model", default=None, help="model bundle (default: the kit's)")
    render.add_argument("--sample-rate", type=int, default=48000, help="Hz")
    render.add_argument("--block-size", type=int, default=1024, help="frames per mixed block")
    render.add_argument("--midi-channel", type=int, default=None, metavar="1-16",
                        help="render notes of this MIDI channel only (10: GM drums); default: every channel")
    render.add_argument("--backend", choices=("auto", "onnx", "torch"), default="onnx", help="generator backend")
    render.set_defaults(handler=cmd_render)

    export_kit = sub.add_parser("export-kit", help="one WAV per pad (NN_name.wav) for a DAW sampler", formatter_class=fmt)
    export_kit.add_argument("kit", help="kit JSON")
    export_kit.add_argument("out_dir", help="output folder")
    export_kit.add_argument("--model", default=None, help="model bundle (default: the kit's)")
    export_kit.add_argument("--sample-rate", type=int, default=48000, help="Hz")
    export_kit.add_argument("--backend", choices=("auto", "onnx", "torch"), default="onnx", help="generator backend")
    export_kit.set_defaults(handler=cmd_export_kit)

    explore = sub.add_parser(
        "explore", help="N random one-shots, a spectrogram sheet and a kit; or a strip along one direction knob",
        description="Writes seed_SSSSSS.wav for seeds --seed .. --seed+N-1, contact_sheet.png and kit.json (the "
        "first 16). With --direction K: the one-shot of --seed as knob K turns from -1 to +1 in N even steps "
        "(each moves z by c * 3 sigma_K, as the kit knob does), written as dirKK_III_c+0.500.wav (III the step "
        "0.., c the knob value to 3 decimals), a one-row contact_sheet.png in knob order and strip.json "
        "(seed, direction, sigma, coefficients, files); no kit.json.", formatter_class=fmt)
    explore.add_argument("-n", "--num", type=int, default=32,
                         help=f"how many one-shots (1-10000; with --direction 2-{MAX_STRIP} knob steps)")
    explore.add_argument("-o", "--out", required=True, help="output folder")
    explore.add_argument("--seed", type=int, default=0,
                         help="first seed (one-shot i uses seed + i); with --direction the strip's one seed")
    explore.add_argument("--direction", type=int, default=None, metavar="K",
                         help="render a strip along latent direction K (0-based; the model's directions, "
                         "else its latent axes) instead of random seeds")
    explore.add_argument("--model", default=None, help="model bundle (default: the default kit's)")
    explore.add_argument("--sample-rate", type=int, default=48000, help="Hz")
    explore.add_argument("--backend", choices=("auto", "onnx", "torch"), default="onnx", help="generator backend")
    explore.set_defaults(handler=cmd_explore)
