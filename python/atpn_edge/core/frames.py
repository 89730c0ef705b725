"""Frame format for the tracker and the sinks: everything becomes BGR uint8 [H, W, 3]. Bad frames
raise as everywhere else in the package (``core.validate``): a wrong type or dtype is a ``TypeError``,
an empty frame or a wrong channel count a ``ValueError``."""
from __future__ import annotations

import numpy as np

from .validate import check_frame_array


def as_bgr(frame: np.ndarray) -> np.ndarray:
    """BGR uint8 [H, W, 3] from a BGR, grey ([H, W] or [H, W, 1]) or BGRA uint8 frame."""
    import cv2

    check_frame_array(frame)
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise ValueError(f"frame must be [H, W], [H, W, 1], [H, W, 3] or [H, W, 4], got {list(frame.shape)}")
