"""Accuracy metrics (numpy only; docs/SPEC.md, Metrics).

- NME: mean point-to-point error over the points of a face divided by a normaliser; inter-ocular
  (outer eye corners 36 and 45) for 300W, sqrt(w * h) of the ground-truth landmark box for AFLW2000.
  Points missing in the ground truth (NaN rows) are left out of the mean.
- CED: fraction of faces with NME <= t; FR@0.10: fraction of faces with NME > 0.10; AUC@0.10: the
  area under the CED on [0, 0.10] divided by 0.10 (1 = every face perfect).
- Pose: mean absolute error per angle over the faces whose three ground-truth angles lie within
  +/-99 degrees (the usual AFLW2000 protocol). Differences are wrapped to [-180, 180): a roll of 179
  against -179 is 2 degrees off (the runtime's frame-axis roll can land on either side of 180).
- Face score: ROC AUC of scores against face / no-face labels (Mann-Whitney U, ties averaged).

The training loop picks its best checkpoint with these same functions (``atpn_edge.train.loop``),
so a checkpoint is chosen by the numbers the eval commands report.

NMEs are fractions here; the eval commands print them in percent.
"""
from __future__ import annotations

import numpy as np

from ..core.landmarks import IBUG68


def _as_batch(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, g = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if p.ndim == 2:
        p, g = p[None], g[None]
    if p.shape != g.shape or p.ndim != 3 or p.shape[-1] != 2:
        raise ValueError(f"predictions {list(p.shape)} and ground truth {list(g.shape)} must both be [N, K, 2]")
    return p, g


def point_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean point-to-point distance per face [N] in pixels, over the points the ground truth has."""
    p, g = _as_batch(pred, gt)
    dist = np.linalg.norm(p - g, axis=-1)
    valid = np.isfinite(g).all(axis=-1)
    if not valid.any(axis=1).all():
        raise ValueError("a ground-truth face has no valid point")
    if not np.isfinite(dist[valid]).all():
        raise ValueError("predictions contain NaN or inf where the ground truth has points")
    return np.where(valid, dist, 0.0).sum(axis=1) / valid.sum(axis=1)


def inter_ocular(gt: np.ndarray, corners: tuple[int, int] = IBUG68.outer_eye_corners) -> np.ndarray:
    """Distance between the outer eye corners [N]."""
    g = np.asarray(gt, np.float64).reshape(-1, *np.shape(gt)[-2:])
    d = np.linalg.norm(g[:, corners[0]] - g[:, corners[1]], axis=-1)
    if not (np.isfinite(d) & (d > 0)).all():
        raise ValueError("inter-ocular normalisation needs both outer eye corners, apart, in every face")
    return d


def box_size(gt: np.ndarray) -> np.ndarray:
    """sqrt(w * h) of the bounding box of each face's valid ground-truth points [N]."""
    g = np.asarray(gt, np.float64).reshape(-1, *np.shape(gt)[-2:])
    extent = np.nanmax(g, axis=1) - np.nanmin(g, axis=1)  # [N, 2]
    size = np.sqrt(extent[:, 0] * extent[:, 1])
    if not (np.isfinite(size) & (size > 0)).all():
        raise ValueError("a ground-truth landmark box has zero area")
    return size


def nme_inter_ocular(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-face NME [N] (fraction) normalised by the outer-eye-corner distance."""
    return point_errors(pred, gt) / inter_ocular(_as_batch(pred, gt)[1])


def nme_box(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-face NME [N] (fraction) normalised by sqrt(w * h) of the ground-truth landmark box."""
    return point_errors(pred, gt) / box_size(_as_batch(pred, gt)[1])


def ced(nme: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Cumulative error distribution: fraction of faces with NME <= each threshold."""
    e = np.sort(np.asarray(nme, np.float64).ravel())
    if e.size == 0:
        raise ValueError("CED of an empty set of faces")
    return np.searchsorted(e, np.asarray(thresholds, np.float64), side="right") / e.size


def failure_rate(nme: np.ndarray, threshold: float = 0.10) -> float:
    e = np.asarray(nme, np.float64).ravel()
    if e.size == 0:
        raise ValueError("failure rate of an empty set of faces")
    return float((e > threshold).mean())


def auc(nme: np.ndarray, threshold: float = 0.10) -> float:
    """Area under the CED on [0, threshold], divided by threshold; exact for the step-function CED."""
    e = np.asarray(nme, np.float64).ravel()
    if e.size == 0:
        raise ValueError("AUC of an empty set of faces")
    # integral_0^t CED(x) dx = mean over faces of (t - min(e, t)): exact, no grid needed
    return float(np.mean(threshold - np.minimum(e, threshold)) / threshold)


def pose_mask(gt_pose: np.ndarray, limit: float = 99.0) -> np.ndarray:
    """Faces [N] whose three ground-truth angles are known and within +/-limit degrees."""
    g = np.asarray(gt_pose, np.float64).reshape(-1, 3)
    return np.isfinite(g).all(axis=1) & (np.abs(g) <= limit).all(axis=1)


def pose_mae(pred_pose: np.ndarray, gt_pose: np.ndarray, limit: float = 99.0) -> tuple[np.ndarray, int]:
    """(MAE per angle [3] = yaw, pitch, roll in degrees, number of faces used)."""
    p, g = np.asarray(pred_pose, np.float64).reshape(-1, 3), np.asarray(gt_pose, np.float64).reshape(-1, 3)
    if p.shape != g.shape:
        raise ValueError(f"predicted poses {list(p.shape)} and ground truth {list(g.shape)} differ in shape")
    keep = pose_mask(g, limit)
    if not keep.any():
        raise ValueError(f"no face has all three ground-truth angles within +/-{limit} degrees")
    diff = (p[keep] - g[keep] + 180.0) % 360.0 - 180.0
    return np.abs(diff).mean(axis=0), int(keep.sum())


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with tie-averaged ranks); NaN without both classes."""
    scores, labels = np.asarray(scores, np.float64).ravel(), np.asarray(labels).ravel() > 0.5
    if scores.shape != labels.shape:
        raise ValueError(f"{scores.size} scores but {labels.size} labels")
    if not np.isfinite(scores).all():
        raise ValueError("face scores contain NaN or inf")
    npos, nneg = int(labels.sum()), int((~labels).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_s = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[labels].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))
