"""ganshot.bridges.max — the Max patch and the Max for Live device, and the .amxd reader.

Cheat sheet::

    from ganshot.bridges.max.amxd import load, check, pack, unpack
    device = load("bridges/max/ganshot.amxd")   # Amxd(device_type="mmmm", meta, doc), or AmxdError("one line")
    report = check(device)                      # DeviceReport(pads=16, dials=12, ...), or DeviceError("one line")

    .venv/bin/python scripts/build_amxd.py [--check]          # (re)build the device from the tables
    python -m ganshot.bridges.max.amxd bridges/max/ganshot.amxd

Files: ``ganshot.maxpat`` (a plain Max patch: pads, knobs, morph, status, render demo),
``ganshot.amxd`` (the Max for Live MIDI effect, generated). Modules: :mod:`.amxd` (the .amxd
container), :mod:`.device` (what the device must hold, as tables, and its check).
"""

__all__: list[str] = []
