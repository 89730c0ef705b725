"""Reference numbers for `atpn-edge eval`: a "model" that ignores the image and answers the mean
training face in every crop (and pose 0). Any trained model must beat it by far; it also shows how
much of the score the ground-truth-box crop alone gives. The mean face (crop-normalised) comes from
the 300W faces not in the evaluated set (two-fold by sorted name).

Measured: the mean face scores NME 18.25 % (300W, inter-ocular) and 19.00 % (AFLW2000, box), pose
MAE 18.4 deg: the floor a trained model must beat by far (docs/EVAL.md).

    python scripts/research/eval_mean_face_baseline.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from atpn_edge.datasets import load_aflw2000, load_ibug_folder
from atpn_edge.eval import images
from atpn_edge.core.face import landmark_box
from atpn_edge.core.model_info import ModelInfo
from atpn_edge.core.crop import crop_affine, from_crop_normalised, params_from_box, to_crop_normalised

# the crop rule of the model whose eval this baseline accompanies (defaults of CropRule if no model)
INFO = ModelInfo(
    graph="fused", model_version="mean-face", landmark_scheme="ibug68", num_landmarks=68, input_size=112,
    channel_order="RGB", mean=(0, 0, 0), std=(1, 1, 1), heatmap_size=(28, 28), heatmap_sigma=1.5,
    feature_channels=0, crop_landmark_scale=1.4, crop_box_scale=1.4, crop_box_shift_y=0.0,
)


class MeanFace:
    backend = "numpy"

    def __init__(self, mean_crop: np.ndarray, info: ModelInfo) -> None:
        self.info, self.mean_crop = info, mean_crop

    def run(self, frame, affines):
        lm = np.array([from_crop_normalised(self.mean_crop, a, self.info.input_size) for a in affines])
        n = len(affines)
        return SimpleNamespace(landmarks=lm, pose=np.zeros((n, 3)), face_score=np.ones(n))


def mean_in_box_crop(samples, info: ModelInfo) -> np.ndarray:
    rule = info.crop_rule
    crops = [to_crop_normalised(s.landmarks, crop_affine(params_from_box(landmark_box(s.landmarks, pixel_extent=True), rule), rule.size), rule.size)
             for s in samples]
    return np.mean(crops, axis=0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    ap.add_argument("--model", help="take the crop rule from this model directory instead of CropRule's defaults")
    args = ap.parse_args()
    info = INFO
    if args.model:
        from atpn_edge.runtime.models import load_info, resolve_model

        info = load_info(resolve_model(args.model))
    faces = load_ibug_folder(args.data / "300w")
    folds = (faces[0::2], faces[1::2])
    for refine in (0, 1):
        nmes = []
        for train, test in (folds, folds[::-1]):
            pred = images.predict(MeanFace(mean_in_box_crop(train, info), info), test, refine=refine)
            nmes.append(images.summary_300w(pred)[1])
        nme = np.concatenate(nmes)
        from atpn_edge.eval.metrics import auc, failure_rate

        print(f"300w refine={refine}: n={len(nme)} nme_io={100 * nme.mean():.2f} fr_10={100 * failure_rate(nme):.2f} auc_10={auc(nme):.4f}")
    aflw = load_aflw2000(args.data / "aflw2000")
    for refine in (0, 1):
        summary, _ = images.summary_aflw2000(images.predict(MeanFace(mean_in_box_crop(faces, info), info), aflw, refine=refine))
        print(f"aflw2000 refine={refine}: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
