"""The detector interface: boxes in frame pixels, plus how a detector's boxes relate to faces.

Each detector family draws its boxes differently (Haar boxes are square and sit high on the face,
BlazeFace boxes are tighter...). ``BoxCalibration`` turns a box into the crop the tracker would have
built from that face's landmarks, so the first crop of a track looks like every later one. It is
measured per detector (scripts/research/calibrate_detector.py on 300W) and lives with the detector, not in
the model: the model only says how large a landmark crop is (``CropRule.landmark_scale``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ..core.crop import CropParams, CropRule, eye_line_angle, params_from_box
from ..core.face import Detection

if TYPE_CHECKING:
    from .keypoint_fit import KeypointFit


Box = tuple[float, float, float, float]  # x, y, w, h in frame pixels


class DetectorUnavailable(RuntimeError):
    """A requested detector cannot run here (missing package or model file); the message says why."""


@dataclass(frozen=True)
class BoxCalibration:
    """Box -> landmark window: ``extent_ratio`` = landmark extent / max(box w, h) (the extent of
    the eye-levelled landmarks, as params_from_landmarks measures it) and ``shift_y`` = (landmark
    window centre - box centre) / box height. ``keypoint_fit``: a detector with keypoints may also
    correct that window from them (keypoint_fit.py)."""

    extent_ratio: float = 1.0
    shift_y: float = 0.0
    keypoint_fit: "KeypointFit | None" = field(default=None, compare=False)

    def crop_params(self, box: tuple[float, float, float, float], landmark_scale: float,
                    keypoints: np.ndarray | None = None) -> CropParams:
        """The landmark window for a box. With ``keypoints`` (MediaPipe order: the person's right
        eye first, then the left eye) the window is turned to the eye line, so a face turned up to
        180 deg gets an upright crop; ``extent_ratio`` and ``shift_y`` then apply in the face's own
        axes (see ``params_from_box``); with a ``keypoint_fit`` too, the keypoints correct the
        window before it is scaled to the crop."""
        return self.first_crop(box, landmark_scale, keypoints)[0]

    def first_crop(self, box: tuple[float, float, float, float], landmark_scale: float,
                   keypoints: np.ndarray | None = None) -> tuple[CropParams, bool]:
        """``crop_params`` and whether the keypoint fit placed the window (then it is nearly as
        good as a landmark crop, and one network pass from it suffices)."""
        extent = params_from_box(box, CropRule(box_scale=self.extent_ratio, box_shift_y=self.shift_y),
                                 angle=keypoint_angle(keypoints))
        fitted = None
        if keypoints is not None and self.keypoint_fit is not None:
            fitted = self.keypoint_fit.apply(extent, box, keypoints)
        window = extent if fitted is None else fitted
        return CropParams(center=window.center, side=window.side * landmark_scale, angle=window.angle), fitted is not None


def keypoint_angle(keypoints: np.ndarray | None) -> float:
    """In-plane angle (radians) from a detection's eye keypoints; 0 without usable keypoints."""
    if keypoints is None:
        return 0.0
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 2 or kp.shape[0] < 2 or kp.shape[1] != 2 or not np.isfinite(kp[:2]).all():
        return 0.0
    (ax, ay), (bx, by) = kp[:2].tolist()
    if abs(ax - bx) <= 1e-8 + 1e-5 * abs(bx) and abs(ay - by) <= 1e-8 + 1e-5 * abs(by):  # np.allclose, 20x cheaper
        return 0.0  # both eyes on one point: no direction
    return eye_line_angle(kp[0], kp[1])


@runtime_checkable
class Detector(Protocol):
    name: str
    calibration: BoxCalibration

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR uint8 frame, largest first."""
        ...


def downscale_grey(frame_bgr: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Grey copy with its longest side at most ``max_side``; returns (image, frame px per image px)."""
    import cv2

    grey = frame_bgr if frame_bgr.ndim == 2 else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    factor = max(h, w) / float(max_side) if max_side and max(h, w) > max_side else 1.0
    if factor > 1.0:
        grey = cv2.resize(grey, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA)
    return grey, factor
