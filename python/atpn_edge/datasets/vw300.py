"""300VW: one folder per clip with ``annot/NNNNNN.pts`` (iBUG 68, 1-based, frame numbers from 1) and
either the decoded frames ``imgs/NNNNNN.jpg`` or the video ``vid.avi`` (then ``FaceSample.frame`` is
the 0-based frame index and ``image`` the video). ``broken`` lists frame numbers per clip to skip
(mmpose ships them as ``broken_frames.npy``: a pickled dict clip -> list of frame numbers, read
without running any code the file might name).
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .ibug_pts import PtsError, read_pts
from .sample import FaceSample, Skipped, find_image, no_pose, skip


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy object arrays of plain values and nothing else: any other class or function
    a file names (the way a pickle runs code) is refused, so a planted file cannot run code."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_broken_frames(path: str | Path) -> dict[str, set[int]]:
    """mmpose's ``broken_frames.npy`` (a pickled 0-d object array holding a dict clip -> frame
    numbers), read with a restricted unpickler: only numpy arrays of plain values load."""
    path = Path(path)
    with path.open("rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            shape, _, dtype = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)(f)
            if dtype != object:
                raise ValueError(f"expected an object array, got dtype {dtype}")
            obj = _ArrayOnlyUnpickler(f).load()
        except (ValueError, EOFError, pickle.UnpicklingError) as exc:
            raise ValueError(f"{path}: not an mmpose broken_frames.npy ({exc})") from None
    table = obj.item() if getattr(obj, "shape", None) == () else obj
    if not isinstance(table, dict):
        raise ValueError(f"{path}: expected a dict clip -> frame numbers, got {type(table).__name__}")
    try:
        return {str(k): {int(v) for v in frames} for k, frames in table.items()}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: frame numbers must be integers ({exc})") from None


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
