"""AFLW2000-3D (and 300W-LP, same ``.mat`` layout): ``imageNNNNN.jpg`` + ``imageNNNNN.mat``.

``Pose_Para`` (1x7) starts with pitch, yaw, roll in radians; we return (yaw, pitch, roll) in degrees,
signs unchanged (they define the project's pose convention, docs/SPEC.md). ``pt3d_68`` rows 0 and 1 (or
``pt2d`` 2x68 in 300W-LP) are the 68 iBUG points in image pixels.

Pixel origin (docs/DATASETS.md, scripts/research/check_pixel_origin.py): ``pt3d_68`` is used as stored
(``PT3D_ORIGIN`` = 0). A mirror-symmetry test on frontal faces puts its effective x origin at
0.29 +/- 0.18 px, against 1.59 +/- 0.11 for 300W's 1-based ``.pts``: as stored, AFLW2000 and 300W
(minus 1) agree within 0.3 px; subtracting 1 would set them 1.3 px apart. 300W-LP's ``pt2d`` holds
300W's own annotations, so it is taken as 1-based like the ``.pts`` (``PT2D_ORIGIN`` = 1; not
measurable on the single sample here).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .sample import FaceSample, Skipped, find_image, relative_name, skip

PT3D_ORIGIN = 0.0
PT2D_ORIGIN = 1.0


class MatError(ValueError):
    """A .mat file without the expected fields; the message names the file."""


def pose_from_pose_para(pose_para: np.ndarray) -> np.ndarray:
    """``Pose_Para`` [pitch, yaw, roll (radians), ...] -> float32 (yaw, pitch, roll) in degrees."""
    p = np.asarray(pose_para, dtype=np.float64).reshape(-1)
    return np.degrees(np.array([p[1], p[0], p[2]])).astype(np.float32)


def _loadmat(path: Path) -> dict:
    import scipy.io  # only the .mat loaders need scipy

    try:
        return scipy.io.loadmat(str(path))
    except Exception as exc:  # scipy raises several types (ValueError, MatReadError, OSError) for bad files
        raise MatError(f"{path}: not a readable .mat file ({exc})") from None


def read_pt3d_68(path: str | Path) -> np.ndarray:
    """AFLW2000-3D ``pt3d_68`` as float64 [68, 3]: x, y in 0-based pixels, z as stored (same scale,
    towards the viewer); the 3D points that ``Pose_Para`` rotates."""
    path = Path(path)
    pts = np.asarray(_loadmat(path).get("pt3d_68", np.empty(0)), dtype=np.float64)
    if pts.shape != (3, 68):
        raise MatError(f"{path}: no 'pt3d_68' of shape [3, 68]")
    pts = pts.T.copy()
    pts[:, :2] -= PT3D_ORIGIN
    return pts


def read_face3d_mat(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(landmarks float32 [68, 2] 0-based pixels, pose float32 [3] yaw/pitch/roll degrees) of one .mat."""
    path = Path(path)
    mat = _loadmat(path)
    if "pt3d_68" in mat:
        pts = np.asarray(mat["pt3d_68"], dtype=np.float64)[:2]
        origin = PT3D_ORIGIN
    elif "pt2d" in mat and np.shape(mat["pt2d"]) == (2, 68):
        pts = np.asarray(mat["pt2d"], dtype=np.float64)
        origin = PT2D_ORIGIN
    else:
        raise MatError(f"{path}: has neither 'pt3d_68' (3x68) nor 'pt2d' (2x68)")
    if pts.shape != (2, 68):
        raise MatError(f"{path}: 68-point array has shape {list(pts.shape)}, expected [2 or 3, 68]")
    if "Pose_Para" not in mat or np.size(mat["Pose_Para"]) < 3:
        raise MatError(f"{path}: no 'Pose_Para' (pitch, yaw, roll, ...)")
    if not np.isfinite(pts).all():
        raise MatError(f"{path}: landmarks contain NaN or inf")
    return (pts.T - origin).astype(np.float32), pose_from_pose_para(mat["Pose_Para"])


def load_aflw2000(root: str | Path, skipped: list[Skipped] | None = None) -> list[FaceSample]:
    """Every ``.mat`` + image pair under ``root`` (recursively; works for 300W-LP folders too)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {root}")
    samples = []
    for mat_path in sorted(root.rglob("*.mat")):
        name = relative_name(mat_path, root)
        image = find_image(mat_path)
        if image is None:
            skip(skipped, name + ".mat", f"{mat_path}: no image next to it")
            continue
        try:
            landmarks, pose = read_face3d_mat(mat_path)
        except MatError as exc:
            skip(skipped, name + ".mat", str(exc))
            continue
        samples.append(FaceSample(name=name, image=image, landmarks=landmarks, pose=pose))
    return samples
