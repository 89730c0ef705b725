"""Landmark schemes: point counts, eye groups and left/right flip permutations.

Pixel convention used everywhere in atpn-edge: 0-based pixel centres, as OpenCV uses them
(the centre of the top-left pixel is (0, 0)). iBUG ``.pts`` files are 1-based: loaders subtract 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LandmarkScheme:
    name: str
    num_points: int
    left_eye: tuple[int, ...]  # the eye on the image's left for a frontal face
    right_eye: tuple[int, ...]
    flip: tuple[int, ...]  # index map for a horizontal mirror: new[i] = old[flip[i]]
    outer_eye_corners: tuple[int, int]  # inter-ocular normalisation (NME)


def _ibug68_flip() -> tuple[int, ...]:
    pairs = [(i, 16 - i) for i in range(8)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(31, 35), (32, 34)]  # lower nose
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (59, 55), (58, 56)]  # outer lips
    pairs += [(60, 64), (61, 63), (67, 65)]  # inner lips
    flip = list(range(68))
    for a, b in pairs:
        flip[a], flip[b] = b, a
    return tuple(flip)


IBUG68 = LandmarkScheme(
    name="ibug68",
    num_points=68,
    left_eye=tuple(range(36, 42)),
    right_eye=tuple(range(42, 48)),
    flip=_ibug68_flip(),
    outer_eye_corners=(36, 45),
)

SCHEMES = {IBUG68.name: IBUG68}


def scheme_by_name(name: str) -> LandmarkScheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown landmark scheme {name!r}; known: {sorted(SCHEMES)}") from None


def eye_centres(landmarks: np.ndarray, scheme: LandmarkScheme = IBUG68) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each eye's points, (left, right), for landmarks [..., K, 2]."""
    pts = np.asarray(landmarks, dtype=np.float64)
    return pts[..., list(scheme.left_eye), :].mean(axis=-2), pts[..., list(scheme.right_eye), :].mean(axis=-2)


def flip_landmarks(landmarks: np.ndarray, width: float, scheme: LandmarkScheme = IBUG68) -> np.ndarray:
    """Mirror landmarks [K, 2] (0-based pixel centres) in an image of the given width."""
    pts = np.asarray(landmarks, dtype=np.float64)[list(scheme.flip)].copy()
    pts[:, 0] = (width - 1) - pts[:, 0]
    return pts
