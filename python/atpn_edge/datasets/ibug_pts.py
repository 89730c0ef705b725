"""iBUG ``.pts`` annotations (300W, 300VW, menpo): ``version: 1`` / ``n_points: N`` / ``{`` / N lines
``x y`` / ``}``, or the same point lines without the header. Coordinates are 1-based (the centre of
the top-left pixel is (1, 1)); the reader returns 0-based pixel centres.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .sample import FaceSample, Skipped, find_image, no_pose, relative_name, skip

IBUG_ORIGIN = 1.0  # subtract from .pts values to get 0-based pixel centres


class PtsError(ValueError):
    """A .pts file that cannot be read as the expected number of points; the message names the file."""


def read_pts(path: str | Path, num_points: int | None = 68) -> np.ndarray:
    """Points of one .pts file as float32 [N, 2], 0-based pixels. ``num_points=None`` accepts any N."""
    path = Path(path)
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError as exc:
        raise PtsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    lines = [ln for ln in lines if ln]
    declared = None
    if lines and lines[0].lower().startswith("version"):
        header = {}
        while lines and lines[0] != "{":
            key, _, value = lines.pop(0).partition(":")
            header[key.strip().lower()] = value.strip()
        if not lines or "}" not in lines:
            raise PtsError(f"{path}: header without a '{{ ... }}' point block")
        lines = lines[1 : lines.index("}")]
        try:
            declared = int(header.get("n_points", ""))
        except ValueError:
            raise PtsError(f"{path}: header has no valid n_points ({header.get('n_points')!r})") from None
    try:
        pts = np.array([[float(v) for v in ln.split()[:2]] for ln in lines], dtype=np.float64)
    except ValueError as exc:
        raise PtsError(f"{path}: not a list of 'x y' numbers ({exc})") from None
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise PtsError(f"{path}: every point line needs two numbers")
    if declared is not None and declared != len(pts):
        raise PtsError(f"{path}: header says n_points={declared} but the file holds {len(pts)} points")
    if num_points is not None and len(pts) != num_points:
        raise PtsError(f"{path}: {len(pts)} points, expected {num_points} (is this a {num_points}-point annotation?)")
    return (pts - IBUG_ORIGIN).astype(np.float32)


def load_pts_sample(pts_path: Path, root: Path, num_points: int = 68, image: Path | None = None) -> FaceSample:
    """One face from a .pts file and its image (same stem unless given). Raises with the file named."""
    image = image or find_image(pts_path)
    if image is None or not image.is_file():
        raise FileNotFoundError(f"{pts_path}: no image next to it (looked for {pts_path.stem}.jpg/.png/...)")
    landmarks = read_pts(pts_path, num_points)
    return FaceSample(name=relative_name(image, root), image=image, landmarks=landmarks, pose=no_pose())


def load_ibug_folder(root: str | Path, skipped: list[Skipped] | None = None, num_points: int = 68) -> list[FaceSample]:
    """Every ``.pts`` + image pair under ``root`` (recursively), sorted by name. Bad pairs are skipped
    (logged, and appended to ``skipped`` when given)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {root}")
    samples = []
    for pts_path in sorted(root.rglob("*.pts")):
        try:
            samples.append(load_pts_sample(pts_path, root, num_points))
        except (PtsError, FileNotFoundError) as exc:
            skip(skipped, relative_name(pts_path, root) + ".pts", str(exc))
    return sorted(samples, key=lambda s: s.name)
