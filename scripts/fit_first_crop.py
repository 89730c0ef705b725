"""Fit BlazeFace's keypoints -> landmark-window correction (detection/keypoint_fit.py) on the shared
300W faces and write engines/blazeface/first_crop_fit.json.

For each 300W face, upright and turned 45, 90 and 180 degrees: the detector on the whole image,
the box matching the face (as ``atpn-edge eval --protocol detector`` matches), its calibrated box
window at the eye line (landmark scale 1), and the window the ground-truth landmarks give
(``params_from_landmarks``, scale 1). A ridge regression maps the keypoints and box corners, in the
box window's axes, to the difference (faces whose window is turned more than 45 degrees off, i.e.
keypoints read the wrong way round, are left out: the tracker's turn checks handle those). Prints, per model, the median absolute error of the box
window and of the fitted window (5-fold cross-validated, folds by face so turned copies of one
face stay together) for each turn.

    python scripts/fit_first_crop.py [--data ../shared/data] [--out engines/blazeface/first_crop_fit.json]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import cv2
import numpy as np

from atpn_edge.core.crop import CropRule, params_from_landmarks
from atpn_edge.datasets import load_ibug_folder
from atpn_edge.detection.blazeface import MODELS, BlazeFaceDetector
from atpn_edge.detection.keypoint_fit import KeypointFit, fit_features, turn_between, window_correction
from atpn_edge.eval.detection import best_match, gt_box, rotate

TURNS = (0.0, 45.0, 90.0, 180.0)
RIDGE = 1e-5
FOLDS = 5
WRONG_TURN = np.pi / 4
TRUSTED_PERCENTILE = 99.9  # the fit is trusted with corrections up to this percentile of its own (per component)
NUM_KEYPOINTS = 6  # BlazeFace: eyes, nose tip, mouth, ear tragions


def collect(model: str, samples: list, turns: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(features, corrections, turn, face index) of every matched face."""
    det = BlazeFaceDetector(model_path=model, calibration=MODELS[model].calibration)
    extent_rule = CropRule(landmark_scale=1.0)
    feats, targets, turn_of, face_of = [], [], [], []
    for j, s in enumerate(samples):
        image = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        for deg in turns:
            img, truth = rotate(image, s.landmarks, deg)
            found = det.detect(img)
            i = best_match([d.box for d in found], gt_box(truth))
            if i is None:
                continue
            d = found[i]
            window = det.calibration.crop_params(d.box, 1.0, d.keypoints)
            target = params_from_landmarks(truth, extent_rule)
            if abs(turn_between(window, target)) > WRONG_TURN:
                continue  # keypoints the wrong way round: the tracker's turn checks handle those
            feats.append(fit_features(window, d.box, d.keypoints))
            targets.append(window_correction(window, target))
            turn_of.append(deg)
            face_of.append(j)
    return np.array(feats), np.array(targets), np.array(turn_of), np.array(face_of)


def ridge(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.solve(x.T @ x + RIDGE * len(x) * np.eye(x.shape[1]), x.T @ y)


def report(x: np.ndarray, y: np.ndarray, turn_of: np.ndarray, face_of: np.ndarray) -> dict:
    pred = np.zeros_like(y)
    fold = face_of % FOLDS
    for k in range(FOLDS):
        pred[fold == k] = x[fold == k] @ ridge(x[fold != k], y[fold != k])
    names = ("centre_x", "centre_y", "log_side")
    out = {}
    for deg in sorted(set(turn_of.tolist())):
        m = turn_of == deg
        out[f"turn_{int(deg)}"] = {
            "faces": int(m.sum()),
            "box_window_median_abs": dict(zip(names, np.round(np.median(np.abs(y[m]), 0), 4).tolist())),
            "fitted_median_abs_cv": dict(zip(names, np.round(np.median(np.abs(y[m] - pred[m]), 0), 4).tolist())),
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "engines" / "blazeface" / "first_crop_fit.json")
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    samples = load_ibug_folder(args.data / "300w")
    result = {"fitted_by": "python scripts/fit_first_crop.py", "data": "../shared/data/300w (HELEN train + AFW), turned "
              + ", ".join(str(int(t)) for t in TURNS) + " deg", "ridge": RIDGE, "models": {}, "cross_validation": {}}
    for model in args.models.split(","):
        x, y, turn_of, face_of = collect(model, samples, TURNS)
        weights = ridge(x, y)
        limits = np.percentile(np.abs(x @ weights), TRUSTED_PERCENTILE, axis=0)
        result["models"][model] = KeypointFit(weights=weights, limits=limits, num_keypoints=NUM_KEYPOINTS).to_json()
        result["cross_validation"][model] = report(x, y, turn_of, face_of)
        print(model, json.dumps(result["cross_validation"][model]), flush=True)
    text = json.dumps(result, indent=1)
    text = re.sub(r"\[\s+([-0-9.e,\s]+?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)  # a row per line
    args.out.write_text(text + "\n")
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
