"""BlazeFace outputs -> boxes, keypoints and scores in model-input pixels (MediaPipe's
TensorsToDetectionsCalculator with fixed anchor sizes: every value is an offset from the anchor
centre in input pixels; the box is (centre x, centre y, w, h), then 6 keypoints (x, y))."""
from __future__ import annotations

import numpy as np

NUM_KEYPOINTS = 6
SCORE_CLIP = 100.0  # MediaPipe's score_clipping_thresh: logits clipped before the sigmoid


def sigmoid(logits: np.ndarray) -> np.ndarray:
    z = np.clip(np.asarray(logits, np.float64), -SCORE_CLIP, SCORE_CLIP)
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p: float) -> float:
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    return float(np.log(p / (1.0 - p)))


def decode(regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray, input_size: int,
           score_threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes [M, 4] x0 y0 x1 y1, keypoints [M, 6, 2], scores [M]) for the anchors scoring at
    least ``score_threshold``; ``regressors`` [N, 16], ``logits`` [N], ``anchors`` [N, 2] in [0, 1]."""
    reg = np.asarray(regressors).reshape(len(anchors), -1)
    if reg.shape[1] < 4 + 2 * NUM_KEYPOINTS:
        raise ValueError(f"regressors have {reg.shape[1]} values per anchor, expected {4 + 2 * NUM_KEYPOINTS}")
    logits = np.asarray(logits).reshape(-1)
    # sigmoid(z) >= t where z >= log(t / (1 - t)): the few anchors near or above that are the
    # only ones converted and tested (this runs on the detector's thread, holding the GIL)
    near = np.flatnonzero(logits >= _logit(score_threshold) - 1e-6)
    scores = sigmoid(logits[near])
    passed = scores >= score_threshold
    keep, scores = near[passed], scores[passed]
    centre = anchors[keep].astype(np.float64) * input_size  # anchor centres in input pixels
    r = reg[keep].astype(np.float64)
    mid = centre + r[:, 0:2]
    half = r[:, 2:4] / 2.0
    boxes = np.concatenate([mid - half, mid + half], axis=1)
    kps = centre[:, None, :] + r[:, 4:4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2)
    return boxes, kps, scores
