"""A small offline drum corpus: textbook GM grooves, written out as MIDI by ganshot.

The grooves are the standard one-bar 4/4 beats of drum method books and GM demo files
(rock, disco, funk, hip-hop, house, reggae one-drop, bossa nova, ...), written here from the
common notation as 16-step strings, one per drum class (engine.gm_drums) — ganshot's own
text, under ganshot's MIT licence. Each groove becomes :data:`VARIANTS` files of 8 bars:
three bars of the groove, a fill, three bars of a variant (open hat, ghost notes, ride, or a
crash on the one), another fill. :func:`write_groove_corpus` writes them as type-1 MIDI files
on channel 10; the dataset command reads them back like any user's folder.

Step strings: ``x`` a hit (velocity 100), ``X`` an accent (124), ``o`` a ghost note (45), ``.`` rest.
"""

from __future__ import annotations

from pathlib import Path

from ganshot.engine.atomic import atomic_write_bytes

from .midi_windows import DRUM_ROW_NOTES

__all__ = ["GROOVES", "FILLS", "VARIANTS", "BARS_PER_FILE", "groove_bars", "write_groove_corpus", "LICENCE"]

LICENCE = "MIT (ganshot's own table of textbook grooves, training/patterns/grooves.py)"
BARS_PER_FILE = 8
VELOCITY = {"x": 100, "X": 124, "o": 45}
HAT = "x.x.x.x.x.x.x.x."
HAT16 = "xxxxxxxxxxxxxxxx"

#: name -> {drum class: 16-step string}
GROOVES: dict[str, dict[str, str]] = {
    "rock": {"kick": "x.......x.......", "snare": "....X.......X...", "closed_hat": HAT},
    "rock_8ths_kick": {"kick": "x.......x.x.....", "snare": "....X.......X...", "closed_hat": HAT},
    "rock_16ths": {"kick": "x......x..x.....", "snare": "....X.......X...", "closed_hat": HAT16},
    "half_time": {"kick": "x.........x.....", "snare": "........X.......", "closed_hat": HAT},
    "disco": {"kick": "x...x...x...x...", "snare": "....X.......X...", "closed_hat": "x.x.x.x.x.x.x.x.",
              "open_hat": "..x...x...x...x."},
    "four_on_the_floor": {"kick": "x...x...x...x...", "clap": "....X.......X...", "open_hat": "..x...x...x...x."},
    "house": {"kick": "x...x...x...x...", "clap": "....x.......x...", "closed_hat": "xx.xxx.xxx.xxx.x",
              "open_hat": "..x...x...x...x."},
    "funk": {"kick": "x.x.......x..x..", "snare": "....X..o.o..X..o", "closed_hat": HAT16},
    "funky_drummer": {"kick": "x.x.......x..x..", "snare": "....X..o.o.oX..o", "closed_hat": "xxxxxxx.xxxxx.xx",
                      "open_hat": ".......x.....x.."},
    "hip_hop": {"kick": "x......x..x.....", "snare": "....X.......X...", "closed_hat": HAT},
    "boom_bap": {"kick": "x.........xx....", "snare": "....X.......X...", "closed_hat": HAT},
    "trap": {"kick": "x......x........", "snare": "........X.......", "closed_hat": "xxxxxxxxxxxxx.x.",
             "open_hat": ".............x.."},
    "breakbeat": {"kick": "x.x.......x.....", "snare": "....X.......X..o", "closed_hat": HAT},
    "amen": {"kick": "x.x.......xx....", "snare": "....X..o.o..X..o", "ride": HAT},
    "reggae_one_drop": {"kick": "........X.......", "rimshot": "........x.......", "closed_hat": HAT},
    "ska": {"kick": "x.......x.......", "snare": "....x.......x...", "closed_hat": "..x...x...x...x."},
    "bossa_nova": {"kick": "x..xx..xx..xx..x", "rimshot": "x..x..x...x..x..",
                   "closed_hat": HAT},
    "samba": {"kick": "x..xx..xx..xx..x", "snare": "o.o.oo.oo.o.oo.o", "closed_hat": HAT16},
    "shuffle": {"kick": "x.......x.......", "snare": "....X.......X...", "ride": "x..xx..xx..xx..x"},
    "jazz_ride": {"kick": "x.......x.......", "pedal_hat": "....x.......x...", "ride": "x...x.xxx...x.xx"},
    "motown": {"kick": "x.......x.x.....", "snare": "....X.......X...", "shaker_tambourine": HAT,
               "closed_hat": HAT},
    "dnb": {"kick": "x.........x.....", "snare": "....X.......X...", "closed_hat": HAT, "ride": "..x...x...x...x."},
    "latin_clave": {"kick": "x...x...x...x...", "hand_percussion": "x..x..x...x.x...", "closed_hat": HAT},
    "tom_groove": {"kick": "x.......x.......", "low_tom": "..x...x...x...x.", "mid_tom": "....x.......x...",
                   "closed_hat": HAT},
}

