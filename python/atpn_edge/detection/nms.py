"""MediaPipe's weighted non-maximum suppression, on arrays.

Candidates are taken best first; every remaining candidate that overlaps the best one by more
than ``iou`` joins its group, and the group's boxes and keypoints are averaged with the scores as
weights (steadier boxes than plain NMS); the group keeps the best score.
"""
from __future__ import annotations

import numpy as np


def iou_matrix(boxes: np.ndarray) -> np.ndarray:
    """[N, N] intersection over union of [N, 4] (x0, y0, x1, y1) boxes."""
    b = np.asarray(boxes, np.float64)
    lo = np.maximum(b[:, None, :2], b[None, :, :2])
    hi = np.minimum(b[:, None, 2:], b[None, :, 2:])
    inter = np.clip(hi - lo, 0, None).prod(-1)
    area = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(-1)
    union = area[:, None] + area[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.3,
                 keypoints: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(boxes [M, 4], scores [M], keypoints [M, K, 2] or None), best score first.

    ``boxes`` [N, 4] as (x0, y0, x1, y1); ``keypoints`` [N, K, 2] are averaged like the boxes."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(boxes) != len(scores):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    kps = None if keypoints is None else np.asarray(keypoints, np.float64)[order]
    overlap = iou_matrix(boxes) > iou
    free = np.ones(len(boxes), bool)
    out_b, out_s, out_k = [], [], []
    for i in range(len(boxes)):  # one pass per kept face, not per candidate
        if not free[i]:
            continue
        group = free & overlap[i]
        group[i] = True
        free &= ~group
        w = scores[group] / scores[group].sum()
        out_b.append(w @ boxes[group])
        out_s.append(scores[i])
        if kps is not None:
            out_k.append(np.tensordot(w, kps[group], axes=1))
    if not out_b:
        return np.zeros((0, 4)), np.zeros(0), None if kps is None else np.zeros((0,) + kps.shape[1:])
    return np.array(out_b), np.array(out_s), None if kps is None else np.array(out_k)
