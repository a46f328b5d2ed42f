"""ganshot.training — datasets, WaveGAN, WGAN-GP training and export.

Cheat sheet::

    ganshot dataset soundfont -o data/drums            # FluidR3 GM drum kits -> FLAC + manifest
    ganshot dataset soundfont --programs sax,violin -o data/pitched   # sustained GM notes, MIDI 36-96
    ganshot dataset folder ~/samples -o data/mine       # your own one-shots (--pitched: C4.wav, 60.wav)
    ganshot train wavegan_16k --data data/drums --out runs/drums
    ganshot export runs/drums -o presets/models/drums

    from ganshot.training.manifest import load_manifest
    from ganshot.training.data import OneShotDataset
"""

__all__: list[str] = []
