"""BlazeFace outputs -> boxes, keypoints and scores (MediaPipe's TensorsToDetectionsCalculator with
fixed anchor sizes: every value is an offset from the anchor centre in input pixels; the box is
(centre x, centre y, w, h), then 6 keypoints (x, y); scores are sigmoid(clip(logit, -100, 100)),
MediaPipe's score clipping). One native call (cpp/cpu/detection_post.cpp): it runs on the
detector's worker thread, where every numpy step would hold the GIL the tracking thread needs;
tests/test_detection_blazeface.py holds it to the formula written in numpy."""
from __future__ import annotations

import numpy as np

NUM_KEYPOINTS = 6

_native = None


def decode(regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray, input_size: int,
           score_threshold: float, scale: float = 1.0, offset: tuple[float, float] = (0.0, 0.0),
           shift: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes [M, 4] x0 y0 x1 y1, keypoints [M, 6, 2], scores [M]) for the anchors scoring at
    least ``score_threshold``; ``regressors`` [N, >= 16], ``logits`` [N], ``anchors`` [N, 2] in
    [0, 1]. Points are in input pixels, or with ``scale``/``offset``/``shift`` mapped to
    ``(p - offset) / scale + shift`` (a letterbox undone, a tile's origin added)."""
    global _native
    if _native is None:
        from .. import _cpu as _native
    reg = np.asarray(regressors, np.float32).reshape(len(anchors), -1)
    if reg.shape[1] < 4 + 2 * NUM_KEYPOINTS:
        raise ValueError(f"regressors have {reg.shape[1]} values per anchor, expected {4 + 2 * NUM_KEYPOINTS}")
    return _native.blazeface_decode(reg, np.asarray(logits, np.float32).reshape(-1), anchors, int(input_size),
                                    float(score_threshold), float(scale), offset, shift)
