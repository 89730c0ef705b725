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
        mean_v = velocity.mean(axis=0)
        centred = position - position.mean(axis=0)
        size = float((position.max(axis=0) - position.min(axis=0)).max())
        return math.hypot(mean_v[0], mean_v[1]) + linear_motion_norm(centred, velocity - mean_v) * size


def linear_motion_norm(centred: np.ndarray, velocity: np.ndarray) -> float:
    """Spectral norm of the 2x2 ``L`` that fits ``velocity ~ centred @ L`` by least squares (both
    [K, 2], centred). Solved through its 2x2 normal equations and the 2x2 singular value formula:
    a face's points are far from collinear, and this runs for every track on every frame, where
    ``lstsq`` and ``norm(L, 2)`` (two SVDs) cost about 0.1 ms. Degenerate point sets (all on one
    line or point) take the least-norm solution of ``lstsq``, as before."""
    (ga, gb), (gc, gd) = (centred.T @ centred).tolist()
    det = ga * gd - gb * gc
    if not det > 1e-12 * (ga + gd) ** 2:
        linear, *_ = np.linalg.lstsq(centred, velocity, rcond=None)
        return float(np.linalg.norm(linear, 2))
    (ha, hb), (hc, hd) = (centred.T @ velocity).tolist()
    p, q = (gd * ha - gb * hc) / det, (gd * hb - gb * hd) / det
    r, t = (ga * hc - gc * ha) / det, (ga * hd - gc * hb) / det
    frob = p * p + q * q + r * r + t * t
    d = p * t - q * r
    return math.sqrt(max(0.0, 0.5 * (frob + math.sqrt(max(0.0, frob * frob - 4.0 * d * d)))))


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
