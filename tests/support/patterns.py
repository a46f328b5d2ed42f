"""Helpers of the pattern tests: tiny hand-made MIDI files, tiny datasets and bundles.

Cheat sheet::

    write_midi(path, [[(0, "note_on", 9, 36, 100), (120, "note_off", 9, 36, 0)]], meta=[(0, "tempo", 120)])
    data = tiny_drum_dataset(tmp_path)            # a gm-grooves dataset of 8 files
    bundle = fixed_pattern_bundle(tmp_path)       # a drums bundle: kick on each bar's 1 (seed with z0 > 0) or snare
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_midi", "tiny_drum_dataset", "tiny_melodic_dataset", "fixed_pattern_bundle", "seed_with_sign", "TINY_SPEC"]

TINY_SPEC = {"latent_dim": 8, "d": 4}


def write_midi(path, tracks, meta=(), ticks_per_beat: int = 480, midi_type: int = 1) -> Path:
    """``tracks``: lists of ``(absolute tick, kind, channel, note, velocity)``; ``meta``: ``(tick, "tempo", bpm)``
    or ``(tick, "meter", (numerator, denominator))`` on a first track of its own."""
    import mido

    midi = mido.MidiFile(type=midi_type, ticks_per_beat=ticks_per_beat)
    head, now = mido.MidiTrack(), 0
    for tick, kind, value in sorted(meta, key=lambda m: m[0]):
        msg = (mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(value)) if kind == "tempo"
               else mido.MetaMessage("time_signature", numerator=value[0], denominator=value[1]))
        head.append(msg.copy(time=tick - now))
        now = tick
    midi.tracks.append(head)
    for events in tracks:
        track, now = mido.MidiTrack(), 0
        for tick, kind, channel, note, velocity in sorted(events, key=lambda e: (e[0], e[1] == "note_on")):
            track.append(mido.Message(kind, channel=channel, note=note, velocity=velocity, time=tick - now))
            now = tick
        midi.tracks.append(track)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.save(path)
    return path


def tiny_drum_dataset(root) -> Path:
    """A drums dataset of the first 8 gm-grooves files (2-bar windows), built in ``root/data``."""
    from ganshot.training.patterns.dataset import build_dataset

    return build_dataset(Path(root) / "data", corpus="gm-grooves", mode="drums", max_files=8)


def tiny_melodic_dataset(root) -> Path:
    """A melodic dataset of 3 hand-made files: a scale of half notes over a held bass (2-bar windows)."""
    from ganshot.training.patterns.dataset import build_dataset

    for index in range(3):
        events = []
        for bar in range(4):
            for half in range(2):
                tick = (bar * 4 + half * 2) * 480
                pitch = 60 + index + 2 * (bar * 2 + half) % 12
                events += [(tick, "note_on", 0, pitch, 90), (tick + 960, "note_off", 0, pitch, 0)]
            events += [(bar * 1920, "note_on", 1, 43 + index, 70), (bar * 1920 + 1920, "note_off", 1, 43 + index, 0)]
        write_midi(Path(root) / "midi" / f"m{index}.mid", [events])
    return build_dataset(Path(root) / "data", midi_dir=Path(root) / "midi", mode="melodic")


def seed_with_sign(latent_dim: int, positive: bool, start: int = 0) -> int:
    """The first seed from ``start`` whose pattern latent z[0] (generate.PatternSampler's draw) has this sign."""
    seed = start
    while (np.random.default_rng(seed).standard_normal(latent_dim)[0] > 0) != positive:
        seed += 1
    return seed


def fixed_pattern_bundle(root, name: str = "fixed") -> Path:
    """A real exported drums bundle whose generator ignores z but for its sign: z[0] > 0 gives a kick on
    step 0 of each bar, otherwise a snare there (2 bars of 4/4, 16 rows)."""
    import torch

    from ganshot.engine.gm_drums import CLASSES
    from ganshot.training.patterns.export import export_pattern_generator
    from ganshot.training.patterns.model import PatternGenerator, PatternSpec

    spec = PatternSpec(rows=len(CLASSES), channels=1, steps=32, **TINY_SPEC)

    class Fixed(PatternGenerator):
        def __init__(self):
            super().__init__(spec)
            a, b = torch.zeros(1, 1, 32, spec.rows), torch.zeros(1, 1, 32, spec.rows)
            a[0, 0, [0, 16], CLASSES.index("kick")] = 1.0
            b[0, 0, [0, 16], CLASSES.index("snare")] = 1.0
            self.register_buffer("a", a)
            self.register_buffer("b", b)

        def forward(self, z):
            pick = (z[:, :1] > 0).to(z.dtype).view(-1, 1, 1, 1)
            return pick * self.a + (1 - pick) * self.b + 0 * z.sum()

    return export_pattern_generator(Fixed(), spec, Path(root) / name, name=name, mode="drums", bars=2)


def fixed_melodic_bundle(root, name: str = "tune", row: int = 24, start: int = 4, length: int = 6) -> Path:
    """A real exported melodic bundle whose generator ignores z: one note, row ``row`` (MIDI 36 + row),
    from step ``start`` for ``length`` steps of each 2-bar pattern (onset and hold channels)."""
    import torch

    from ganshot.engine.pattern_midi import MODES
    from ganshot.training.patterns.export import export_pattern_generator
    from ganshot.training.patterns.model import PatternGenerator, PatternSpec

    spec = PatternSpec(rows=MODES["melodic"].num_rows, channels=2, steps=32, **TINY_SPEC)

    class Fixed(PatternGenerator):
        def __init__(self):
            super().__init__(spec)
            roll = torch.zeros(1, 2, 32, spec.rows)
            roll[0, 0, start, row] = 1.0
            roll[0, 1, start:start + length, row] = 1.0
            self.register_buffer("roll", roll)

        def forward(self, z):
            return self.roll.expand(z.shape[0], -1, -1, -1) + 0 * z.sum()

    return export_pattern_generator(Fixed(), spec, Path(root) / name, name=name, mode="melodic", bars=2)
