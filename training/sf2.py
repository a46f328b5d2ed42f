"""List the presets of a SoundFont 2 file (pure Python, no synthesiser needed).

An SF2 file is a RIFF form ``sfbk`` holding three LIST chunks: ``INFO``
(text), ``sdta`` (the samples, most of the file) and ``pdta`` (the "hydra":
presets, instruments, zones). The preset headers sit in ``pdta/phdr``: 38-byte
records ``name[20], program u16, bank u16, bag u16, library u32, genre u32,
morphology u32`` (little-endian), ending with a terminal record named ``EOP``.

Only the chunk headers and the ``phdr`` chunk are read; the sample data is
seeked over, so listing a 150 MB SoundFont is instant::

    from ganshot.training.sf2 import read_presets, drum_kits
    kits = drum_kits(read_presets("/usr/share/sounds/sf2/FluidR3_GM.sf2"))
    [(k.program, k.name) for k in kits]     # [(0, "Standard"), (8, "Room"), ...]

Anything that is not an SF2 file, or is truncated, raises FormatError.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ganshot.engine.errors import FormatError

__all__ = ["DRUM_BANK", "Preset", "read_presets", "parse_presets", "drum_kits"]

#: Bank number of percussion kits in a GM SoundFont (selected on MIDI channel 10).
DRUM_BANK = 128
PHDR_RECORD = struct.Struct("<20sHHHIII")  # 38 bytes
_CHUNK_HEAD = struct.Struct("<4sI")
_MAX_PRESETS = 65535


@dataclass(frozen=True)
class Preset:
    """One preset header: ``name`` (ASCII, stripped), MIDI ``program`` 0..127, ``bank``."""

    name: str
    program: int
    bank: int

    @property
    def is_drum_kit(self) -> bool:
        return self.bank == DRUM_BANK


def _read_exact(stream: BinaryIO, size: int, where: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise FormatError(f"{where}: file is truncated")
    return data


def _chunks(stream: BinaryIO, start: int, end: int, where: str):
    """Yield (id, data_offset, size) of the RIFF chunks between ``start`` and ``end``."""
    pos = start
    while pos + _CHUNK_HEAD.size <= end:
        stream.seek(pos)
        chunk_id, size = _CHUNK_HEAD.unpack(_read_exact(stream, _CHUNK_HEAD.size, where))
        data_start = pos + _CHUNK_HEAD.size
        if data_start + size > end:
            raise FormatError(f"{where}: chunk {chunk_id!r} runs past its container (truncated file?)")
        yield chunk_id, data_start, size
        pos = data_start + size + (size & 1)  # chunks are padded to an even size


def _decode_name(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def parse_presets(stream: BinaryIO, where: str = "<sf2>") -> list[Preset]:
    """Presets of the SF2 file open in binary ``stream`` (seekable), sorted by (bank, program).

    ``where`` names the file in error messages.
    """
    stream.seek(0, io.SEEK_END)
    file_size = stream.tell()
    stream.seek(0)
    head = stream.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise FormatError(f"{where}: not a SoundFont 2 file (no RIFF 'sfbk' header)")
    (riff_size,) = struct.unpack("<I", head[4:8])
    riff_end = 8 + riff_size
    if riff_end > file_size:
        raise FormatError(f"{where}: file is truncated ({file_size} of {riff_end} bytes)")

    phdr = None
    for chunk_id, data_start, size in _chunks(stream, 12, riff_end, where):
        if chunk_id != b"LIST" or size < 4:
            continue
        stream.seek(data_start)
        if _read_exact(stream, 4, where) != b"pdta":
            continue
        for sub_id, sub_start, sub_size in _chunks(stream, data_start + 4, data_start + size, where):
            if sub_id == b"phdr":
                stream.seek(sub_start)
                phdr = _read_exact(stream, sub_size, where)
                break
        break
    if phdr is None:
        raise FormatError(f"{where}: no preset headers (pdta/phdr chunk missing)")
    if len(phdr) % PHDR_RECORD.size or len(phdr) < 2 * PHDR_RECORD.size:
        raise FormatError(f"{where}: phdr chunk size {len(phdr)} is not a multiple of {PHDR_RECORD.size} with >= 2 records")
    count = len(phdr) // PHDR_RECORD.size - 1  # the last record is the terminal "EOP"
    if count > _MAX_PRESETS:
        raise FormatError(f"{where}: {count} presets is more than an SF2 can hold")
    presets = []
    for index in range(count):
        raw_name, program, bank, *_ = PHDR_RECORD.unpack_from(phdr, index * PHDR_RECORD.size)
        if program > 127 or bank > 128:
            raise FormatError(f"{where}: preset {index} has program {program} / bank {bank} out of range")
        presets.append(Preset(_decode_name(raw_name), program, bank))
    presets.sort(key=lambda p: (p.bank, p.program))
    return presets


def read_presets(path: str | os.PathLike) -> list[Preset]:
    """Presets of the SoundFont at ``path``, sorted by (bank, program)."""
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            return parse_presets(stream, where=str(path))
    except FileNotFoundError:
        raise FormatError(f"{path}: no such SoundFont file") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a folder, not a SoundFont file") from None


def drum_kits(presets: list[Preset]) -> list[Preset]:
    """The drum-kit presets (bank 128), sorted by program."""
    return sorted((p for p in presets if p.bank == DRUM_BANK), key=lambda p: p.program)
