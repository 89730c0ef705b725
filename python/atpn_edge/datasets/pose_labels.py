"""Head-pose labels for faces annotated with 68 2D points only (300W): fit a mean 3D face to the
points with a weak-perspective camera and read (yaw, pitch, roll) in AFLW2000-3D's convention.

The mean shape comes from AFLW2000-3D itself (``pt3d_68`` de-rotated by its own ``Pose_Para``,
centred, scaled to unit RMS radius, averaged and made mirror-symmetric), so labels share that
dataset's convention and camera model (AFLW2000's 3DMM fits are weak-perspective too). How well
labels fitted this way agree with AFLW2000's own poses: docs/POSE_LABELS.md.

Human 2D annotations (300W) follow the visible silhouette on the jaw, while the mean shape's jaw
points are fixed 3D vertices; on turned faces the two differ and drag yaw towards frontal (a 300W-LP
face at yaw -44 fits as -28 with the whole jaw). ``NO_SILHOUETTE`` leaves out the jaw except the
chin (6-10), which stays put; ``label_poses`` uses it by default.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..core.landmarks import IBUG68
from ..core.pose import euler_to_matrix, matrix_to_euler
from .aflw2000 import read_face3d_mat, read_pt3d_68
from .sample import FaceSample, Skipped, skip

NO_SILHOUETTE: tuple[int, ...] = tuple(range(6, 11)) + tuple(range(17, 68))
ALL_POINTS: tuple[int, ...] = tuple(range(68))


def mean_shape(points3d: Sequence[np.ndarray], poses: Sequence[np.ndarray]) -> np.ndarray:
    """Mean frontal 68-point shape [68, 3] (unit RMS radius, x right, y down, z to the viewer) from
    posed 3D points [68, 3] and their (yaw, pitch, roll) in degrees."""
    if len(points3d) == 0 or len(points3d) != len(poses):
        raise ValueError(f"need matching, non-empty point and pose lists (got {len(points3d)}, {len(poses)})")
    acc = np.zeros((68, 3))
    for pts, pose in zip(points3d, poses):
        frontal = (np.asarray(pts, np.float64) - np.mean(pts, axis=0)) @ euler_to_matrix(*pose)  # R^T p
        acc += frontal / np.sqrt((frontal**2).sum(axis=1).mean())
    shape = acc / len(points3d)
    mirrored = shape[list(IBUG68.flip)] * np.array([-1.0, 1.0, 1.0])
    shape = (shape + mirrored) / 2.0  # a symmetric face cannot bias yaw or roll
    return shape - shape.mean(axis=0)


def mean_shape_from_aflw2000(mat_files: Iterable[str | Path]) -> np.ndarray:
    """``mean_shape`` of the given AFLW2000-3D ``.mat`` files (pass a subset to hold faces out)."""
    pts, poses = [], []
    for path in mat_files:
        pts.append(read_pt3d_68(path))
        poses.append(read_face3d_mat(path)[1])
    return mean_shape(pts, poses)


def _weak_perspective_init(x: np.ndarray, shape: np.ndarray) -> tuple[np.ndarray, float]:
    """Closest scaled rotation to the least-squares affine camera (x ~ M @ shape)."""
    m, *_ = np.linalg.lstsq(shape, x, rcond=None)  # [3, 2]
    u, sv, vt = np.linalg.svd(m.T, full_matrices=False)  # m.T = u @ diag(sv) @ vt, [2, 3]
    rows = u @ vt  # orthonormal rows
    rot = np.vstack([rows, np.cross(rows[0], rows[1])])
    return rot, float(sv.mean())


def fit_pose(landmarks: np.ndarray, shape: np.ndarray, points: Sequence[int] = ALL_POINTS) -> tuple[np.ndarray, float]:
    """(yaw, pitch, roll) degrees and the RMS residual (fraction of the fitted face radius) of a
    weak-perspective fit of ``shape`` [68, 3] to 2D landmarks [68, 2], using the listed points
    (NaN rows are ignored)."""
    from scipy.optimize import least_squares
    from scipy.spatial.transform import Rotation

    pts = np.asarray(landmarks, np.float64)
    ok = np.zeros(len(pts), bool)
    ok[list(points)] = True
    ok &= np.isfinite(pts).all(axis=1)
    if ok.sum() < 6:
        raise ValueError(f"pose fit needs at least 6 visible points, got {int(ok.sum())}")
    x, model = pts[ok], np.asarray(shape, np.float64)[ok]
    centre_x, centre_m = x.mean(axis=0), model.mean(axis=0)
    x0, m0 = x - centre_x, model - centre_m
    rot, scale = _weak_perspective_init(x0, m0)

    def residual(p: np.ndarray) -> np.ndarray:
        r = Rotation.from_rotvec(p[:3]).as_matrix()
        return (p[3] * (m0 @ r[:2].T) + p[4:6] - x0).ravel()

    start = np.concatenate([Rotation.from_matrix(rot).as_rotvec(), [scale, 0.0, 0.0]])
    fit = least_squares(residual, start, method="lm")
    rot = Rotation.from_rotvec(fit.x[:3]).as_matrix()
    rms = float(np.sqrt((fit.fun**2).sum() / len(x))) / abs(fit.x[3])
    return matrix_to_euler(rot).astype(np.float32), rms


def label_poses(
    samples: Sequence[FaceSample], shape: np.ndarray, skipped: list[Skipped] | None = None,
    points: Sequence[int] = NO_SILHOUETTE,
) -> dict[str, np.ndarray]:
    """Fitted pose per sample name (human 2D annotations: see ``NO_SILHOUETTE``); samples the fit
    cannot use are skipped by name."""
    out = {}
    for s in samples:
        try:
            out[s.name] = fit_pose(s.landmarks, shape, points)[0]
        except ValueError as exc:
            skip(skipped, s.name, str(exc))
    return out


def write_pose_csv(path: str | Path, poses: dict[str, np.ndarray]) -> None:
    """``name, yaw_deg, pitch_deg, roll_deg`` per face (4 decimals), sorted by name."""
    with Path(path).open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "yaw_deg", "pitch_deg", "roll_deg"])
        for name in sorted(poses):
            w.writerow([name, *(f"{v:.4f}" for v in poses[name])])


def read_pose_csv(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows or rows[0] != ["name", "yaw_deg", "pitch_deg", "roll_deg"]:
        raise ValueError(f"{path}: not a pose CSV (header must be name, yaw_deg, pitch_deg, roll_deg)")
    try:
        return {r[0]: np.array([float(v) for v in r[1:4]], np.float32) for r in rows[1:] if r}
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: bad row ({exc})") from None


def attach_poses(samples: Sequence[FaceSample], poses: dict[str, np.ndarray]) -> int:
    """Set ``pose`` of the samples that have a label (in place); returns how many got one."""
    n = 0
    for s in samples:
        if s.name in poses:
            s.pose = np.asarray(poses[s.name], np.float32)
            n += 1
    return n


def attach_fitted_poses(
    samples: Sequence[FaceSample], aflw2000_root: str | Path, cache_csv: str | Path | None = None,
    skipped: list[Skipped] | None = None,
) -> int:
    """Give 68-point faces without a pose (300W) fitted labels, in place; returns how many got one.

    The mean shape comes from every ``.mat`` in ``aflw2000_root``. With ``cache_csv`` the labels are
    read from it when it exists and cover every sample, else fitted (about 10 ms a face) and written.
    """
    if cache_csv is not None and Path(cache_csv).is_file():
        cached = read_pose_csv(cache_csv)
        if all(s.name in cached for s in samples):
            return attach_poses(samples, cached)
    mats = sorted(Path(aflw2000_root).glob("*.mat"))
    if not mats:
        raise FileNotFoundError(f"pose labels need AFLW2000-3D .mat files for the mean shape; none in {aflw2000_root}")
    poses = label_poses(samples, mean_shape_from_aflw2000(mats), skipped)
    if cache_csv is not None:
        write_pose_csv(cache_csv, poses)
    return attach_poses(samples, poses)
