"""One Euro filter (Casiez et al., CHI 2012) for landmarks and head pose, one per track.

A low-pass filter whose cutoff rises with speed: ``cutoff = min_cutoff + beta * speed``. At rest it
removes flicker; when the face moves the cutoff opens and the lag disappears. Two choices make one
set of parameters work everywhere:

- Speed is measured in face sizes per second (landmarks) so the same ``beta`` works at any
  resolution and face size; ``min_cutoff`` is in Hz, already scale-free. Face size = the larger
  side of the landmark box.
- The speed is that of the whole face, not of each point: the points' velocities are fitted with
  an affine motion (translation + linear part, which covers rotation and zoom) and the speed is
  |translation| + |linear part| x face size. Point noise averages out of that fit (68 points), so
  flicker alone does not open the filter, and all points open together, so the face shape is not
  distorted while it moves. (A mean of per-point speed norms does not average noise out: a norm is
  never negative.)

Pose uses the same filter with speed in units of 90 degrees per second.
Measured jitter and lag: BENCHMARKS.md, "Tracking" (scripts/research/measure_smoothing.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SmoothingConfig:
    min_cutoff: float = 0.5  # Hz, cutoff at rest
    beta: float = 5.0  # extra Hz per (face size / s) of speed
    d_cutoff: float = 2.0  # Hz, cutoff of the speed estimate itself
    pose_scale_deg: float = 90.0


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuro:
    """One Euro filter on an array [..., D]; the speed is the norm of the mean velocity vector,
    divided by ``scale`` (passed per call, so it may follow the face size)."""

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("One Euro filter needs min_cutoff > 0, d_cutoff > 0 and beta >= 0")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t = 0.0

    def reset(self) -> None:
        self._x = self._dx = None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self._t
        if dt <= 0:  # repeated or out-of-order timestamp: keep the state, pass the value through
            return self._x.copy()
        self._t = t
        dx = (x - self._x) / dt
        self._dx = self._dx + _alpha(self.d_cutoff, dt) * (dx - self._dx)
        speed = self._speed(self._dx, self._x)
        cutoff = self.min_cutoff + self.beta * speed / max(scale, 1e-9)
        self._x = self._x + _alpha(cutoff, dt) * (x - self._x)
        return self._x.copy()

    def _speed(self, velocity: np.ndarray, position: np.ndarray) -> float:
        return float(np.linalg.norm(velocity.reshape(-1, velocity.shape[-1]).mean(axis=0)))


class LandmarkOneEuro(OneEuro):
    """Speed of a point set [K, 2] from its affine motion: translation plus linear part x size."""

    def _speed(self, velocity: np.ndarray, position: np.ndarray) -> float:
        centred = position - position.mean(axis=0)
        v = velocity - velocity.mean(axis=0)
        linear, *_ = np.linalg.lstsq(centred, v, rcond=None)  # v ~ centred @ linear
        size = float(np.ptp(position, axis=0).max())
        return float(np.linalg.norm(velocity.mean(axis=0))) + float(np.linalg.norm(linear, 2)) * size


class FaceSmoother:
    """Smooths one track's landmarks [K, 2] (pixels) and pose [3] (degrees)."""

    def __init__(self, config: SmoothingConfig = SmoothingConfig()) -> None:
        self.config = config
        self._landmarks = LandmarkOneEuro(config.min_cutoff, config.beta, config.d_cutoff)
        self._pose = OneEuro(config.min_cutoff, config.beta, config.d_cutoff)

    def reset(self) -> None:
        self._landmarks.reset()
        self._pose.reset()

    def __call__(self, landmarks: np.ndarray, pose: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        extent = np.ptp(np.asarray(landmarks, dtype=np.float64), axis=0)
        size = float(max(extent.max(), 1.0))
        return self._landmarks(landmarks, t, size), self._pose(np.asarray(pose)[None, :], t, self.config.pose_scale_deg)[0]
