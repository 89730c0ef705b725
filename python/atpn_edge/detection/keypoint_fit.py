"""A detector's keypoints -> the landmark window, fitted on training faces.

A box and the eye line place the first crop of a face only roughly (on the upright 300W faces,
BlazeFace's calibrated box window is off the landmark window by 1.7 / 2.6 % of its side in x / y
and 4.3 % in size, medians; turned 45 deg, 3.6 / 6.4 % and 15 %). The six keypoints say more: where the nose and mouth sit between the eyes tells
how far the face looks up or down or aside. ``KeypointFit`` is a linear map from the keypoints and
box corners, in the box window's own axes, to the correction of that window's centre and size
(its angle stays the eye line's: fitted, the angle's error fell by 2 % on 300W and grew on profile
faces); with it, one network pass from the first crop is about as good as two from the box
window (BENCHMARKS.md, Detection).

Fitted by ``scripts/fit_first_crop.py`` (ridge regression on the shared 300W faces, upright and
turned) and shipped per detector model as JSON next to its ONNX files.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.crop import CropParams


def window_local(window: CropParams, points: np.ndarray) -> np.ndarray:
    """Frame pixels [K, 2] -> the window's own axes (origin at its centre, unit = its side)."""
    c, s = np.cos(window.angle), np.sin(window.angle)
    p = np.asarray(points, np.float64) - np.asarray(window.center, np.float64)
    return p @ np.array([[c, -s], [s, c]]) / window.side


def fit_features(window: CropParams, box: tuple[float, float, float, float], keypoints: np.ndarray) -> np.ndarray:
    """The regression's inputs: keypoints and box corners in the window's axes, and a constant."""
    x, y, w, h = box
    corners = np.array([[x, y], [x + w, y + h]], np.float64)
    return np.concatenate([window_local(window, keypoints).ravel(), window_local(window, corners).ravel(), [1.0]])


def window_correction(window: CropParams, target: CropParams) -> np.ndarray:
    """What the fit predicts: the target window's centre in ``window``'s axes and the log of the
    side ratio."""
    dc = window_local(window, np.array([target.center]))[0]
    return np.array([dc[0], dc[1], np.log(target.side / window.side)])


def turn_between(window: CropParams, target: CropParams) -> float:
    """Angle from ``window`` to ``target`` (radians, wrapped to [-pi, pi))."""
    return float((target.angle - window.angle + np.pi) % (2 * np.pi) - np.pi)


def corrected(window: CropParams, correction: np.ndarray) -> CropParams:
    """``window`` moved and scaled by a ``window_correction``."""
    dx, dy, log_scale = (float(v) for v in correction)
    c, s = np.cos(window.angle), np.sin(window.angle)
    dx, dy = dx * window.side, dy * window.side
    centre = (window.center[0] + c * dx - s * dy, window.center[1] + s * dx + c * dy)
    return CropParams(center=centre, side=window.side * float(np.exp(log_scale)), angle=window.angle)


@dataclass(frozen=True, eq=False)
class KeypointFit:
    """``weights`` [features, 3]: ``fit_features`` -> ``window_correction``; ``limits`` [3]: the
    largest correction the fit is trusted with, per component (the 99.9th percentile of its
    corrections on the faces it was fitted to)."""

    weights: np.ndarray
    limits: np.ndarray
    num_keypoints: int

    def apply(self, window: CropParams, box: tuple[float, float, float, float], keypoints: np.ndarray) -> CropParams | None:
        """The fitted window, or None when the keypoints are not what was fitted."""
        kp = np.asarray(keypoints, np.float64)
        if kp.shape != (self.num_keypoints, 2) or not np.isfinite(kp).all():
            return None
        correction = fit_features(window, box, kp) @ self.weights
        # Beyond what the fit saw (a face in full profile, whose keypoints crowd on one side,
        # or a false detection) the box window is the safer guess: on the AFLW2000 half such
        # corrections lost faces that the box window found.
        if not (np.abs(correction) <= self.limits).all():
            return None
        return corrected(window, correction)

    def to_json(self) -> dict:
        return {"num_keypoints": self.num_keypoints, "weights": np.round(self.weights, 6).tolist(),
                "limits": np.round(self.limits, 4).tolist()}

    @classmethod
    def from_json(cls, data: dict) -> "KeypointFit":
        weights, limits = np.asarray(data["weights"], np.float64), np.asarray(data["limits"], np.float64)
        k = int(data["num_keypoints"])
        if weights.shape != (2 * k + 5, 3) or not np.isfinite(weights).all():
            raise ValueError(f"keypoint fit weights must be finite [{2 * k + 5}, 3], got {list(weights.shape)}")
        if limits.shape != (3,) or not (limits > 0).all():
            raise ValueError(f"keypoint fit limits must be 3 positive numbers, got {limits.tolist()}")
        return cls(weights=weights, limits=limits, num_keypoints=k)


def load_keypoint_fit(path: Path, model: str) -> KeypointFit:
    """The fit for ``model`` (a detector model's name) from a fit file; a clear error naming the
    file when it is missing, unreadable or has no entry for the model."""
    try:
        data = json.loads(Path(path).read_text())
        return KeypointFit.from_json(data["models"][model])
    except FileNotFoundError:
        raise FileNotFoundError(f"keypoint fit file not found: {path} (reinstall atpn-edge, or pass calibration=)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: no usable keypoint fit for model {model!r} ({type(e).__name__}: {e})") from None
