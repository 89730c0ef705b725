"""Face detection on annotated still images: turning a photo, deciding whether a found face is the
annotated one, and the detector-in-the-loop protocol (``atpn-edge eval ... --protocol detector``).

A found box *matches* a ground-truth face when each box's centre lies inside the other (the
ground-truth box being the landmarks' bounding box): loose enough for detector boxes of any
family and for the axis-aligned bounds of turned faces, strict enough that a box on a neighbour,
on part of the face or around the whole photo does not count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..core.face import centre_inside, landmark_box
from ..datasets.sample import FaceSample, Skipped, skip


def rotate(image: np.ndarray, landmarks: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo turned ``degrees`` clockwise on a canvas large enough to hold all of it (black
    corners), and its landmarks (0-based pixel centres) moved with it."""
    import cv2

    if not degrees:
        return image, np.asarray(landmarks, np.float64)
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), -float(degrees), 1.0)  # OpenCV: positive = anticlockwise
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(w * c + h * s - 1e-6)), int(np.ceil(w * s + h * c - 1e-6))  # exact at 90 deg
    m[0, 2] += (nw - w) / 2.0
    m[1, 2] += (nh - h) / 2.0
    out = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    pts = np.asarray(landmarks, np.float64) @ m[:, :2].T + m[:, 2]
    return out, pts


def gt_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """The annotated face's box: its landmarks' bounding box (missing points left out)."""
    return landmark_box(np.asarray(landmarks, np.float64))


def matches(box: tuple[float, float, float, float], truth: tuple[float, float, float, float]) -> bool:
    return centre_inside(box, truth) and centre_inside(truth, box)


def best_match(boxes: Sequence[tuple[float, float, float, float]], truth: tuple[float, float, float, float]) -> int | None:
    """Index of the matching box whose centre is nearest the truth's, or None."""
    tc = np.array([truth[0] + truth[2] / 2, truth[1] + truth[3] / 2])
    hits = [(float(np.hypot(*(np.array([b[0] + b[2] / 2, b[1] + b[3] / 2]) - tc))), i) for i, b in enumerate(boxes) if matches(b, truth)]
    return min(hits)[1] if hits else None


@dataclass
class DetectorRun:
    """Per face: found or not, the matched face's landmarks/pose/score (NaN when missed), the
    ground truth as turned, and how many other boxes the image produced."""

    samples: list[FaceSample]
    found: np.ndarray  # [N] bool
    landmarks: np.ndarray  # [N, K, 2] predicted (NaN when missed)
    gt: np.ndarray  # [N, K, 2] ground truth in the (turned) image
    pose: np.ndarray  # [N, 3]
    face_score: np.ndarray  # [N]
    extra: np.ndarray  # [N] faces reported besides the matched one
    rotate: float
    skipped: list[Skipped] = field(default_factory=list)


def run_tracker(make_tracker: Callable[[], Any], samples: Sequence[FaceSample], rotate_deg: float = 0.0,
                skipped: list[Skipped] | None = None) -> DetectorRun:
    """Each image through a fresh start of the tracker (``make_tracker()`` once, ``reset()`` per
    image): its detector on the whole image, its first crops and refinement; nothing from the
    ground truth. Faces are matched to the annotation by ``matches``."""
    skipped = [] if skipped is None else skipped
    tracker = make_tracker()
    try:
        return _run_tracker(tracker, samples, rotate_deg, skipped)
    finally:
        close = getattr(tracker, "close", None)  # the tracker's detector thread, where it has one
        if callable(close):
            close()


