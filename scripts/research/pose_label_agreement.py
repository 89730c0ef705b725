"""How well do weak-perspective pose labels (atpn_edge.datasets.pose_labels) agree with AFLW2000-3D's
own Pose_Para? Two-fold: the mean shape comes from one half of the faces, poses are fitted on the
other half's 2D points: rows 0-1 of pt3d_68 (3DMM points, all 68 or the ``NO_SILHOUETTE`` subset,
optionally with Gaussian noise of sigma x inter-ocular distance) and the 21 human-annotated AFLW
points (pt2d). Then the one 300W-LP sample with a pose, and the spread of the 300W labels.
Prints Markdown for docs/POSE_LABELS.md.

Measured: pose fitted to all 68 pt3d_68 points agrees with AFLW2000-3D's Pose_Para to 1.14 deg mean
MAE, to the 14 human AFLW points 5.76 deg (docs/POSE_LABELS.md).

    python scripts/research/pose_label_agreement.py [--data ../shared/data] [--csv OUT.csv]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.io

from atpn_edge.datasets import load_ibug_folder
from atpn_edge.datasets.aflw2000 import PT3D_ORIGIN, read_face3d_mat
from atpn_edge.datasets.aflw_crops import aflw21_to_68
from atpn_edge.datasets.pose_labels import (
    ALL_POINTS, NO_SILHOUETTE, fit_pose, label_poses, mean_shape_from_aflw2000, write_pose_csv,
)


def human21(path: Path) -> np.ndarray | None:
    pts = np.asarray(scipy.io.loadmat(str(path))["pt2d"], np.float64).T
    if pts.shape != (21, 2):
        return None  # a few files hold a different AFLW point count
    pts[pts[:, 0] < 0] = np.nan
    return aflw21_to_68(pts - PT3D_ORIGIN)


def two_fold(mats: list[Path], cases: dict, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {name: ([], []) for name in cases}
    halves = (mats[0::2], mats[1::2])
    for train, test in (halves, halves[::-1]):
        shape = mean_shape_from_aflw2000(train)
        for path in test:
            lm, pose = read_face3d_mat(path)
            iod = np.linalg.norm(lm[36] - lm[45])
            for name, (points, noise) in cases.items():
                src = human21(path) if points == "aflw21" else lm + rng.normal(0.0, noise * iod, lm.shape)
                if src is None or np.isfinite(src).all(axis=1).sum() < 6:
                    continue
                out[name][0].append(pose)
                out[name][1].append(fit_pose(src, shape, ALL_POINTS if points == "aflw21" else points)[0])
    return {k: (np.array(t), np.array(e)) for k, (t, e) in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    ap.add_argument("--csv", type=Path, help="also write the 300W pose labels here")
    args = ap.parse_args()
    mats = sorted((args.data / "aflw2000").glob("*.mat"))
    if not mats:
        print(f"no AFLW2000 .mat files under {args.data / 'aflw2000'}", file=sys.stderr)
        return 2
    cases = {
        "pt3d_68, all 68 points": (ALL_POINTS, 0.0),
        "pt3d_68, NO_SILHOUETTE": (NO_SILHOUETTE, 0.0),
        "pt3d_68, NO_SILHOUETTE, noise 0.02 IOD": (NO_SILHOUETTE, 0.02),
        "pt3d_68, NO_SILHOUETTE, noise 0.04 IOD": (NO_SILHOUETTE, 0.04),
        "pt2d: 14 human AFLW points": ("aflw21", 0.0),
    }
    print("| fitted to | faces | MAE yaw | MAE pitch | MAE roll | mean | median yaw/pitch/roll | 95th pct |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (truth, est) in two_fold(mats, cases, np.random.default_rng(0)).items():
        keep = (np.abs(truth) <= 99).all(axis=1)
        err = np.abs(est - truth)[keep]
        m, med, p95 = err.mean(axis=0), np.median(err, axis=0), np.percentile(err, 95, axis=0)
        fmt = lambda v: "/".join(f"{x:.1f}" for x in v)  # noqa: E731
        print(f"| {name} | {keep.sum()} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.2f} | {m.mean():.2f} | {fmt(med)} | {fmt(p95)} |")

    shape = mean_shape_from_aflw2000(mats)
    lp = args.data / "formats" / "300wlp_face3d" / "IBUG_image_008_1_0.mat"
    if lp.is_file():
        lm, pose = read_face3d_mat(lp)
        print(f"\n300W-LP {lp.stem} (human 300W points): Pose_Para yaw/pitch/roll {np.round(pose, 1)}; "
              f"fit all 68 {np.round(fit_pose(lm, shape, ALL_POINTS)[0], 1)}, "
              f"NO_SILHOUETTE {np.round(fit_pose(lm, shape, NO_SILHOUETTE)[0], 1)}")
    faces = load_ibug_folder(args.data / "300w")
    poses = label_poses(faces, shape)
    arr = np.array(list(poses.values()))
    lo, hi = np.percentile(arr, [1, 99], axis=0)
    print(f"\n300W: {len(poses)} faces labelled; 1st-99th percentile yaw {lo[0]:.0f}..{hi[0]:.0f}, "
          f"pitch {lo[1]:.0f}..{hi[1]:.0f}, roll {lo[2]:.0f}..{hi[2]:.0f} degrees")
    if args.csv:
        write_pose_csv(args.csv, poses)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
