"""AFLW 120x120 crops (``aflw_crops/``): ``labels.csv`` = ``name, yaw_deg, x0, y0, ..., x20, y20`` with
empty cells for invisible points. Only yaw is known; pitch and roll are NaN.

The 21 AFLW points are mapped onto the iBUG 68 scheme where AFLW has the same point
(``AFLW21_TO_68``); all other 68 rows are NaN. The map was checked on AFLW2000-3D, which holds both
the 21 AFLW points (``pt2d``) and the 68 points (``pt3d_68``) of the same faces: median distance
of each mapped pair over 400 faces, in inter-ocular distances, 0.026-0.046. Not mapped:
eye centres 7, 10 and mouth centre 18 (no 68 counterpart; kept in ``source_points``), ears 12, 16
(AFLW's ear lobe is not a jaw point), nose wings 13, 15 (0.066 from 31/35: a different definition).
AFLW's NoseCenter (14) is the nose tip, iBUG 30 (median distance 0.037).

Pixel origin: as stored (AFLW does not document it); treated as 0-based.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .sample import FaceSample, Skipped, skip

AFLW21_NAMES = (
    "LeftBrowLeftCorner", "LeftBrowCenter", "LeftBrowRightCorner", "RightBrowLeftCorner",
    "RightBrowCenter", "RightBrowRightCorner", "LeftEyeLeftCorner", "LeftEyeCenter",
    "LeftEyeRightCorner", "RightEyeLeftCorner", "RightEyeCenter", "RightEyeRightCorner", "LeftEar",
    "NoseLeft", "NoseCenter", "NoseRight", "RightEar", "MouthLeftCorner", "MouthCenter",
    "MouthRightCorner", "ChinCenter",
)

AFLW21_TO_68 = {
    0: 17, 1: 19, 2: 21, 3: 22, 4: 24, 5: 26,  # brows
    6: 36, 8: 39, 9: 42, 11: 45,  # eye corners
    14: 30,  # nose tip
    17: 48, 19: 54,  # mouth corners
    20: 8,  # chin
}


def aflw21_to_68(points21: np.ndarray) -> np.ndarray:
    """[21, 2] AFLW points (NaN = invisible) -> [68, 2] with NaN where there is no counterpart."""
    out = np.full((68, 2), np.nan, np.float32)
    src = np.asarray(points21, dtype=np.float32)
    for a, b in AFLW21_TO_68.items():
        out[b] = src[a]
    return out


def _cell(value: str) -> float:
    return float(value) if value.strip() else np.nan


def load_aflw_crops(root: str | Path, skipped: list[Skipped] | None = None) -> list[FaceSample]:
    """Faces of ``root/labels.csv`` whose image exists; ``source_points`` holds the 21 AFLW points."""
    root = Path(root)
    labels = root / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"AFLW crops: {labels} not found")
    samples = []
    with labels.open(newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if header is None or len(header) != 2 + 2 * 21 or header[:2] != ["name", "yaw_deg"]:
            raise ValueError(f"{labels}: header must be name, yaw_deg, x0, y0, ..., x20, y20")
        for line_no, row in enumerate(rows, start=2):
            if not row:
                continue
            name = row[0] or f"{labels}:{line_no}"
            try:
                if len(row) != len(header):
                    raise ValueError(f"{len(row)} cells, expected {len(header)}")
                yaw = float(row[1])
                pts21 = np.array([_cell(v) for v in row[2:]], np.float32).reshape(21, 2)
            except ValueError as exc:
                skip(skipped, name, f"{labels} line {line_no}: {exc}")
                continue
            image = root / name
            if not image.is_file():
                skip(skipped, name, f"image not found: {image}")
                continue
            samples.append(FaceSample(
                name=Path(name).stem, image=image, landmarks=aflw21_to_68(pts21),
                pose=np.array([yaw, np.nan, np.nan], np.float32),
                source_points=pts21, source_scheme="aflw21",
            ))
    return samples
