"""Offline rendering through the live code path: MIDI file -> events -> C mixer -> WAV.

The events go through :meth:`Engine.trigger_note` and the same C mixer
(``ganshot_mix``) that the audio callback runs, block by block, with each event
pushed shortly before its block is mixed, exactly as a live performance with
scheduled events. So a file rendered here and the same events played live (and
captured from JACK) are sample-identical once their starts are aligned.

Cheat sheet::

    events = midi_events("groove.mid")               # [(time_s, note, velocity 0..127), ...]
    audio = render_events(engine, events)            # float32[frames, 2] at engine.sample_rate
    render_midi_file(engine, "groove.mid", "groove.wav")
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .atomic import atomic_write_bytes
from .errors import FormatError, UserInputError
from .limits import check_int

__all__ = ["midi_events", "render_events", "render_midi_file", "write_wav", "MAX_MIDI_BYTES"]

MAX_MIDI_BYTES = 16 * 1024 * 1024
MAX_RENDER_S = 3600.0
LOOKAHEAD_BLOCKS = 2  # events are queued this many blocks before they sound, like live scheduling


def midi_events(path, channel: int | None = None) -> list[tuple[float, int, int]]:
    """Note-ons of a standard MIDI file as ``(time_s, note, velocity)``, tempo-aware, sorted.

    ``channel`` (0-15) keeps one channel only; None keeps all. Note-offs are ignored
    (one-shots). A corrupt or oversized file raises FormatError naming it.
    """
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
            if message.type == "note_on" and message.velocity > 0:
                if channel is None or message.channel == channel:
                    events.append((now, message.note, message.velocity))
    except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError) as err:
        raise FormatError(f"{path}: not a readable MIDI file ({err})") from None
    if now > MAX_RENDER_S:
        raise UserInputError(f"{path}: lasts {now:.0f} s; offline renders are limited to {MAX_RENDER_S:.0f} s")
    return sorted(events, key=lambda e: e[0])


def render_events(engine, events, block_size: int = 1024, tail_s: float | None = None) -> np.ndarray:
    """Render ``(time_s, note, velocity 0..127)`` events -> float32[frames, 2].

    Time 0 is the first frame of the result. The result runs until the last voice has
    ended (or ``tail_s`` after the last event when given).
    """
    check_int(block_size, "block_size", 1, 65536)
    engine.wait_ready()
    rate, mixer = engine.sample_rate, engine.mixer
    base = mixer.frame
    timed = [(base + int(round(t * rate)), note, velocity) for t, note, velocity in events]
    longest = engine.longest_buffer_frames()
    last = timed[-1][0] - base if timed else 0
    total = last + (int(round(tail_s * rate)) if tail_s is not None else longest + block_size)
    out = np.zeros((total, 2), dtype=np.float32)
    done, next_event = 0, 0
    while done < total:
        frames = min(block_size, total - done)
        horizon = mixer.frame + frames + LOOKAHEAD_BLOCKS * block_size
        while next_event < len(timed) and timed[next_event][0] < horizon:
            frame, note, velocity = timed[next_event]
            engine.trigger_note(note, velocity / 127.0, at_frame=frame)
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
    audio = render_events(engine, midi_events(midi_path, channel), block_size=block_size)
    return write_wav(os.fspath(out_path), audio, engine.sample_rate)
