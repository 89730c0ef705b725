"""Photometric and occlusion augmentation of uint8 BGR crops (geometry is done by the crop itself).

Every function takes a numpy Generator so a fixed seed reproduces a run.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class PhotoAug:
    brightness: float = 0.25  # +- fraction of 255
    contrast: float = 0.3  # multiplicative +-
    saturation: float = 0.4
    gray_p: float = 0.1
    blur_p: float = 0.2
    blur_sigma: tuple[float, float] = (0.3, 1.5)
    noise_p: float = 0.2
    noise_std: float = 6.0
    occlude_p: float = 0.3
    occlude_area: tuple[float, float] = (0.03, 0.2)  # fraction of the crop


def colour(img: np.ndarray, rng: np.random.Generator, aug: PhotoAug) -> np.ndarray:
    out = img.astype(np.float32)
    if rng.random() < aug.gray_p:
        g = out @ np.array([0.114, 0.587, 0.299], np.float32)
        out = np.repeat(g[..., None], 3, axis=2)
    else:
        grey = out.mean(axis=2, keepdims=True)
        out = grey + (out - grey) * (1.0 + rng.uniform(-aug.saturation, aug.saturation))
    mean = out.mean()
    out = (out - mean) * (1.0 + rng.uniform(-aug.contrast, aug.contrast)) + mean
    out += rng.uniform(-aug.brightness, aug.brightness) * 255.0
    out *= rng.uniform(0.9, 1.1, size=3).astype(np.float32)  # white balance
    if rng.random() < aug.noise_p:
        out += rng.normal(0.0, aug.noise_std, size=out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def blur(img: np.ndarray, rng: np.random.Generator, aug: PhotoAug) -> np.ndarray:
    if rng.random() >= aug.blur_p:
        return img
    return cv2.GaussianBlur(img, (0, 0), float(rng.uniform(*aug.blur_sigma)))


def occlude(img: np.ndarray, rng: np.random.Generator, aug: PhotoAug) -> np.ndarray:
    """A rectangle of flat colour or noise (hands, microphones, hair); landmarks stay labelled so the
    network learns to place hidden points from the rest of the face."""
    if rng.random() >= aug.occlude_p:
        return img
    h, w = img.shape[:2]
    area = rng.uniform(*aug.occlude_area) * h * w
    aspect = np.exp(rng.uniform(-0.8, 0.8))
    rh = int(min(h, max(4, np.sqrt(area * aspect))))
    rw = int(min(w, max(4, np.sqrt(area / aspect))))
    y, x = int(rng.integers(0, h - rh + 1)), int(rng.integers(0, w - rw + 1))
    out = img.copy()
    if rng.random() < 0.5:
        out[y:y + rh, x:x + rw] = rng.integers(0, 256, size=3, dtype=np.uint8)
    else:
        out[y:y + rh, x:x + rw] = rng.integers(0, 256, size=(rh, rw, 3), dtype=np.uint8)
    return out


def photometric(img: np.ndarray, rng: np.random.Generator, aug: PhotoAug) -> np.ndarray:
    return occlude(blur(colour(img, rng, aug), rng, aug), rng, aug)
