"""Reference forms of the two kernels (SPEC section 4) for the runtime tests: cv2.warpAffine +
numpy for the crop, the heatmap formula in float64 numpy."""
from __future__ import annotations

import cv2
import numpy as np


def warp_crop_ref(frame: np.ndarray, affines: np.ndarray, size: int, mean, std) -> np.ndarray:
    out = []
    for a in np.asarray(affines, np.float64).reshape(-1, 2, 3):
        crop = cv2.warpAffine(frame, a, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        rgb = crop[:, :, ::-1].astype(np.float64) / 255.0
        out.append(((rgb - np.asarray(mean)) / np.asarray(std)).transpose(2, 0, 1))
    return np.asarray(out, np.float32)


def render_heatmap_ref(landmarks: np.ndarray, height: int, width: int, sigma: float) -> np.ndarray:
    lm = np.asarray(landmarks, np.float64)
    xs = np.arange(width) + 0.5
    ys = np.arange(height) + 0.5
    dx = xs[None, None, None, :] - width * lm[:, :, 0, None, None]
    dy = ys[None, None, :, None] - height * lm[:, :, 1, None, None]
    return np.exp(-(dx**2 + dy**2) / (2 * sigma**2)).max(axis=1, keepdims=True).astype(np.float32)
