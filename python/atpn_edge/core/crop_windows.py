"""Random crop windows that hold no well-framed face: the face score's negatives, drawn the same
way in training (``atpn_edge.train.data``) and in validation (``atpn_edge.eval.validate``)."""
from __future__ import annotations

import numpy as np

from .crop import CropParams


def nonface_window(height: int, width: int, rng: np.random.Generator) -> CropParams:
    """A random window (15-80 % of the short side, any place, some rotation) in a non-face image."""
    side = rng.uniform(0.15, 0.8) * min(height, width)
    centre = (rng.uniform(side / 3, width - side / 3), rng.uniform(side / 3, height - side / 3))
    return CropParams(center=centre, side=side, angle=float(np.radians(rng.normal(0, 20))))


def offface_window(base: CropParams, rng: np.random.Generator) -> CropParams:
    """A window clearly off the face: shifted by 0.4-0.9 of the side, or scaled outside [0.5, 2.0].
    The band between well-framed jitter and these is never drawn, so no label is ambiguous."""
    rot = float(np.radians(rng.normal(0, 15)))
    if rng.random() < 0.6:
        a, m = rng.uniform(0, 2 * np.pi), rng.uniform(0.4, 0.9)
        return base.jittered(shift=(m * np.cos(a), m * np.sin(a)), scale=float(np.exp(rng.normal(0, 0.1))), rotate=rot)
    scale = rng.uniform(0.25, 0.5) if rng.random() < 0.5 else rng.uniform(2.0, 3.5)
    return base.jittered(shift=tuple(rng.normal(0, 0.05, 2)), scale=float(scale), rotate=rot)
