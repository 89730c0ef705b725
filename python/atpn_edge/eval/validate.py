"""Validation numbers of a model directory on a held-out split, through the runtime pipeline (ONNX
graphs, native kernels) on full-resolution images; ``atpn-edge validate`` prints them.

- NME (inter-ocular, %) and FR@0.10 on the split's 300W faces;
- pose MAE (degrees, frame axes, faces with all |angles| <= 99) and NME (box, %) on its AFLW2000 faces;
- ROC AUC of the face score: well-framed crops of those faces against off-face crops of them
  (shifted 0.4-0.9 of the side or scaled outside [0.5, 2.0]) and 8 random crops of each held-out
  non-face image, with the true and false positive rates at the score 0.5.

Crops come from the ground-truth landmarks with the model's own crop rule (no jitter): the numbers
measure the network on tracking-style crops, not a detector. The split is a JSON object with the
lists ``300w``, ``aflw2000`` (face names) and ``negatives`` (image paths under ``negatives/``,
without suffix), as the training loop writes it; a model directory may ship its own
(``val_split.json``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..core.crop import CropParams, crop_affine, params_from_landmarks
from ..core.crop_windows import nonface_window, offface_window
from .metrics import failure_rate, nme_box, nme_inter_ocular, pose_mae, roc_auc

SPLIT_KEYS = ("300w", "aflw2000", "negatives")


def read_split(path: Path) -> dict[str, set[str]]:
    """The held-out names per part, checked: a JSON object of string lists under ``SPLIT_KEYS``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable split file ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a split file is a JSON object with {', '.join(SPLIT_KEYS)}")
    out = {}
    for key in SPLIT_KEYS:
        names = data.get(key)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path}: {key!r} must be a list of names")
        out[key] = set(names)
    return out


def _read(path: Path) -> np.ndarray:
    import cv2

    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        raise ValueError(f"{path}: not a readable image")
    return frame


def validate_model(pipeline, data: Path, split: dict[str, set[str]], seed: int = 0) -> dict[str, Any]:
    """The numbers above for ``pipeline`` (a runtime ``Pipeline``) on ``data`` (a folder with
    ``300w/``, ``aflw2000/`` and ``negatives/``)."""
    from ..datasets import list_negative_images, load_aflw2000, load_ibug_folder

    data = Path(data)
    for part in SPLIT_KEYS:
        if not (data / part).is_dir():
            raise FileNotFoundError(f"{data / part}: missing (the data folder needs {', '.join(SPLIT_KEYS)})")
    rule = pipeline.info.crop_rule
    rng = np.random.default_rng(seed)
    pos_scores: list[float] = []
    neg_scores: list[float] = []

    def run(frame: np.ndarray, params: CropParams):
        return pipeline.run(frame, crop_affine(params, rule.size)[None])

    def faces(samples, keep: set[str]):
        for s in samples:
            if s.name in keep:
                frame = _read(s.image)
                params = params_from_landmarks(s.landmarks, rule)
                res = run(frame, params)
                pos_scores.append(float(res.face_score[0]))
                neg_scores.append(float(run(frame, offface_window(params, rng)).face_score[0]))
                yield s, res

    out: dict[str, Any] = {"model": pipeline.info.model_version}
    w = list(faces(load_ibug_folder(data / "300w"), split["300w"]))
    if not w:
        raise ValueError(f"none of the split's 300W faces is under {data / '300w'}")
    nme = nme_inter_ocular(np.array([r.landmarks[0] for _, r in w]), np.array([s.landmarks for s, _ in w]))
    out.update(n_300w=len(w), nme_io_300w=float(nme.mean() * 100), fr_10_300w=failure_rate(nme) * 100)

    a = list(faces(load_aflw2000(data / "aflw2000"), split["aflw2000"]))
    if not a:
        raise ValueError(f"none of the split's AFLW2000 faces is under {data / 'aflw2000'}")
    mae, n = pose_mae(np.array([r.pose[0] for _, r in a]), np.array([s.pose for s, _ in a]))
    box = nme_box(np.array([r.landmarks[0] for _, r in a]), np.array([s.landmarks for s, _ in a]))
    out.update(n_aflw2000=n, mae_yaw=float(mae[0]), mae_pitch=float(mae[1]), mae_roll=float(mae[2]),
               pose_mae=float(mae.mean()), nme_box_aflw2000=float(box.mean() * 100))

    root = data / "negatives"
    for path in list_negative_images(root):
        if path.relative_to(root).with_suffix("").as_posix() in split["negatives"]:
            frame = _read(path)
            for _ in range(8):
                neg_scores.append(float(run(frame, nonface_window(*frame.shape[:2], rng)).face_score[0]))
    scores = np.array(pos_scores + neg_scores)
    labels = np.r_[np.ones(len(pos_scores)), np.zeros(len(neg_scores))]
    out.update(n_pos=len(pos_scores), n_neg=len(neg_scores), face_auc=roc_auc(scores, labels),
               tpr_at_0_5=float((np.array(pos_scores) > 0.5).mean()), fpr_at_0_5=float((np.array(neg_scores) > 0.5).mean()))
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}
