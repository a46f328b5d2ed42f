"""SFZ text for an exported kit: one region per WAV, so any SFZ sampler plays the kit.

Cheat sheet::

    from ganshot.engine.sfz import SfzRegion, sfz_text, regions_for_pad
    regions = regions_for_pad(pad, {60: "sax/060_C4.wav", ...})   # one region per note
    text = sfz_text("band", regions, header="model reeds (sha256 ...)")

What the engine does, written as SFZ opcodes (SFZ 1 plus the common SFZ 2 / ARIA ones that
sfizz, Sforzando, Decent Sampler's importer and most DAW samplers read):

======================  ==========================================================
engine                  SFZ
======================  ==========================================================
drum pad                ``loop_mode=one_shot`` (plays to its end, ignores note-off)
instrument note         ``loop_mode=no_loop`` + ``ampeg_release`` = release_ms / 1000
choke group G           ``group=G off_by=G off_mode=fast``
instrument polyphony    ``polyphony=N`` on its ``<group>``
sustain pedal off       ``sustain_sw=off``
instrument channel c    ``lochan=hichan=c + 1`` (SFZ counts channels from 1)
pad pan -1..1           ``pan`` -100..100
velocity (gain = v/127) ``amp_velcurve_1=0.007874 amp_velcurve_127=1`` (linear, as the engine)
======================  ==========================================================

Pad gain is in the WAV itself (what the engine plays); pitch bend keeps SFZ's default (±2 semitones).
Sample paths are relative to the .sfz file, with ``/`` separators. Pure text: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UserInputError

__all__ = ["SfzRegion", "regions_for_pad", "sfz_text", "note_name"]

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_LINEAR_VELOCITY = "amp_velcurve_1=0.007874 amp_velcurve_127=1"
_UNSAFE = set(" \t\r\n=<>")  # characters that would end or split an opcode value


def note_name(note: int) -> str:
    """Scientific pitch notation, C4 = MIDI 60 (``C#4`` for 61, ``C-1`` for 0)."""
    return f"{_NAMES[note % 12]}{note // 12 - 1}"


@dataclass(frozen=True)
class SfzRegion:
    """One WAV on one key, with the opcodes of the pad it belongs to (see the module table)."""

    sample: str
    key: int
    pad_index: int
    one_shot: bool = True
    release_s: float = 0.0
    pan: float = 0.0  # -1..1
    choke_group: int = 0
    polyphony: int = 0  # 0 = the sampler's own limit
    channel: int | None = None  # 0-based
    sustain: bool = True


def regions_for_pad(pad, pad_index: int, samples: dict[int, str]) -> list[SfzRegion]:
    """The regions of ``pad`` (a kit :class:`~.kit_schema.Pad`), one per ``note -> sample path``."""
    inst = pad.instrument
    common = dict(pad_index=pad_index, pan=pad.pan, choke_group=pad.choke_group)
    if inst is None:
        return [SfzRegion(sample=path, key=note, **common) for note, path in sorted(samples.items())]
    return [SfzRegion(sample=path, key=note, one_shot=False, release_s=inst.release_ms / 1000.0,
                      polyphony=inst.polyphony, channel=inst.channel, sustain=inst.sustain, **common)
            for note, path in sorted(samples.items())]


def _check_sample(path: str) -> str:
    if not path or any(c in _UNSAFE for c in path) or path.startswith("/") or "\\" in path:
        raise UserInputError(f"SFZ sample path {path!r:.80} must be relative, '/'-separated, without spaces or '=<>'")
    return path


def _group_line(region: SfzRegion, pad_name: str) -> str:
    opcodes = [f"// pad {region.pad_index}: {pad_name}".rstrip(), "<group>"]
    if region.one_shot:
        opcodes.append("loop_mode=one_shot")
    else:
        opcodes += ["loop_mode=no_loop", f"ampeg_release={region.release_s:.4f}"]
        if region.polyphony:
            opcodes.append(f"polyphony={region.polyphony}")
        if not region.sustain:
            opcodes.append("sustain_sw=off")
    if region.choke_group:
        opcodes.append(f"group={region.choke_group} off_by={region.choke_group} off_mode=fast")
    if region.channel is not None:
        opcodes.append(f"lochan={region.channel + 1} hichan={region.channel + 1}")
    if region.pan:
        opcodes.append(f"pan={100.0 * region.pan:.2f}")
    opcodes.append(_LINEAR_VELOCITY)
    return opcodes[0] + "\n" + " ".join(opcodes[1:])


def sfz_text(kit_name: str, regions: list[SfzRegion], pad_names: dict[int, str] | None = None,
             header: str = "") -> str:
    """The .sfz file: a comment header, then per pad a ``<group>`` and its ``<region>`` lines."""
    if not regions:
        raise UserInputError("an SFZ file needs at least one region")
    pad_names = pad_names or {}
    clean = lambda text: " ".join(str(text).split())  # noqa: E731 - comments stay on one line
    lines = [f"// {clean(kit_name)}: written by ganshot export-kit"]
    if header:
        lines.append(f"// {clean(header)}")
    current = None
    for region in regions:
        if region.pad_index != current:
            current = region.pad_index
            lines += ["", _group_line(region, clean(pad_names.get(current, "")))]
        lines.append(f"<region> sample={_check_sample(region.sample)} key={region.key}")
    return "\n".join(lines) + "\n"
