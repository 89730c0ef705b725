"""Accuracy on annotated still images (300W: landmarks; AFLW2000-3D: pose and landmarks).

Each face is cropped the way the tracker would see it: the first crop comes from the ground-truth
landmark box treated as a detector box (``params_from_box`` with the model's crop rule); with
``refine=1`` a second pass crops from the first pass's predicted landmarks (``params_from_landmarks``,
the tracking step). The pipeline is anything with ``.info`` (ModelInfo) and
``.run(frame, affines) -> PipelineResult`` (``atpn_edge.runtime.create_pipeline``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from ..datasets.sample import FaceSample, Skipped, skip
from ..core.face import landmark_box
from ..core.model_info import ModelInfo
from ..core.crop import crop_affine, params_from_box, params_from_landmarks
from . import metrics


class LandmarkPipeline(Protocol):
    """What the evaluation needs of ``atpn_edge.runtime.Pipeline`` (tests pass fakes)."""

    info: ModelInfo

    def run(self, frame: np.ndarray, affines: np.ndarray) -> Any: ...  # PipelineResult-like


@dataclass
class Predictions:
    samples: list[FaceSample]  # the faces that were evaluated (bad images skipped)
    landmarks: np.ndarray  # [N, K, 2] frame pixels
    pose: np.ndarray  # [N, 3] yaw, pitch, roll degrees
    face_score: np.ndarray  # [N]
    refine: int
    skipped: list[Skipped] = field(default_factory=list)


def read_image(path: Path) -> np.ndarray | None:
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_COLOR)


def predict(pipeline: LandmarkPipeline, samples: Sequence[FaceSample], refine: int = 1, skipped: list[Skipped] | None = None) -> Predictions:
    """Run the model on every face; unreadable images are skipped by name."""
    if refine not in (0, 1):
        raise ValueError(f"refine must be 0 or 1, got {refine}")
    info = pipeline.info
    rule, scheme = info.crop_rule, info.scheme
    skipped = [] if skipped is None else skipped
    kept, lms, poses, scores = [], [], [], []
    for s in samples:
        if s.landmarks.shape[0] != scheme.num_points:
            raise ValueError(f"{s.name}: ground truth has {s.landmarks.shape[0]} points but the model "
                             f"predicts {scheme.num_points} ({scheme.name})")
        frame = read_image(s.image)
        if frame is None:
            skip(skipped, s.name, f"cannot read image {s.image}")
            continue
        affine = crop_affine(params_from_box(landmark_box(s.landmarks, pixel_extent=True), rule), rule.size)
        res = pipeline.run(frame, affine[None])
        if refine:
            affine = crop_affine(params_from_landmarks(res.landmarks[0], rule, scheme), rule.size)
            res = pipeline.run(frame, affine[None])
        kept.append(s)
        lms.append(res.landmarks[0])
        poses.append(res.pose[0])
        scores.append(res.face_score[0])
    if not kept:
        raise ValueError("no face could be evaluated (every image was skipped)")
    return Predictions(kept, np.array(lms, np.float64), np.array(poses, np.float64),
                       np.array(scores, np.float64), refine, skipped)


def _gt(pred: Predictions) -> tuple[np.ndarray, np.ndarray]:
    return np.array([s.landmarks for s in pred.samples], np.float64), np.array([s.pose for s in pred.samples], np.float64)


def summary_300w(pred: Predictions) -> tuple[dict, np.ndarray]:
    """(JSON summary, per-face inter-ocular NME as fractions). nme_io and fr_10 are in percent,
    auc_10 is a fraction in [0, 1]."""
    gt, _ = _gt(pred)
    nme = metrics.nme_inter_ocular(pred.landmarks, gt)
    out = {
        "n": len(pred.samples),
        "nme_io": round(100.0 * float(nme.mean()), 4),
        "fr_10": round(100.0 * metrics.failure_rate(nme, 0.10), 4),
        "auc_10": round(metrics.auc(nme, 0.10), 4),
        "face_score_mean": round(float(pred.face_score.mean()), 4),
        "skipped": len(pred.skipped),
        "refine": pred.refine,
    }
    return out, nme


def summary_aflw2000(pred: Predictions) -> tuple[dict, np.ndarray]:
    """(JSON summary, per-face box NME as fractions). Pose MAE over the faces with all three
    ground-truth angles within +/-99 degrees (``n_pose`` of them); NME over every face, in percent."""
    gt, gt_pose = _gt(pred)
    nme = metrics.nme_box(pred.landmarks, gt)
    mae, n_pose = metrics.pose_mae(pred.pose, gt_pose)
    out = {
        "n": len(pred.samples),
        "n_pose": n_pose,
        "mae_yaw": round(float(mae[0]), 4),
        "mae_pitch": round(float(mae[1]), 4),
        "mae_roll": round(float(mae[2]), 4),
        "mae": round(float(mae.mean()), 4),
        "nme_box": round(100.0 * float(nme.mean()), 4),
        "face_score_mean": round(float(pred.face_score.mean()), 4),
        "skipped": len(pred.skipped),
        "refine": pred.refine,
    }
    return out, nme


def read_names(path: str | Path, key: str | None = None) -> list[str]:
    """Face names from a text file (one a line; blank lines and ``#`` comments ignored) or a JSON
    file: a list of names, or an object whose ``key`` entry is one (the training split file,
    ``{"300w": [...], "aflw2000": [...], ...}``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"names file not found: {path}")
    text = path.read_text()
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(data, dict):
            if key not in data:
                raise ValueError(f"{path}: no {key!r} list in it (keys: {', '.join(map(str, data))})")
            data = data[key]
        if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
            raise ValueError(f"{path}: expected a list of names" + (f" under {key!r}" if key else ""))
        return data
    names = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    return [n for n in names if n]


def _matches(sample: FaceSample, wanted: set[str]) -> set[str]:
    """Names in ``wanted`` that end the sample's image path, with or without the suffix, at a folder
    boundary: ``afw/134212_1``, ``134212_1`` and ``134212_1.jpg`` all name ``.../300w/afw/134212_1.jpg``,
    whichever folder the data set was loaded from."""
    hits = set()
    for path in (sample.image.resolve().as_posix(), sample.image.resolve().with_suffix("").as_posix()):
        parts = path.split("/")
        hits |= {"/".join(parts[i:]) for i in range(1, len(parts))} & wanted
    return hits


def select(samples: Sequence[FaceSample], names: Sequence[str] | None = None, limit: int | None = None) -> tuple[list[FaceSample], list[str]]:
    """Samples named in ``names`` (see ``_matches``), then the first ``limit``.
    Returns (selection, names that matched nothing)."""
    chosen = list(samples)
    missing: list[str] = []
    if names is not None:
        wanted = {n.strip("/") for n in names}
        matched: set[str] = set()
        selection = []
        for s in chosen:
            hits = _matches(s, wanted)
            if hits:
                selection.append(s)
                matched |= hits
        chosen = selection
        missing = sorted(wanted - matched)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"--limit must be >= 1, got {limit}")
        chosen = chosen[:limit]
    return chosen, missing
