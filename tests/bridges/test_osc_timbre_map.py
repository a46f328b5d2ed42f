"""OSC /map/load and /pad/xy: a timbre map loaded from the kit folder, pads played by position."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.bridges.osc.addresses import ADDRESSES, RouteContext, run
from ganshot.bridges.osc.validate import OscError
from ganshot.engine.latent import seeded_latent
from tests.engine.test_timbre_map import write_map


def test_load_a_map_from_the_kit_folder_then_drag_a_pad(tiny_bundle, tmp_path):
    from ganshot.engine.engine import Engine
    from tests.support import kit_for

    write_map(tiny_bundle, tmp_path / "map.json")
    ctx = RouteContext(kit_dir=str(tmp_path))
    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=48000, backend="onnx") as engine:
        with pytest.raises(OscError, match="no timbre map"):
            run(ADDRESSES["/pad/xy"], (0, 0.5, 0.5), engine, ctx)
        with pytest.raises(OscError, match="inside the kit folder"):
            run(ADDRESSES["/map/load"], ("../elsewhere/map.json",), engine, ctx)
        run(ADDRESSES["/map/load"], ("map.json",), engine, ctx)
        run(ADDRESSES["/pad/xy"], (2, 0.0, 1.0), engine, ctx)
        np.testing.assert_allclose(engine.pad_latent(2), seeded_latent(12, tiny_bundle.latent_dim), rtol=1e-6)
        assert engine.wait_ready(30)
