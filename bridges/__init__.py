"""ganshot.bridges — OSC and MIDI front ends that drive the engine's command API.

(Populated by the OSC and MIDI issues.)
"""

__all__: list[str] = []
