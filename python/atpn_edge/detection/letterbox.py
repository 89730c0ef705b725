"""Frame -> square model input of any size and aspect, and the way back.

The frame is scaled to fit the square (aspect kept) and centred; the border is black, which is
what MediaPipe's ImageToTensorCalculator gives (zero pixels, then normalised to -1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import letterbox_area

UNIT_RANGE_MEAN = UNIT_RANGE_STD = (0.5, 0.5, 0.5)  # (v/255 - 0.5) / 0.5 = v / 127.5 - 1


@dataclass(frozen=True)
class Letterbox:
    """Square input pixel p maps to frame pixel ``(p - offset) / scale`` (pixel-edge coordinates)."""

    size: int
    scale: float
    offset: tuple[float, float]

    def to_frame(self, xy: np.ndarray) -> np.ndarray:
        """[..., 2] input pixels -> frame pixels."""
        return (np.asarray(xy, np.float64) - np.asarray(self.offset)) / self.scale


def letterbox(frame_bgr: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """(blob f32 [1, 3, size, size], RGB in [-1, 1], and its mapping) from a BGR uint8 frame."""
    import cv2

    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 frame [H, W, 3], got {frame_bgr.dtype} {list(frame_bgr.shape)}")
    h, w = frame_bgr.shape[:2]
    if h < 1 or w < 1:
        raise ValueError(f"empty frame {w}x{h}")
    scale = size / max(h, w)
    nw, nh = max(1, min(size, round(w * scale))), max(1, min(size, round(h * scale)))
    x0, y0 = (size - nw) // 2, (size - nh) // 2
    if nw <= w and nh <= h:
        # Area averaging: point sampling would alias small faces away when a 1280x720 frame
        # shrinks 10x. Native: OpenCV's INTER_AREA is slow at non-integer factors and its
        # halving steps cost twice as much (BENCHMARKS.md, "A faster detector path").
        blob = letterbox_area(frame_bgr, nw, nh, x0, y0, size, UNIT_RANGE_MEAN, UNIT_RANGE_STD)
    else:  # a frame smaller than the input: interpolate up
        canvas = np.zeros((size, size, 3), np.uint8)
        canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(frame_bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
        blob = canvas[None, :, :, ::-1].transpose(0, 3, 1, 2).astype(np.float32)
        blob *= 1.0 / 127.5
        blob -= 1.0
    # The resize maps the frame's [0, w] edge range onto [x0, x0 + nw]. The long side fits exactly;
    # the short one differs from it by rounding only (< 0.5 input px), so one scale serves both
    # and square boxes stay square.
    exact = nw / w if w >= h else nh / h
    return blob, Letterbox(size=size, scale=exact, offset=(float(x0), float(y0)))
