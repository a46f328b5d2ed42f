"""``ganshot export-kit``: the kit as WAV files plus an SFZ file that maps them, for any sampler.

Layout of ``OUT``::

    36_kick.wav                  a drum pad: one WAV named by its note and name (as before)
    60_sax/048_C3.wav ...        an instrument pad: one WAV per note of its range, in its folder
    <kit>.sfz                    every WAV on its key (engine/sfz.py has the opcode table)

Each WAV is exactly what the engine plays at velocity 127 (the pad's gain included), written
atomically, 24-bit PCM at ``--sample-rate``. Instrument notes are rendered ahead when the kit
loads; the export waits for all of them (``--timeout`` seconds, then a clear error naming the
notes still missing).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

__all__ = ["export_kit", "slug"]

PCM = "PCM_24"
DEFAULT_READY_TIMEOUT_S = 600.0


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "pad"


def _drum_pad(engine, index: int, pad, out_dir: Path, gain: float) -> dict[int, str]:
    from ganshot.engine.offline import write_wav

    name = f"{pad.note:02d}_{slug(pad.name)}.wav"
    print(write_wav(out_dir / name, engine.pad_buffer(index) * gain, engine.sample_rate, PCM))
    return {pad.note: name}


def _instrument_pad(engine, index: int, pad, out_dir: Path, gain: float) -> dict[int, str]:
    from ganshot.engine.offline import write_wav
    from ganshot.engine.sfz import note_name

    folder = f"{pad.note:02d}_{slug(pad.name)}"
    (out_dir / folder).mkdir(parents=True, exist_ok=True)
    samples, missing = {}, []
    for note in pad.instrument.notes:
        buffer = engine.instrument_note_buffer(index, note)
        if buffer is None:
            missing.append(note)
            continue
        name = f"{folder}/{note:03d}_{note_name(note).replace('#', 's')}.wav"
        write_wav(out_dir / name, buffer * gain, engine.sample_rate, PCM)
        samples[note] = name
    if missing:
        from ganshot.engine.errors import GanshotError

        raise GanshotError(f"pads[{index}] ({pad.name or 'unnamed'}): notes {missing[:8]}"
                           f"{'...' if len(missing) > 8 else ''} were not rendered in time")
    print(f"{out_dir / folder}/ ({len(samples)} notes)")
    return samples


def export_kit(engine, out_dir, timeout_s: float = DEFAULT_READY_TIMEOUT_S) -> Path:
    """Write every pad of ``engine``'s kit (and every note of its instruments) and the .sfz file;
    returns the .sfz path."""
    from ganshot.engine.atomic import atomic_write_text
    from ganshot.engine.errors import GanshotError
    from ganshot.engine.latent import db_to_gain
    from ganshot.engine.sfz import regions_for_pad, sfz_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not engine.wait_ready(timeout_s):
        raise GanshotError(f"the kit's sounds were not all rendered within {timeout_s:g} s")
    kit, regions, names = engine.kit, [], {}
    for index, pad in enumerate(kit.pads):
        gain = float(db_to_gain(pad.gain_db))
        write = _drum_pad if pad.instrument is None else _instrument_pad
        regions += regions_for_pad(pad, index, write(engine, index, pad, out_dir, gain))
        names[index] = pad.name
    header = f"model {kit.model.name} (model.json sha256 {kit.model.sha256}), {engine.sample_rate} Hz"
    path = atomic_write_text(out_dir / f"{slug(kit.name)}.sfz", sfz_text(kit.name, regions, names, header))
    print(path, file=sys.stdout)
    return path
