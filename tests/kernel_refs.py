"""Float64 references for the kernel tests (the formulas of docs/SPEC.md, Kernels) and shared random-case helpers."""
from __future__ import annotations

import cv2
import numpy as np

from helpers import seeded_rng

MEAN = (0.485, 0.456, 0.406)  # RGB, ImageNet-like: any finite mean with std > 0 must work
STD = (0.229, 0.224, 0.225)


def fresh_rng() -> tuple[np.random.Generator, int]:
    """A new random generator per test run; the seed is printed (ATPN_TEST_SEED=N replays it)."""
    return seeded_rng()


def crop_affine(cx: float, cy: float, side: float, angle_deg: float, size: int) -> np.ndarray:
    """Frame->crop affine: a square of `side` frame pixels centred at (cx, cy), rotated."""
    a = cv2.getRotationMatrix2D((float(cx), float(cy)), float(angle_deg), size / float(side))
    a[:, 2] += (size / 2.0 - cx, size / 2.0 - cy)
    return a


def case_affines(rng: np.random.Generator, h: int, w: int, size: int, n: int) -> np.ndarray:
    """n affines mixing centred, rotated, scaled crops and crops hanging off every frame edge."""
    out = []
    for i in range(n):
        side = rng.uniform(0.2, 1.5) * min(h, w) + 2
        kind = i % 6
        if kind == 0:    # inside, any rotation
            cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
        elif kind == 1:  # off the left/top corner
            cx, cy = rng.uniform(-0.3, 0.1) * w, rng.uniform(-0.3, 0.1) * h
        elif kind == 2:  # off the right edge
            cx, cy = rng.uniform(0.9, 1.3) * w, rng.uniform(0.2, 0.8) * h
        elif kind == 3:  # off the bottom edge
            cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.9, 1.3) * h
        elif kind == 4:  # larger than the frame: runs off all four edges
            cx, cy, side = w / 2, h / 2, 2.5 * max(h, w)
        else:            # entirely outside: all zeros before normalisation
            cx, cy = -3.0 * w, 2.0 * h
        out.append(crop_affine(cx, cy, side, rng.uniform(-180, 180), size))
    return np.stack(out)


def warp_reference(frame: np.ndarray, affines: np.ndarray, size: int, mean=MEAN, std=STD,
                   normalise: bool = True) -> np.ndarray:
    """Exact float64 bilinear crop with a constant 0 border -> [N,3,S,S] RGB (grey levels when
    normalise=False)."""
    h, w = frame.shape[:2]
    padded = np.zeros((h + 2, w + 2, 3), np.float64)  # 1-px zero ring = constant 0 border
    padded[1:-1, 1:-1] = frame
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    res = []
    for a in affines:
        inv = np.linalg.inv(np.vstack([a, [0.0, 0.0, 1.0]]))
        sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
        sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
        outside = ~((sx > -1) & (sx < w) & (sy > -1) & (sy < h))
        sx, sy = np.where(outside, -1.0, sx), np.where(outside, -1.0, sy)
        x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
        fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
        tap = lambda yy, xx: padded[yy + 1, xx + 1]  # noqa: E731
        v = ((1 - fy) * ((1 - fx) * tap(y0, x0) + fx * tap(y0, x0 + 1))
             + fy * ((1 - fx) * tap(y0 + 1, x0) + fx * tap(y0 + 1, x0 + 1)))
        v[outside] = 0.0
        res.append(v[..., ::-1].transpose(2, 0, 1))  # BGR -> RGB planes
    out = np.stack(res)
    if normalise:
        out = (out / 255.0 - np.asarray(mean)[:, None, None]) / np.asarray(std)[:, None, None]
    return out


def opencv_crop(frame: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """cv2.warpAffine crop as RGB planes in grey levels (float64)."""
    c = cv2.warpAffine(frame, affine, (size, size), flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return c[..., ::-1].transpose(2, 0, 1).astype(np.float64)


def heatmap_reference(landmarks: np.ndarray, height: int, width: int, sigma: float) -> np.ndarray:
    """SPEC section 4 formula in float64: [N,K,2] -> [N,1,H,W]."""
    lm = landmarks.astype(np.float64)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    dx = xs[None, None] + 0.5 - width * lm[:, :, 0, None, None]
    dy = ys[None, None] + 0.5 - height * lm[:, :, 1, None, None]
    return np.exp(-(dx ** 2 + dy ** 2) / (2.0 * sigma ** 2)).max(axis=1, keepdims=True)
