"""ganshot.bridges — OSC and MIDI front ends that drive the engine's command API.

Cheat sheet::

    from ganshot.bridges.osc.server import OscServer      # ganshot serve starts it (--osc-port 9000)
    from ganshot.bridges.midi.server import MidiServer    # ganshot serve starts it (virtual port "ganshot")

    # the address table and the CC table are data:
    from ganshot.bridges.osc.addresses import ADDRESSES, address_table_markdown
    from ganshot.bridges.midi.mapping import DEFAULT_CC_MAP, cc_map_markdown

Pd and Max patches: bridges/pd/ganshot.pd, bridges/max/ganshot.maxpat. Bridges call only
:class:`ganshot.engine.engine.Engine` methods; they never import ``ganshot.training``.
"""

__all__: list[str] = []
