"""300VW: one folder per clip with ``annot/NNNNNN.pts`` (iBUG 68, 1-based, frame numbers from 1) and
either the decoded frames ``imgs/NNNNNN.jpg`` or the video ``vid.avi`` (then ``FaceSample.frame`` is
the 0-based frame index and ``image`` the video). ``broken`` lists frame numbers per clip to skip
(mmpose ships them as ``broken_frames.npy``: a pickled dict clip -> list of frame numbers).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .ibug_pts import PtsError, read_pts
from .sample import FaceSample, Skipped, find_image, no_pose, skip


def read_broken_frames(path: str | Path) -> dict[str, set[int]]:
    """mmpose's ``broken_frames.npy``; a trusted file of the data set (it needs pickle)."""
    obj = np.load(path, allow_pickle=True)
    table = obj.item() if obj.shape == () else obj
    return {str(k): {int(v) for v in frames} for k, frames in dict(table).items()}


def load_300vw_clip(
    clip_dir: str | Path, broken: dict[str, set[int]] | None = None, skipped: list[Skipped] | None = None,
) -> list[FaceSample]:
    """Annotated frames of one clip, in frame order; names are ``<clip>/<frame number>``."""
    clip_dir = Path(clip_dir)
    annot = clip_dir / "annot"
    if not annot.is_dir():
        raise FileNotFoundError(f"300VW clip {clip_dir}: no annot/ folder")
    video = next((p for p in sorted(clip_dir.glob("vid.*")) if p.is_file()), None)
    bad = (broken or {}).get(clip_dir.name, set())
    samples = []
    for pts_path in sorted(annot.glob("*.pts")):
        name = f"{clip_dir.name}/{pts_path.stem}"
        try:
            number = int(pts_path.stem)
        except ValueError:
            skip(skipped, name, f"{pts_path}: file name is not a frame number")
            continue
        if number in bad:
            skip(skipped, name, "listed as a broken frame")
            continue
        image, frame = find_image(clip_dir / "imgs" / pts_path.stem), None
        if image is None and video is not None:
            image, frame = video, number - 1
        if image is None:
            skip(skipped, name, f"{pts_path}: no imgs/{pts_path.stem}.jpg and no vid.* in {clip_dir}")
            continue
        try:
            landmarks = read_pts(pts_path)
        except PtsError as exc:
            skip(skipped, name, str(exc))
            continue
        samples.append(FaceSample(name=name, image=image, landmarks=landmarks, pose=no_pose(), frame=frame))
    return samples


def load_300vw(root: str | Path, skipped: list[Skipped] | None = None) -> list[FaceSample]:
    """Every clip folder (one with ``annot/``) under ``root``; uses ``root/broken_frames.npy`` if present."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"300VW folder not found: {root}")
    broken_file = root / "broken_frames.npy"
    broken = read_broken_frames(broken_file) if broken_file.is_file() else None
    samples = []
    for clip in sorted(p for p in root.iterdir() if (p / "annot").is_dir()):
        samples.extend(load_300vw_clip(clip, broken, skipped))
    return samples
