"""Crops from landmarks or detector boxes (docs/SPEC.md, Crops from landmarks and boxes): the one function that builds both the
training crops and the runtime crops, so the network always sees the same kind of crop.

A crop is a similarity transform, returned as the 2x3 affine ``A`` that maps frame pixel
coordinates to crop pixel coordinates (OpenCV convention: ``cv2.warpAffine(frame, A, (S, S))``).
Crop-normalised coordinates (what the network predicts) are ``u = (A @ [x, y, 1] + 0.5) / S``:
0 and 1 are the crop's outer edges, matching the heatmap formula's ``x + 0.5`` pixel centres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .landmarks import IBUG68, LandmarkScheme, eye_centres


@dataclass(frozen=True)
class CropRule:
    """Parameters of the crop; the model's ONNX metadata carries them (``atpn.crop_*``)."""

    size: int = 112
    landmark_scale: float = 1.4  # crop side / largest extent of the eye-levelled landmarks
    box_scale: float = 1.4  # crop side / largest side of a detector box
    box_shift_y: float = 0.0  # crop centre moved down by this fraction of the box height


@dataclass(frozen=True)
class CropParams:
    """A square window in the frame: centre (px), side (px), rotation (radians, eye line angle)."""

    center: tuple[float, float]
    side: float
    angle: float

    def jittered(self, shift: tuple[float, float] = (0.0, 0.0), scale: float = 1.0, rotate: float = 0.0) -> "CropParams":
        """Shift (fractions of the side, in the crop's own axes), scale and rotate (radians) the window."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        dx, dy = shift[0] * self.side, shift[1] * self.side
        center = (self.center[0] + c * dx - s * dy, self.center[1] + s * dx + c * dy)
        return CropParams(center=center, side=self.side * scale, angle=self.angle + rotate)


def crop_affine(params: CropParams, size: int) -> np.ndarray:
    """2x3 affine (float64) mapping frame pixels to crop pixels for a window, output side ``size``."""
    if not (np.isfinite(params.side) and params.side > 0):
        raise ValueError(f"crop side must be a positive finite number, got {params.side}")
    if size <= 0:
        raise ValueError(f"crop size must be positive, got {size}")
    k = size / params.side
    c, s = np.cos(params.angle), np.sin(params.angle)
    rot = np.array([[c, s], [-s, c]]) * k  # rotate by -angle so the eye line becomes level
    centre = np.asarray(params.center, dtype=np.float64)
    offset = (size - 1) / 2.0 - rot @ centre
    return np.hstack([rot, offset[:, None]])


def params_from_landmarks(landmarks: np.ndarray, rule: CropRule = CropRule(), scheme: LandmarkScheme = IBUG68) -> CropParams:
    """Window for the next frame from this frame's landmarks [K, 2] (pixels)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] != scheme.num_points:
        raise ValueError(f"landmarks must be [{scheme.num_points}, 2], got {list(pts.shape)}")
    if not np.all(np.isfinite(pts)):
        raise ValueError("landmarks contain NaN or inf")
    left, right = eye_centres(pts, scheme)
    angle = float(np.arctan2(right[1] - left[1], right[0] - left[0]))
    c, s = np.cos(angle), np.sin(angle)
    levelled = pts @ np.array([[c, -s], [s, c]])  # rotate by -angle
    lo, hi = levelled.min(axis=0), levelled.max(axis=0)
    mid = (lo + hi) / 2.0
    centre = np.array([c * mid[0] - s * mid[1], s * mid[0] + c * mid[1]])  # back to frame axes
    side = rule.landmark_scale * float(max(hi - lo))
    return CropParams(center=(float(centre[0]), float(centre[1])), side=max(side, 1e-3), angle=angle)


def eye_line_angle(first_eye: np.ndarray, second_eye: np.ndarray) -> float:
    """In-plane angle (radians) of a face from two eye centres: ``first_eye`` is the one on the
    image's left in an upright frontal face (the person's right eye; iBUG points 36-41, MediaPipe
    keypoint 0). 0 = upright, pi/2 = turned 90 deg clockwise in the image, +-pi = upside down; the
    same angle ``params_from_landmarks`` measures, so a crop with it comes out upright."""
    a, b = np.asarray(first_eye, dtype=np.float64), np.asarray(second_eye, dtype=np.float64)
    if a.shape != (2,) or b.shape != (2,) or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(f"eye centres must be two finite (x, y) points, got {a.tolist()} and {b.tolist()}")
    return float(np.arctan2(b[1] - a[1], b[0] - a[0]))


def params_from_box(box: tuple[float, float, float, float], rule: CropRule = CropRule(), angle: float = 0.0) -> CropParams:
    """Window for a detector box (x, y, w, h in pixels, x/y of the top-left corner).

    ``angle``: the face's in-plane angle (radians, e.g. ``eye_line_angle`` of the detector's eye
    keypoints). The window turns with the face; ``rule.box_scale`` applies to the box's larger side
    as at 0 deg (a CNN detector's box keeps the face's size when the face turns: BlazeFace's boxes
    of 300W faces turned 30 and 45 deg are as large as upright ones), and ``rule.box_shift_y``
    moves the centre along the face's own downward axis, in units of the box side that lies along
    that axis (``h`` upright, ``w`` at 90 deg). At ``angle=0`` this is the plain rule.
    """
    x, y, w, h = (float(v) for v in box)
    if not (np.isfinite([x, y, w, h]).all() and w > 0 and h > 0):
        raise ValueError(f"detector box must be finite with positive size, got {box}")
    if not np.isfinite(angle):
        raise ValueError(f"crop angle must be finite, got {angle}")
    c, s = abs(np.cos(angle)), abs(np.sin(angle))
    face_h = (s * w + c * h) / (c + s)  # the box's extent along the face's vertical axis
    down = (-np.sin(angle), np.cos(angle))  # the face's downward axis in frame coordinates
    shift = rule.box_shift_y * face_h
    centre = (x + w / 2.0 - 0.5 + shift * down[0], y + h / 2.0 - 0.5 + shift * down[1])
    return CropParams(center=(float(centre[0]), float(centre[1])), side=rule.box_scale * max(w, h), angle=float(angle))


def affine_from_landmarks(landmarks: np.ndarray, rule: CropRule = CropRule(), scheme: LandmarkScheme = IBUG68) -> np.ndarray:
    return crop_affine(params_from_landmarks(landmarks, rule, scheme), rule.size)


def affine_from_box(box: tuple[float, float, float, float], rule: CropRule = CropRule()) -> np.ndarray:
    return crop_affine(params_from_box(box, rule), rule.size)


def invert_affine(affine: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine (crop pixels -> frame pixels)."""
    a = np.asarray(affine, dtype=np.float64)
    m = np.linalg.inv(a[:, :2])
    return np.hstack([m, -(m @ a[:, 2])[:, None]])


def to_crop_normalised(points: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """Frame pixels [..., 2] -> crop-normalised coordinates (0..1 spans the crop)."""
    a = np.asarray(affine, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)
    return (p @ a[:, :2].T + a[:, 2] + 0.5) / size


def from_crop_normalised(coords: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """Crop-normalised coordinates [..., 2] -> frame pixels, through the inverse affine."""
    inv = invert_affine(affine)
    q = np.asarray(coords, dtype=np.float64) * size - 0.5
    return q @ inv[:, :2].T + inv[:, 2]
