"""Offline rendering through the live code path: MIDI file -> events -> C mixer -> WAV.

The events go through :meth:`Engine.trigger_note` and the same C mixer
(``ganshot_mix``) that the audio callback runs, block by block, with each event
pushed shortly before its block is mixed, exactly as a live performance with
scheduled events. So a file rendered here and the same events played live (and
captured from JACK) are sample-identical once their starts are aligned.

Cheat sheet::

    events = midi_events("groove.mid")               # [(time_s, note, velocity 0..127), ...]: note-ons
    audio = render_events(engine, events)            # float32[frames, 2] at engine.sample_rate
    events = midi_note_events("tune.mid")            # [(time_s, "on"|"off"|"sustain", note|64, value, channel)]
    audio = render_events(engine, events)            # instrument notes held until their note-off
    render_midi_file(engine, "tune.mid", "tune.wav") # note-offs and the sustain pedal honoured

Each event lands on frame ``round(time_s * sample_rate)`` of the result: a note-on starts its
voice there, a note-off starts the release fade of an instrument note there (drum pads ignore
note-offs), CC 64 moves the sustain pedal there (Engine.note_on / note_off / sustain).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .atomic import atomic_write_bytes
from .errors import FormatError, UserInputError
from .instrument import SUSTAIN_CC
from .limits import check_int

__all__ = ["midi_events", "midi_note_events", "render_events", "render_midi_file", "write_wav", "MAX_MIDI_BYTES",
           "EVENT_KINDS"]

MAX_MIDI_BYTES = 16 * 1024 * 1024
MAX_RENDER_S = 3600.0
LOOKAHEAD_BLOCKS = 2  # events are queued this many blocks before they sound, like live scheduling
#: What each kind of event does: (engine, note or CC number, value 0..127, channel, frame).
EVENT_KINDS = {
    "on": lambda engine, note, velocity, channel, frame: engine.note_on(note, velocity / 127.0, channel, frame),
    "off": lambda engine, note, _, channel, frame: engine.note_off(note, channel, frame),
    "sustain": lambda engine, _, value, channel, frame: engine.sustain(value >= 64, channel, frame),
}


def midi_events(path, channel: int | None = None) -> list[tuple[float, int, int]]:
    """Note-ons of a standard MIDI file as ``(time_s, note, velocity)``, tempo-aware, sorted.

    ``channel`` (0-15) keeps one channel only; None keeps all. Note-offs are ignored
    (one-shots). A corrupt or oversized file raises FormatError naming it.
    """
    return [(t, note, value) for t, kind, note, value, _ in midi_note_events(path, channel) if kind == "on"]


def _kind(message) -> str | None:
    if message.type == "note_on":
        return "on" if message.velocity > 0 else "off"
    if message.type == "note_off":
        return "off"
    if message.type == "control_change" and message.control == SUSTAIN_CC:
        return "sustain"
    return None


def midi_note_events(path, channel: int | None = None) -> list[tuple[float, str, int, int, int]]:
    """Note-ons, note-offs (and note-ons of velocity 0) and sustain-pedal moves (CC 64) of a
    standard MIDI file as ``(time_s, kind, number, value, channel)``, ``kind`` one of
    :data:`EVENT_KINDS` ("on": note and velocity 0..127, "off": note and 0, "sustain": 64 and the
    CC value), tempo-aware, sorted by time (file order within a time). ``channel`` (0-15) keeps one
    channel only. A corrupt or oversized file raises FormatError naming it."""
    import mido

    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: no such MIDI file")
    if path.stat().st_size > MAX_MIDI_BYTES:
        raise FormatError(f"{path}: larger than {MAX_MIDI_BYTES} bytes")
    try:
        midi = mido.MidiFile(path, clip=True)
        events, now = [], 0.0
        for message in midi:  # merged tracks, delta times in seconds with tempo changes applied
            now += message.time
            kind = _kind(message)
            if kind is not None and (channel is None or message.channel == channel):
                number = message.control if kind == "sustain" else message.note
                value = 0 if kind == "off" else (message.value if kind == "sustain" else message.velocity)
                events.append((now, kind, number, value, message.channel))
    except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError) as err:
        raise FormatError(f"{path}: not a readable MIDI file ({err})") from None
    if now > MAX_RENDER_S:
        raise UserInputError(f"{path}: lasts {now:.0f} s; offline renders are limited to {MAX_RENDER_S:.0f} s")
    return sorted(events, key=lambda e: e[0])


def render_events(engine, events, block_size: int = 1024, tail_s: float | None = None) -> np.ndarray:
    """Render ``(time_s, note, velocity 0..127)`` note-ons, or :func:`midi_note_events`' ``(time_s,
    kind, number, value, channel)``, -> float32[frames, 2].

    Time 0 is the first frame of the result. The result runs until the last voice has
    ended (or ``tail_s`` after the last event when given).
    """
    check_int(block_size, "block_size", 1, 65536)
    engine.wait_ready()
    rate, mixer = engine.sample_rate, engine.mixer
    base = mixer.frame
    timed = [(base + int(round(e[0] * rate)), *(e[1:] if len(e) == 5 else ("on", e[1], e[2], None))) for e in events]
    longest = engine.longest_buffer_frames()
    if tail_s is not None:
        total = (timed[-1][0] - base if timed else 0) + int(round(tail_s * rate))
    else:  # every voice has ended by its start + the longest buffer (a release ends inside it)
        starts = [e[0] for e in timed if e[1] == "on"] or [e[0] for e in timed]
        total = (max(starts) - base if starts else 0) + longest + block_size
    out = np.zeros((total, 2), dtype=np.float32)
    done, next_event = 0, 0
    while done < total:
        frames = min(block_size, total - done)
        horizon = mixer.frame + frames + LOOKAHEAD_BLOCKS * block_size
        while next_event < len(timed) and timed[next_event][0] < horizon:
            frame, kind, number, value, channel = timed[next_event]
            EVENT_KINDS[kind](engine, number, value, channel, frame)
            next_event += 1
        out[done:done + frames] = mixer.render(frames)
        done += frames
    return out


def write_wav(path, audio: np.ndarray, sample_rate: int, subtype: str = "FLOAT") -> Path:
    """Write float32[frames, channels] as WAV atomically (temp file, fsync, replace)."""
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, audio, int(sample_rate), format="WAV", subtype=subtype)
    return atomic_write_bytes(path, buffer.getvalue())


def render_midi_file(engine, midi_path, out_path, channel: int | None = None, block_size: int = 1024) -> Path:
    """Render a MIDI file through ``engine``'s kit and write a float WAV; returns its path."""
    audio = render_events(engine, midi_note_events(midi_path, channel), block_size=block_size)
    return write_wav(os.fspath(out_path), audio, engine.sample_rate)