def _run_tracker(tracker: Any, samples: Sequence[FaceSample], rotate_deg: float, skipped: list[Skipped]) -> DetectorRun:
    import cv2

    kept, found, lms, gts, poses, scores, extra = [], [], [], [], [], [], []
    for s in samples:
        image = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if image is None:
            skip(skipped, s.name, f"cannot read image {s.image}")
            continue
        image, truth = rotate(image, s.landmarks, rotate_deg)
        tracker.reset()
        faces = tracker.track(image)
        i = best_match([f.box for f in faces], gt_box(truth))
        kept.append(s)
        gts.append(truth)
        found.append(i is not None)
        extra.append(len(faces) - (i is not None))
        k = truth.shape[0]
        lms.append(np.asarray(faces[i].landmarks, np.float64) if i is not None else np.full((k, 2), np.nan))
        poses.append(faces[i].pose if i is not None else (np.nan,) * 3)
        scores.append(faces[i].score if i is not None else np.nan)
    if not kept:
        raise ValueError("no face could be evaluated (every image was skipped)")
    return DetectorRun(kept, np.array(found), np.array(lms), np.array(gts), np.array(poses, np.float64),
                       np.array(scores, np.float64), np.array(extra), float(rotate_deg), skipped)


def detector_recall(detector: Any, samples: Sequence[FaceSample], rotate_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(found [N] bool, other boxes per image [N]) for the detector alone on each (turned) image."""
    import cv2

    found, extra = [], []
    for s in samples:
        image = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read image {s.image}")
        image, truth = rotate(image, s.landmarks, rotate_deg)
        boxes = [d.box for d in detector.detect(image)]
        i = best_match(boxes, gt_box(truth))
        found.append(i is not None)
        extra.append(len(boxes) - (i is not None))
    return np.array(found), np.array(extra)


def _with_misses(nme_found: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Per-face NME over all faces, a miss counting as an infinite error (a failure at any threshold)."""
    out = np.full(found.shape, np.inf)
    out[found] = nme_found
    return out


def summary_300w(run: DetectorRun) -> tuple[dict, np.ndarray]:
    """(JSON summary, per-face inter-ocular NME with misses as inf). recall, nme_io, fr_10 in
    percent (nme_io over the found faces; fr_10 and auc_10 over all, misses failing)."""
    from . import metrics

    f = run.found
    nme = metrics.nme_inter_ocular(run.landmarks[f], run.gt[f]) if f.any() else np.zeros(0)
    alln = _with_misses(nme, f)
    return {
        "n": int(len(f)), "found": int(f.sum()), "recall": round(100.0 * float(f.mean()), 4),
        "nme_io": round(100.0 * float(nme.mean()), 4) if f.any() else None,
        "fr_10": round(100.0 * metrics.failure_rate(alln, 0.10), 4), "auc_10": round(metrics.auc(alln, 0.10), 4),
        "other_faces": int(run.extra.sum()),
        "face_score_mean": round(float(np.nanmean(run.face_score)), 4) if f.any() else None,
        "rotate": run.rotate, "skipped": len(run.skipped),
    }, alln


def summary_aflw2000(run: DetectorRun) -> tuple[dict, np.ndarray]:
    """(JSON summary, per-face box NME with misses as inf). Recall over all faces and over those
    with all |angles| <= 99 (``recall_le99``); NME (percent) and pose MAE over the found faces
    (pose only on unturned images: a turn changes the angles' meaning)."""
    from . import metrics

    f = run.found
    gt_pose = np.array([s.pose for s in run.samples], np.float64)
    le99 = metrics.pose_mask(gt_pose)
    nme = metrics.nme_box(run.landmarks[f], run.gt[f]) if f.any() else np.zeros(0)
    out = {
        "n": int(len(f)), "found": int(f.sum()), "recall": round(100.0 * float(f.mean()), 4),
        "n_le99": int(le99.sum()), "recall_le99": round(100.0 * float(f[le99].mean()), 4) if le99.any() else None,
        "nme_box": round(100.0 * float(nme.mean()), 4) if f.any() else None,
    }
    if not run.rotate and (f & le99).any():
        mae, n_pose = metrics.pose_mae(run.pose[f], gt_pose[f])
        out.update({"n_pose": n_pose, "mae_yaw": round(float(mae[0]), 4), "mae_pitch": round(float(mae[1]), 4),
                    "mae_roll": round(float(mae[2]), 4), "mae": round(float(mae.mean()), 4)})
    out.update({"other_faces": int(run.extra.sum()),
                "face_score_mean": round(float(np.nanmean(run.face_score)), 4) if f.any() else None,
                "rotate": run.rotate, "skipped": len(run.skipped)})
    return out, _with_misses(nme, f)
