"""Where do a data set's landmark coordinates put the pixel centres? A mirror-symmetry test.

Measured: effective x origin 1.59 px for 300W .pts (1-based), 0.29 px for AFLW2000-3D pt3d_68 as
stored, so pt3d_68 is used as stored (docs/DATASETS.md).

On a frontal face, the patch around a left point (outer eye corner 36) is the mirror image of the
patch around its right partner (45). Shift every stored x by -d and compare each pair's patches
(one mirrored); the d with the best match is the data's *effective* x origin: the pixel origin plus
any uniform left/right bias of the annotation. For a data set whose convention is known (300W:
1-based) it shows that bias, so data sets can be compared with each other. Faces count as frontal
when the nose tip lies midway between the outer eye corners and the eyes are level (4 % of the
inter-ocular distance). Prints mean +/- standard error of the per-face best d.

    python scripts/research/check_pixel_origin.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import scipy.io

from atpn_edge.datasets import load_ibug_folder

SHIFTS = np.arange(-2.0, 3.001, 0.125)
PAIRS_68 = [(36, 45), (39, 42), (48, 54), (31, 35), (17, 26), (21, 22), (37, 44), (38, 43), (41, 46),
            (40, 47), (49, 53), (59, 55), (60, 64)]
PAIRS_21 = [(0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9), (13, 15), (17, 19)]  # AFLW scheme


def best_shift(img: np.ndarray, raw: np.ndarray, pairs, eyes: tuple[int, int]) -> float:
    r = max(4, int(np.linalg.norm(raw[eyes[0]] - raw[eyes[1]]) / 8))
    size = (2 * r + 1, 2 * r + 1)
    cost = np.zeros(len(SHIFTS))
    for k, d in enumerate(SHIFTS):
        for i, j in pairs:
            a = cv2.getRectSubPix(img, size, (float(raw[i, 0] - d), float(raw[i, 1])))
            b = cv2.getRectSubPix(img, size, (float(raw[j, 0] - d), float(raw[j, 1])))[:, ::-1]
            a, b = a - a.mean(), b - b.mean()
            cost[k] += np.mean((a - b) ** 2) / (a.std() * b.std() + 1e-3)
    return float(SHIFTS[np.argmin(cost)])


def frontal(raw: np.ndarray, eyes: tuple[int, int], nose: int) -> bool:
    l, r = raw[eyes[0]], raw[eyes[1]]
    iod = np.linalg.norm(l - r)
    return abs(raw[nose, 0] - (l[0] + r[0]) / 2) < 0.04 * iod and abs(l[1] - r[1]) < 0.04 * iod


def report(label: str, items, pairs, eyes, nose) -> None:
    shifts = []
    for image, raw in items:
        if raw is None or not np.isfinite(raw[[i for p in pairs for i in p]]).all() or not frontal(raw, eyes, nose):
            continue
        img = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE).astype(np.float32)
        shifts.append(best_shift(img, raw, pairs, eyes))
    s = np.array(shifts)
    print(f"{label}: {len(s)} frontal faces, effective x origin {s.mean():.2f} +/- {s.std() / np.sqrt(len(s)):.2f} (median {np.median(s):.2f})")


def aflw2000_points(mat: Path, key: str):
    pts = np.asarray(scipy.io.loadmat(str(mat))[key], np.float64)[:2].T
    if key == "pt2d":
        if pts.shape != (21, 2):
            return None
        pts[pts[:, 0] < 0] = np.nan
    return pts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    args = ap.parse_args()
    faces = load_ibug_folder(args.data / "300w")
    report("300W .pts (1-based by definition)", [(f.image, f.landmarks + 1.0) for f in faces], PAIRS_68, (36, 45), 30)
    mats = sorted((args.data / "aflw2000").glob("*.mat"))
    report("AFLW2000-3D pt3d_68 as stored", [(m.with_suffix(".jpg"), aflw2000_points(m, "pt3d_68")) for m in mats], PAIRS_68, (36, 45), 30)
    report("AFLW2000-3D pt2d (AFLW's 21 human points) as stored", [(m.with_suffix(".jpg"), aflw2000_points(m, "pt2d")) for m in mats], PAIRS_21, (6, 11), 14)
    return 0


if __name__ == "__main__":
    sys.exit(main())
