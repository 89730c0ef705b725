"""The three validation numbers, on crop-normalised predictions (numpy, no torch).

Used by the training loop every epoch and by scripts/validate_model.py on the ONNX files.
"""
from __future__ import annotations

import numpy as np

from ..core.landmarks import IBUG68


def nme_inter_ocular(pred: np.ndarray, gt: np.ndarray, corners: tuple[int, int] = IBUG68.outer_eye_corners) -> np.ndarray:
    """Per-face mean point error / outer-eye-corner distance, for [N, K, 2] (any common scale)."""
    d = np.linalg.norm(gt[:, corners[0]] - gt[:, corners[1]], axis=-1)
    return np.linalg.norm(pred - gt, axis=-1).mean(axis=-1) / d


def pose_mae(pred: np.ndarray, gt: np.ndarray, limit: float = 99.0) -> tuple[np.ndarray, int]:
    """Mean absolute error per angle over the faces whose three angles lie within +-``limit``."""
    keep = (np.abs(gt) <= limit).all(axis=1)
    return np.abs(pred[keep] - gt[keep]).mean(axis=0), int(keep.sum())


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with tie-averaged ranks)."""
    scores, labels = np.asarray(scores, np.float64).ravel(), np.asarray(labels).ravel() > 0.5
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
