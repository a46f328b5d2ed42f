"""ganshot — generated one-shots, played live.

Cheat sheet (the ``ganshot`` command)::

    ganshot dataset soundfont -o data/drums     # render GM drum kits from FluidR3_GM.sf2
    ganshot dataset folder IN -o data/mine      # prepare your own one-shot folder
    ganshot train wavegan_16k --data data/drums --out runs/drums [--resume]
    ganshot export runs/drums -o presets/models/drums

Packages: ``ganshot.engine`` (bundles, runtime, audio), ``ganshot.bridges`` (OSC,
MIDI), ``ganshot.training`` (datasets, WaveGAN, training, export).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
