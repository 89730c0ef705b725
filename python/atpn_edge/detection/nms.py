"""MediaPipe's weighted non-maximum suppression (one native call, cpp/cpu/detection_post.cpp).

Candidates are taken best first; every remaining candidate that overlaps the best one by more
than ``iou`` (intersection over union) joins its group, and the group's boxes and keypoints are
averaged with the scores as weights (steadier boxes than plain NMS); the group keeps the best score.
"""
from __future__ import annotations

import numpy as np

_native = None


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.3,
                 keypoints: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(boxes [M, 4], scores [M], keypoints [M, K, 2] or None), best score first.

    ``boxes`` [N, 4] as (x0, y0, x1, y1); ``keypoints`` [N, K, 2] are averaged like the boxes."""
    global _native
    if _native is None:
        from .. import _cpu as _native
    boxes = np.ascontiguousarray(boxes, np.float64).reshape(-1, 4)
    scores = np.ascontiguousarray(scores, np.float64).reshape(-1)
    if len(boxes) != len(scores):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    kps = None if keypoints is None else np.ascontiguousarray(keypoints, np.float64)
    return _native.weighted_nms(boxes, scores, float(iou), kps)
