"""The 128 General MIDI melodic programs: names, short aliases and playable ranges (data, not code).

::

    from ganshot.training.gm_programs import resolve_programs, program_name, playable_range
    resolve_programs("sax,violin,41")      # (65, 40, 41): alias, alias, number
    program_name(65)                       # "alto_sax" (the dataset's class label)
    playable_range(65)                     # (49, 81): MIDI Db3..A5, sounding pitch

:data:`GM_PROGRAMS` lists, for program 0..127 in order, the GM name as a label
(lower case, ``_`` between words) and the MIDI range an instrument of that name can
really play (sounding pitch, scientific pitch notation C4 = 60; e.g. violin G3..G7 =
55..103, double bass written E1.. sounding E1 = 28). Programs that are not melodic
(percussive 113, 115..119 and the sound effects 120..127) have no range and are
refused by :func:`resolve_programs`, since a pitch label would be meaningless.

A program is named by its number (0..127), its label (``alto_sax``; spaces, ``-``
and case are ignored, so ``"Alto Sax"`` works), or an alias from :data:`ALIASES`
(``sax`` -> alto sax, ``piano`` -> acoustic grand, ``bass`` -> fingered electric bass).
Anything else raises UserInputError naming the closest labels.
"""

from __future__ import annotations

import difflib
import re

from ganshot.engine.errors import UserInputError

__all__ = ["GM_PROGRAMS", "ALIASES", "MIN_PROGRAM", "MAX_PROGRAM", "program_name", "playable_range",
           "is_melodic", "resolve_programs"]  # fmt: skip

MIN_PROGRAM, MAX_PROGRAM = 0, 127

#: (label, lowest MIDI pitch, highest MIDI pitch) per GM program 0..127; None range = not melodic.
GM_PROGRAMS: tuple[tuple[str, int | None, int | None], ...] = (
    # piano 0-7
    ("acoustic_grand_piano", 21, 108), ("bright_acoustic_piano", 21, 108), ("electric_grand_piano", 21, 108),
    ("honky_tonk_piano", 21, 108), ("electric_piano_1", 28, 100), ("electric_piano_2", 28, 100),
    ("harpsichord", 29, 89), ("clavinet", 29, 89),
    # chromatic percussion 8-15
    ("celesta", 60, 108), ("glockenspiel", 79, 108), ("music_box", 60, 96), ("vibraphone", 53, 89),
    ("marimba", 45, 96), ("xylophone", 65, 108), ("tubular_bells", 60, 77), ("dulcimer", 48, 84),
    # organ 16-23
    ("drawbar_organ", 24, 96), ("percussive_organ", 24, 96), ("rock_organ", 24, 96), ("church_organ", 21, 108),
    ("reed_organ", 36, 96), ("accordion", 41, 89), ("harmonica", 48, 96), ("tango_accordion", 41, 89),
    # guitar 24-31
    ("acoustic_guitar_nylon", 40, 83), ("acoustic_guitar_steel", 40, 83), ("electric_guitar_jazz", 40, 86),
    ("electric_guitar_clean", 40, 86), ("electric_guitar_muted", 40, 86), ("overdriven_guitar", 40, 86),
    ("distortion_guitar", 40, 86), ("guitar_harmonics", 52, 96),
    # bass 32-39
    ("acoustic_bass", 28, 67), ("electric_bass_finger", 28, 67), ("electric_bass_pick", 28, 67),
    ("fretless_bass", 28, 67), ("slap_bass_1", 28, 67), ("slap_bass_2", 28, 67), ("synth_bass_1", 24, 72),
    ("synth_bass_2", 24, 72),
    # strings 40-47
    ("violin", 55, 103), ("viola", 48, 91), ("cello", 36, 76), ("contrabass", 28, 67), ("tremolo_strings", 28, 103),
    ("pizzicato_strings", 28, 96), ("orchestral_harp", 24, 103), ("timpani", 40, 57),
    # ensemble 48-55
    ("string_ensemble_1", 28, 103), ("string_ensemble_2", 28, 103), ("synth_strings_1", 24, 96),
    ("synth_strings_2", 24, 96), ("choir_aahs", 40, 84), ("voice_oohs", 40, 84), ("synth_voice", 36, 84),
    ("orchestra_hit", 36, 84),
    # brass 56-63
    ("trumpet", 54, 84), ("trombone", 40, 72), ("tuba", 28, 58), ("muted_trumpet", 54, 82), ("french_horn", 34, 77),
    ("brass_section", 34, 84), ("synth_brass_1", 24, 96), ("synth_brass_2", 24, 96),
    # reed 64-71
    ("soprano_sax", 56, 87), ("alto_sax", 49, 81), ("tenor_sax", 44, 76), ("baritone_sax", 36, 69), ("oboe", 58, 91),
    ("english_horn", 52, 81), ("bassoon", 34, 75), ("clarinet", 50, 94),
    # pipe 72-79
    ("piccolo", 74, 108), ("flute", 60, 96), ("recorder", 60, 98), ("pan_flute", 60, 96), ("blown_bottle", 60, 96),
    ("shakuhachi", 55, 84), ("whistle", 72, 96), ("ocarina", 60, 84),
    # synth lead 80-87
    ("lead_1_square", 24, 96), ("lead_2_sawtooth", 24, 96), ("lead_3_calliope", 36, 96), ("lead_4_chiff", 36, 96),
    ("lead_5_charang", 36, 96), ("lead_6_voice", 36, 84), ("lead_7_fifths", 36, 96), ("lead_8_bass_lead", 24, 72),
    # synth pad 88-95
    ("pad_1_new_age", 36, 96), ("pad_2_warm", 36, 96), ("pad_3_polysynth", 36, 96), ("pad_4_choir", 36, 84),
    ("pad_5_bowed", 36, 96), ("pad_6_metallic", 36, 96), ("pad_7_halo", 36, 96), ("pad_8_sweep", 36, 96),
    # synth effects 96-103
    ("fx_1_rain", 36, 96), ("fx_2_soundtrack", 36, 96), ("fx_3_crystal", 36, 96), ("fx_4_atmosphere", 36, 96),
    ("fx_5_brightness", 36, 96), ("fx_6_goblins", 36, 96), ("fx_7_echoes", 36, 96), ("fx_8_sci_fi", 36, 96),
    # ethnic 104-111
    ("sitar", 48, 77), ("banjo", 48, 81), ("shamisen", 50, 79), ("koto", 55, 90), ("kalimba", 60, 84),
    ("bagpipe", 55, 81), ("fiddle", 55, 96), ("shanai", 60, 84),
    # percussive 112-119 (only the tuned ones are melodic)
    ("tinkle_bell", 72, 96), ("agogo", None, None), ("steel_drums", 52, 88), ("woodblock", None, None),
    ("taiko_drum", None, None), ("melodic_tom", None, None), ("synth_drum", None, None),
    ("reverse_cymbal", None, None),
    # sound effects 120-127
    ("guitar_fret_noise", None, None), ("breath_noise", None, None), ("seashore", None, None),
    ("bird_tweet", None, None), ("telephone_ring", None, None), ("helicopter", None, None), ("applause", None, None),
    ("gunshot", None, None),
)  # fmt: skip