#: One-bar fills (the bar before a section change).
FILLS: tuple[dict[str, str], ...] = (
    {"kick": "x.......x.......", "snare": "....X...xxxxXXXX"},
    {"kick": "x.......x.......", "snare": "....X...xx..", "high_tom": "..........xx....", "mid_tom": "............xx..",
     "low_tom": "..............xx"},
    {"kick": "x...x...x...x...", "snare": "xxxxxxxxXXXXXXXX"},
    {"kick": "x.......x.......", "snare": "....X.......X...", "crash": "..............x.",
     "closed_hat": "x.x.x.x.x.x.x..."},
)
VARIANTS = ("open_hat", "ghosts", "ride", "crash_on_one")


def _bar(pattern: dict[str, str]) -> list[tuple[int, str, int]]:
    """``[(step, drum class, velocity), ...]`` of a one-bar pattern."""
    hits = []
    for drum, steps in pattern.items():
        for step, char in enumerate(steps.ljust(16, ".")[:16]):
            if char in VELOCITY:
                hits.append((step, drum, VELOCITY[char]))
    return hits


def _variant(pattern: dict[str, str], variant: str) -> dict[str, str]:
    out = dict(pattern)
    hats = out.get("closed_hat")
    if variant == "open_hat" and hats:
        out["closed_hat"], out["open_hat"] = hats[:14] + "..", "." * 14 + "x."
    elif variant == "ghosts" and "snare" in out:
        out["snare"] = "".join(c if c != "." or i % 4 != 3 else "o" for i, c in enumerate(out["snare"]))
    elif variant == "ride" and hats:
        out["ride"] = out.pop("closed_hat")
    elif variant == "crash_on_one":
        out["crash"] = "x" + "." * 15
    return out


def groove_bars(name: str, variant_index: int) -> list[list[tuple[int, str, int]]]:
    """The :data:`BARS_PER_FILE` bars of one corpus file, as lists of ``(step, drum class, velocity)``."""
    base = GROOVES[name]
    variant = _variant(base, VARIANTS[variant_index % len(VARIANTS)])
    fills = FILLS[variant_index % len(FILLS)], FILLS[(variant_index + 1) % len(FILLS)]
    return [_bar(p) for p in (base, base, base, fills[0], variant, variant, variant, fills[1])]


def _midi_bytes(bars, bpm: float, ticks_per_beat: int = 480) -> bytes:
    import io

    import mido

    step_ticks = ticks_per_beat // 4
    events = []  # (tick, order, message): note-offs before note-ons at one tick
    for index, hits in enumerate(bars):
        for step, drum, vel in hits:
            tick = (index * 16 + step) * step_ticks
            note = DRUM_ROW_NOTES[drum]
            events.append((tick, 1, mido.Message("note_on", channel=9, note=note, velocity=vel)))
            events.append((tick + step_ticks // 2, 0, mido.Message("note_off", channel=9, note=note, velocity=0)))
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1], e[2].note)):
        track.append(msg.copy(time=tick - now))
        now = tick
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def write_groove_corpus(out_dir: str | Path) -> list[Path]:
    """Write every groove x variant as ``OUT/gm_grooves/NAME_vK.mid`` (8 bars, 4/4, channel 10); returns the paths."""
    folder = Path(out_dir) / "gm_grooves"
    paths = []
    for index, name in enumerate(GROOVES):
        for variant in range(len(VARIANTS)):
            bpm = 80 + (index * 7 + variant * 13) % 60  # tempo does not change the step grid
            path = folder / f"{name}_v{variant}.mid"
            atomic_write_bytes(path, _midi_bytes(groove_bars(name, variant), bpm))
            paths.append(path)
    return paths
