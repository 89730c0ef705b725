"""WFLW (98 points): the annotation list files ``list_98pt_rect_attr_{train,test}.txt``, one face a
line: ``x0 y0 ... x97 y97`` (pixels, as stored: WFLW does not document an origin, taken as 0-based),
face box ``x_min y_min x_max y_max``, six 0/1 attributes (pose, expression, illumination, make-up,
occlusion, blur) and the image path relative to ``WFLW_images/``.

``WFLW98_TO_68`` is the usual 98 -> 68 correspondence (every other contour point, the upper edge of
each brow, both nose lines, six eye points per eye, the whole mouth).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .sample import FaceSample, Skipped, no_pose, skip

WFLW98_TO_68: tuple[int, ...] = (
    tuple(range(0, 33, 2))  # jaw 0-16
    + (33, 34, 35, 36, 37, 42, 43, 44, 45, 46)  # brows 17-26: upper edges
    + tuple(range(51, 60))  # nose 27-35
    + (60, 61, 63, 64, 65, 67, 68, 69, 71, 72, 73, 75)  # eyes 36-47
    + tuple(range(76, 96))  # mouth 48-67
)
WFLW_ATTRIBUTES = ("pose", "expression", "illumination", "make-up", "occlusion", "blur")


def wflw_to_68(points98: np.ndarray) -> np.ndarray:
    return np.asarray(points98, np.float32)[list(WFLW98_TO_68)]


def make_sample(name: str, image: Path, points98: np.ndarray, to68: bool) -> FaceSample:
    pts = np.asarray(points98, np.float32)
    if to68:
        return FaceSample(name=name, image=image, landmarks=wflw_to_68(pts), pose=no_pose(),
                          source_points=pts, source_scheme="wflw98")
    return FaceSample(name=name, image=image, landmarks=pts, pose=no_pose(), scheme="wflw98")


def load_wflw_list(
    list_file: str | Path, images_root: str | Path, to68: bool = True, skipped: list[Skipped] | None = None,
) -> list[FaceSample]:
    """Faces of one WFLW list file; ``to68`` maps them onto iBUG 68 (98 points kept in ``source_points``).
    Names are ``<image path without suffix>#<face number in the file>`` (an image can hold several faces)."""
    list_file, images_root = Path(list_file), Path(images_root)
    if not list_file.is_file():
        raise FileNotFoundError(f"WFLW list file not found: {list_file}")
    samples = []
    for line_no, line in enumerate(list_file.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{list_file.name} line {line_no}"
        if len(fields) != 196 + 4 + 6 + 1:
            skip(skipped, where, f"{list_file}: line {line_no} has {len(fields)} fields, expected 207 "
                 "(98 x,y pairs, box, 6 attributes, image name)")
            continue
        try:
            pts = np.array(fields[:196], np.float64).reshape(98, 2)
        except ValueError as exc:
            skip(skipped, where, f"{list_file}: line {line_no}: {exc}")
            continue
        image = images_root / fields[-1]
        if not image.is_file():
            skip(skipped, fields[-1], f"{list_file} line {line_no}: image not found: {image}")
            continue
        name = f"{Path(fields[-1]).with_suffix('').as_posix()}#{line_no}"
        samples.append(make_sample(name, image, pts, to68))
    return samples