#: Short names -> program; each points at the family's most common member.
ALIASES: dict[str, int] = {
    "piano": 0, "grand_piano": 0, "epiano": 4, "rhodes": 4, "organ": 16, "guitar": 24, "nylon_guitar": 24,
    "steel_guitar": 25, "electric_guitar": 27, "bass": 33, "electric_bass": 33, "double_bass": 43,
    "upright_bass": 32, "harp": 46, "strings": 48, "choir": 52, "sax": 65, "soprano": 64, "alto": 65, "tenor": 66,
    "bari_sax": 67, "horn": 60, "cor_anglais": 69, "pan_pipes": 75, "steel_drum": 114, "square": 80, "saw": 81,
}  # fmt: skip

_LABELS = {name: program for program, (name, _, _) in enumerate(GM_PROGRAMS)}


def _check_program(program) -> int:
    if isinstance(program, bool) or not isinstance(program, int) or not MIN_PROGRAM <= program <= MAX_PROGRAM:
        raise UserInputError(f"GM program must be an integer in {MIN_PROGRAM}..{MAX_PROGRAM}, got {program!r}")
    return program


def program_name(program: int) -> str:
    """The label of GM ``program`` 0..127 (``"alto_sax"``), used as the dataset class."""
    return GM_PROGRAMS[_check_program(program)][0]


def is_melodic(program: int) -> bool:
    """True when ``program`` has a playable pitch range (not a percussive or sound-effect program)."""
    return GM_PROGRAMS[_check_program(program)][1] is not None


def playable_range(program: int) -> tuple[int, int]:
    """(lowest, highest) MIDI pitch of melodic ``program``; UserInputError for a non-melodic one."""
    name, low, high = GM_PROGRAMS[_check_program(program)]
    if low is None or high is None:
        raise UserInputError(f"GM program {program} ({name}) is not melodic; it has no pitch range")
    return low, high


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def _resolve_one(token: str) -> int:
    key = _key(token)
    if re.fullmatch(r"\d+", key):
        program = int(key)
        if program > MAX_PROGRAM:
            raise UserInputError(f"GM program {program} is out of range; numbers are {MIN_PROGRAM}..{MAX_PROGRAM}")
    elif key in _LABELS:
        program = _LABELS[key]
    elif key in ALIASES:
        program = ALIASES[key]
    else:
        choices = list(_LABELS) + list(ALIASES)
        # names sharing a word with the key ("saxophone" -> sax, alto_sax, ...), then spelling neighbours
        close = [c for c in choices if ((len(key) >= 3 and key in c) or any(len(w) >= 3 and w in key for w in c.split("_")))]
        close += [c for c in difflib.get_close_matches(key, choices, n=4, cutoff=0.5) if c not in close]
        close = close[:6]
        hint = f"; did you mean {', '.join(close)}?" if close else "; give a GM program number 0..127 or a GM name"
        raise UserInputError(f"unknown GM program {token.strip()!r}{hint}")
    if not is_melodic(program):
        raise UserInputError(f"GM program {program} ({GM_PROGRAMS[program][0]}) is not melodic; "
                             "choose a program with a pitch (0-112 or 114)")  # fmt: skip
    return program


def resolve_programs(spec) -> tuple[int, ...]:
    """GM program numbers of ``spec``: a comma-separated string or a list of names/numbers, in order, no repeats."""
    tokens = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[int] = []
    for token in tokens:
        if isinstance(token, str) and not token.strip():
            continue
        program = _check_program(token) if isinstance(token, int) else _resolve_one(str(token))
        if not is_melodic(program):
            _resolve_one(str(program))  # raises the "not melodic" error
        if program not in out:
            out.append(program)
    if not out:
        raise UserInputError("no GM programs given; e.g. --programs sax,violin or --programs 65,40")
    return tuple(out)
