"""The records that cross layers: a detector's ``Detection`` and the tracker's ``Face``, plus box helpers."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One face found by a detector. ``keypoints`` are [K, 2] frame pixels when the detector gives
    them (BlazeFace, in MediaPipe's order: right eye, left eye, nose tip, mouth centre, right ear
    tragion, left ear tragion; "right" is the person's right), else None."""

    box: tuple[float, float, float, float]  # x, y, w, h in frame pixels (top-left corner)
    score: float = 1.0
    keypoints: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Face:
    """One tracked face.

    ``id`` stays the same while the face is tracked. ``landmarks`` are [K, 2] in frame pixels
    (0-based pixel centres), ``box`` is (x, y, w, h) of the landmarks' bounding box, ``pose`` is
    (yaw, pitch, roll) in degrees (AFLW2000-3D sign convention), ``score`` the network's face score.
    ``age`` counts the frames since the track started (0 on its first frame).
    """

    id: int
    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    pose: tuple[float, float, float]
    score: float
    age: int = 0

    def to_dict(self, decimals: int = 2) -> dict:
        """JSON-friendly form (plain lists and floats), used by the JSON-lines sink."""
        return {
            "id": int(self.id),
            "box": [round(float(v), decimals) for v in self.box],
            "landmarks": np.round(np.asarray(self.landmarks, dtype=np.float64), decimals).tolist(),
            "pose": [round(float(v), decimals) for v in self.pose],
            "score": round(float(self.score), 4),
        }


def landmark_box(landmarks: np.ndarray, pixel_extent: bool = False) -> tuple[float, float, float, float]:
    """(x, y, w, h) bounding box of landmarks [K, 2] (frame pixels); missing points (NaN rows) are
    left out. ``pixel_extent=False``: the box of the point coordinates (``w = max - min``), the
    ``Face.box``. ``pixel_extent=True``: the box of the pixels the extreme points lie on, half a
    pixel more on each side (``w = max - min + 1``), which is how a detector box covers pixels, so
    ``params_from_box`` centres a crop on the points' centre (ground-truth crops in evaluation)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all(axis=1).any():
        raise ValueError(f"landmark_box needs [K, 2] points with at least one finite point, got shape {list(pts.shape)}")
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 1.0 if pixel_extent else 0.0
    return (float(lo[0]), float(lo[1]), float(hi[0] - lo[0] + pad), float(hi[1] - lo[1] + pad))


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def centre_inside(box: tuple[float, float, float, float], other: tuple[float, float, float, float]) -> bool:
    """True when the centre of ``box`` lies inside ``other``."""
    cx, cy = box[0] + box[2] / 2.0, box[1] + box[3] / 2.0
    return other[0] <= cx <= other[0] + other[2] and other[1] <= cy <= other[1] + other[3]
