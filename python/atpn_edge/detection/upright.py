"""A second look at a turned face: BlazeFace finds faces turned far in the image plane, but its eye
keypoints lag behind the turn (on the 300W faces turned 90 degrees, the eye line from the
keypoints was off by more than 30 degrees on about a quarter of them; at 45 degrees by 2.4
degrees median). Cutting a window around the face turned back by the first estimate and
detecting again there gives a nearly upright face, whose keypoints the model gets right; mapped
back to the frame, they give the eye line the tracker's first crop needs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..core.crop import CropParams, crop_affine
from .nms import weighted_nms

# window side / detector box side: the 300W crops (2.2x the landmark box, BlazeFace box ~0.96x of
# it) are where the short-range model is at its best.
WINDOW_SCALE = 2.3
# A look whose window shows the face turned less than this is final: the model's keypoints are
# good to a few degrees up to 45 deg of turn (median error 2.4 deg there), and the tracker's
# refinement corrects the rest. Measured with atpn-edge eval --protocol detector: 20 instead of 8
# found the same faces of 300W turned 45, 90 and 180 deg and of AFLW2000 at the same NME (within
# 0.02 points) and saves a look on mildly tilted faces.
SETTLE_DEG = 20.0


def eye_angle(keypoints: np.ndarray) -> float:
    """Eye line angle (radians; 0 = upright, positive = turned clockwise in the image) from
    MediaPipe keypoints (0: the person's right eye, 1: the left eye)."""
    d = np.asarray(keypoints[1], np.float64) - np.asarray(keypoints[0], np.float64)
    return float(np.arctan2(d[1], d[0]))


def _look(frame_bgr: np.ndarray, centre: tuple[float, float], side: float, angle: float,
          infer: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]], size: int,
          nms_iou: float) -> tuple[float, np.ndarray, float] | None:
    """(score, keypoints in frame pixel centres, residual angle) of the face nearest the centre of
    the window turned by ``angle``, or None when the window shows no face near its centre."""
    import cv2

    a = crop_affine(CropParams(center=centre, side=side, angle=angle), size)
    crop = cv2.warpAffine(frame_bgr, a, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    blob = crop[None, :, :, ::-1].transpose(0, 3, 1, 2).astype(np.float32) * (1.0 / 127.5) - 1.0
    boxes, kps, scores = infer(blob)
    if not len(scores):
        return None
    boxes, scores, kps = weighted_nms(boxes, scores, nms_iou, kps)
    dist = np.hypot(*((boxes[:, :2] + boxes[:, 2:]) / 2.0 - size / 2.0).T)
    best = int(np.argmin(dist))
    if dist[best] > 0.25 * size:
        return None
    back = cv2.invertAffineTransform(a)
    local = kps[best] - 0.5  # input pixel edges -> pixel centres, as the affine's
    return float(scores[best]), local @ back[:, :2].T + back[:, 2], eye_angle(kps[best])


def upright_keypoints(frame_bgr: np.ndarray, box: tuple[float, float, float, float], keypoints: np.ndarray,
                      infer: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]], size: int,
                      nms_iou: float, flip_above_deg: float = 20.0, settle_deg: float = SETTLE_DEG, passes: int = 3) -> np.ndarray:
    """Keypoints [6, 2] (frame pixel centres) re-detected on windows turned upright by the current
    estimate, until the residual turn is under ``settle_deg`` (at most ``passes`` looks, not
    counting the flip check). ``infer(blob)`` -> (boxes x0 y0 x1 y1, keypoints, scores) in input
    pixel edges, before NMS.

    When the face is still turned more than ``flip_above_deg`` after the first look, the window
    turned the other way round is tried too and the one the model scores higher wins: past about
    90 degrees the keypoints can point the wrong way (they stay near "upright" on an upside-down
    face), and the really upright window scores higher. The input keypoints come back unchanged
    when no window shows a face near its centre."""
    x, y, w, h = box
    centre = (x + w / 2.0 - 0.5, y + h / 2.0 - 0.5)  # pixel centres, as core.crop
    side = WINDOW_SCALE * max(w, h)
    kps = np.asarray(keypoints, np.float64)
    look = _look(frame_bgr, centre, side, eye_angle(kps), infer, size, nms_iou)
    if look is None:
        return kps
    if abs(eye_angle(look[1])) > np.radians(flip_above_deg):
        flipped = _look(frame_bgr, centre, side, eye_angle(look[1]) + np.pi, infer, size, nms_iou)
        if flipped is not None and flipped[0] > look[0]:
            look = flipped
    for _ in range(passes - 1):
        if abs(np.degrees(look[2])) < settle_deg:
            break
        again = _look(frame_bgr, centre, side, eye_angle(look[1]), infer, size, nms_iou)
        if again is None:
            break
        look = again
    return look[1]
