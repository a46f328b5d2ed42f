"""The Engine's commands that give a pad a new latent: set it, one coordinate of it, a seed, a morph
between two pads, a position on a timbre map, or the match of a sound file.

A mixin of :class:`~.engine.Engine` (kept apart so engine.py stays about playing and state): every
method ends in one ``Engine._edit`` of the pad (one kit change, one render request) and relies on
``bundle``, ``_kit``, ``_edit``, ``_check_index``, ``_base_latent``, ``pad_latent`` and
``timbre_map`` of the engine.
"""

from __future__ import annotations

import numpy as np

from . import latent as _latent
from .errors import UserInputError
from .limits import check_float, check_int
from .timbre_map import load_timbre_map

__all__ = ["PadLatentCommands", "LIVE_MATCH_SEEDS", "LIVE_MATCH_STEPS"]

LIVE_MATCH_SEEDS, LIVE_MATCH_STEPS = 200, 30  # /pad/match: a few seconds on one core, not ganshot match's minute


class PadLatentCommands:
    """set_latent, set_dim, randomize, morph, load_map / set_xy, match_pad (see the module doc)."""

    def set_latent(self, index: int, z) -> None:
        """Give pad ``index`` the latent ``z`` float[latent_dim] (its directions reset)."""
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (self.bundle.latent_dim,) or not np.isfinite(z).all():
            raise UserInputError(f"z must be {self.bundle.latent_dim} finite numbers, got shape {list(z.shape)}")
        self._edit(index, z=tuple(float(v) for v in z), directions=())

    def set_dim(self, index: int, dim: int, value: float) -> None:
        """Set one latent coordinate of pad ``index``."""
        dim = check_int(dim, "dim", 0, self.bundle.latent_dim - 1)
        self._check_index(index)
        z = self._base_latent(index)
        z[dim] = value
        self._edit(index, z=tuple(float(v) for v in z))

    def randomize(self, index: int, seed: int) -> None:
        """Give pad ``index`` the latent of ``seed`` (directions reset)."""
        self._edit(index, seed=seed, directions=())

    def morph(self, index: int, from_pad: int, to_pad: int, t: float) -> None:
        """Pad ``index`` gets slerp(latent(from_pad), latent(to_pad), t), t in [0, 1]."""
        t = check_float(t, "t", 0.0, 1.0)
        self._check_index(from_pad)
        self._check_index(to_pad)
        z = _latent.slerp(self.pad_latent(from_pad), self.pad_latent(to_pad), t)
        self.set_latent(index, z)

    def load_map(self, path) -> None:
        """Load the timbre map at ``path`` (``ganshot map``'s map.json) for ``set_xy``; it must be this model's."""
        self.timbre_map = load_timbre_map(path, self.bundle)

    def set_xy(self, index: int, x: float, y: float) -> None:
        """Pad ``index`` gets the latent (and class) under (x, y) of the loaded timbre map."""
        timbre_map = self.timbre_map
        if timbre_map is None or timbre_map.model_sha256 != self.bundle.sha256:
            raise UserInputError("no timbre map of this model is loaded (serve --map DIR, or /map/load)")
        z, label = timbre_map.latent_at(x, y)
        changes = {} if label is None else {"class_name": self.bundle.classes[label]}
        self._edit(index, z=tuple(float(v) for v in z), directions=(), **changes)  # one edit, one render

    def match_pad(self, index: int, sound_path, seeds: int = LIVE_MATCH_SEEDS, steps: int = LIVE_MATCH_STEPS) -> float:
        """Pad ``index`` gets the latent (and, for a conditional model, the pad's class or the best
        one) closest to the sound file at ``sound_path`` (engine/match.py; needs torch to refine);
        returns the matched distance. Seconds of CPU: run it off the audio and dispatch threads."""
        from .match import load_target, match_sound

        self._check_index(index)
        bundle = self.bundle
        result = match_sound(bundle, load_target(sound_path, bundle), class_name=self._kit.pads[int(index)].class_name,
                             seeds=seeds, steps=steps)
        changes = {} if result.label is None else {"class_name": bundle.classes[result.label]}
        self._edit(index, z=tuple(float(v) for v in result.z), directions=(), **changes)
        return result.distance
