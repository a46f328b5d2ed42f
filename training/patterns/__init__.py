"""ganshot.training.patterns — a GAN over note patterns (drums or melodic), offline: data, model,
training, export, generation and evaluation.

Cheat sheet::

    ganshot patterns dataset --corpus gm-grooves -o data/grooves          # ganshot's GM grooves (drums)
    ganshot patterns dataset --corpus bach -o data/bach                   # music21's Bach chorales (melodic)
    ganshot patterns dataset --midi ~/midi --mode drums -o data/mine       # your own MIDI files
    ganshot patterns train drums --data data/grooves --out runs/grooves --cpu-minutes 10 --export models/grooves
    ganshot patterns generate models/grooves -n 8 --bars 4 --tempo 110 -o out/grooves
    ganshot patterns evaluate models/grooves --data data/grooves          # models/grooves/evaluation/report.md
    ganshot render KIT --pattern models/grooves --bars 8 --switch-bars 2 -o groove.wav

Modules: :mod:`.midi_windows` (MIDI -> bar-aligned piano-roll windows), :mod:`.grooves` and
:mod:`.corpus` (the offline corpora), :mod:`.dataset`, :mod:`.model` (generator + critic),
:mod:`.config`, :mod:`.train`, :mod:`.bundle` (the patterns bundle format, torch-free),
:mod:`.export`, :mod:`.generate` (ONNX Runtime -> MIDI, torch-free), :mod:`.pianoroll_png`,
:mod:`.evaluate`. Only :mod:`.model`, :mod:`.train` and :mod:`.export` import torch.
"""

__all__: list[str] = []
