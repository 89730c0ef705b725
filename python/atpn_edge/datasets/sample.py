"""The record every dataset loader returns, and the list of items a loader had to skip.

Conventions (docs/CONTRIBUTING_INTERNAL.md): landmarks are 0-based pixel centres of the image file
(OpenCV), NaN rows mark points the annotation does not have; pose is (yaw, pitch, roll) in degrees
in AFLW2000-3D's sign convention, NaN for angles the dataset does not give.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger("atpn_edge.datasets")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp")


@dataclass
class FaceSample:
    name: str  # unique within one loader call; relative path without suffix where there are folders
    image: Path
    landmarks: np.ndarray  # float32 [K, 2], K = 68 unless ``scheme`` says otherwise
    pose: np.ndarray = field(default_factory=lambda: np.full(3, np.nan, np.float32))  # yaw, pitch, roll
    is_face: bool = True
    scheme: str = "ibug68"
    # The annotation in its own point scheme when it was mapped onto ``scheme`` (AFLW 21, WFLW 98),
    # so nothing the mapping dropped (eye centres, extra contour points) is lost.
    source_points: np.ndarray | None = None
    source_scheme: str = ""
    frame: int | None = None  # 0-based frame index when ``image`` is a video file (300VW)

    def __post_init__(self) -> None:
        self.image = Path(self.image)
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32)
        self.pose = np.asarray(self.pose, dtype=np.float32)
        if self.landmarks.ndim != 2 or self.landmarks.shape[1] != 2:
            raise ValueError(f"{self.name}: landmarks must be [K, 2], got {list(self.landmarks.shape)}")
        if self.pose.shape != (3,):
            raise ValueError(f"{self.name}: pose must be [3] (yaw, pitch, roll), got {list(self.pose.shape)}")

    @property
    def has_all_points(self) -> bool:
        return bool(np.isfinite(self.landmarks).all())


@dataclass(frozen=True)
class Skipped:
    name: str  # file or item name, as a user can find it
    reason: str


def skip(skipped: list[Skipped] | None, name: str, reason: str) -> None:
    """Record a bad item: collected when a list is given (the caller reports it), else logged as a
    warning (stderr by default) so that it is never silent."""
    if skipped is not None:
        skipped.append(Skipped(str(name), reason))
        log.debug("skipped %s: %s", name, reason)
    else:
        log.warning("skipped %s: %s", name, reason)


def find_image(stem_path: Path) -> Path | None:
    """The image next to an annotation file: same stem, any common image suffix."""
    for suffix in IMAGE_SUFFIXES:
        for cand in (stem_path.with_suffix(suffix), stem_path.with_suffix(suffix.upper())):
            if cand.is_file():
                return cand
    return None


def relative_name(path: Path, root: Path) -> str:
    """Path relative to the dataset root, without suffix, with forward slashes."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    return rel.with_suffix("").as_posix()


def no_pose() -> np.ndarray:
    return np.full(3, np.nan, np.float32)
