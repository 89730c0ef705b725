#!/usr/bin/env python3
"""Validation numbers of a model directory on the held-out split (engines/atpn68/val_split.json),
through the runtime pipeline (ONNX files, native kernels), on full-resolution images:

- NME (inter-ocular, %) on the 300W validation faces,
- pose MAE (degrees, frame axes, faces with all |angles| <= 99) and NME (box) on the AFLW2000 ones,
- ROC AUC of the face score: well-framed crops of those faces vs off-face crops of them (shifted
  0.4-0.9 of the side or scaled outside [0.5, 2.0]) and random crops of the held-out non-face images.

Crops come from the ground-truth landmarks with the model's own crop rule (no jitter): the numbers
measure the network on tracking-style crops, not a detector. Prints one JSON object (last line).

    python scripts/validate_model.py engines/atpn68 [--data ../shared/data] [--split FILE]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--split", type=Path, default=REPO / "engines" / "atpn68" / "val_split.json")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--precision", default=None, choices=("fp32", "int8"),
                    help="CPU graphs to validate (default: the pipeline's, int8 where the model ships INT8 graphs)")
    args = ap.parse_args()

    from atpn_edge.datasets import load_aflw2000, load_ibug_folder, list_negative_images
    from atpn_edge.runtime import create_pipeline
    from atpn_edge.core.crop import CropParams, crop_affine, params_from_landmarks
    from atpn_edge.train.data import nonface_window, offface_window
    from atpn_edge.train.metrics import nme_inter_ocular, pose_mae, roc_auc

    split = json.loads(args.split.read_text())
    pipe = create_pipeline(model=args.model, backend="onnxruntime", threads=1, precision=args.precision)
    rule = pipe.info.crop_rule
    rng = np.random.default_rng(args.seed)
    pos_scores, neg_scores = [], []

    def run(frame: np.ndarray, params: CropParams):
        return pipe.run(frame, crop_affine(params, rule.size)[None])

    def faces(samples, keep):
        for s in samples:
            if s.name in keep:
                frame = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
                params = params_from_landmarks(s.landmarks, rule)
                res = run(frame, params)
                pos_scores.append(float(res.face_score[0]))
                neg_scores.append(float(run(frame, offface_window(params, rng)).face_score[0]))
                yield s, res

    out: dict[str, float] = {"model": str(args.model), "precision": pipe.precision}
    w = [(s.landmarks, r.landmarks[0]) for s, r in faces(load_ibug_folder(args.data / "300w"), set(split["300w"]))]
    gt, pred = np.array([a for a, _ in w]), np.array([b for _, b in w])
    nme = nme_inter_ocular(pred, gt) * 100
    out.update(n_300w=len(w), nme_io_300w=float(nme.mean()), fr_10_300w=float((nme > 10).mean() * 100))

    a = [(s, r) for s, r in faces(load_aflw2000(args.data / "aflw2000"), set(split["aflw2000"]))]
    gt_pose = np.array([s.pose for s, _ in a])
    mae, n = pose_mae(np.array([r.pose[0] for _, r in a]), gt_pose)
    gt_lm, pred_lm = np.array([s.landmarks for s, _ in a]), np.array([r.landmarks[0] for _, r in a])
    box = np.sqrt(np.prod(gt_lm.max(1) - gt_lm.min(1), axis=1))
    out.update(n_aflw2000=n, mae_yaw=float(mae[0]), mae_pitch=float(mae[1]), mae_roll=float(mae[2]),
               pose_mae=float(mae.mean()),
               nme_box_aflw2000=float((np.linalg.norm(pred_lm - gt_lm, axis=-1).mean(1) / box).mean() * 100))

    held = set(split["negatives"])
    root = args.data / "negatives"
    for path in list_negative_images(root):
        if path.relative_to(root).with_suffix("").as_posix() in held:
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            for _ in range(8):
                neg_scores.append(float(run(frame, nonface_window(*frame.shape[:2], rng)).face_score[0]))
    scores = np.array(pos_scores + neg_scores)
    labels = np.r_[np.ones(len(pos_scores)), np.zeros(len(neg_scores))]
    out.update(n_pos=len(pos_scores), n_neg=len(neg_scores), face_auc=roc_auc(scores, labels),
               tpr_at_0_5=float((np.array(pos_scores) > 0.5).mean()), fpr_at_0_5=float((np.array(neg_scores) > 0.5).mean()))
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
