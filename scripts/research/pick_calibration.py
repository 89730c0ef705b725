"""Choose a model's INT8 calibration (face count, jitter, calibration method) on training faces
only, never on the validation split: each candidate is quantised into a scratch folder and scored
on a selection split of training faces that no candidate calibrates on, against the model's own
fp32 graphs on the same faces.

Selection split: the 300W faces after the first ``--first-free`` training faces in name order (the
calibration faces are the first ``count`` in name order, so no candidate sees them), every
``--aflw-step``-th AFLW2000 image (default: all) and all negative images, each outside
``--exclude`` (the validation split). The model was trained on these faces, so their absolute numbers are optimistic;
what is compared is each INT8 candidate's loss against fp32 on the same faces, in units of the
accuracy limits: ``score = dNME / 0.05 + dPoseMAE / 0.1`` (points, degrees); the lowest score wins
(printed last). Measured on atpn68s-v2 and the atpn68s-v3 candidates: the spread between
calibrations is mostly noise in pose (BENCHMARKS.md, "atpn68s-v3 candidates").

    python scripts/research/pick_calibration.py engines/atpn68s --data ../shared/data \\
        --exclude engines/atpn68/val_split.json --out runs/calib_pick
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from atpn_edge.commands.quantize import calibration_crops
from atpn_edge.datasets import list_negative_images, load_aflw2000, load_ibug_folder
from atpn_edge.eval.validate import validate_model
from atpn_edge.runtime import create_pipeline
from atpn_edge.runtime.models import load_info, resolve_model
from atpn_edge.runtime.quantize import quantize_model

# (count, jitter, method): the quantize command's choices plus ONNX Runtime's percentile calibration.
CANDIDATES = [(128, False, "MinMax"), (256, False, "MinMax"), (384, False, "MinMax"), (512, False, "MinMax"),
              (256, True, "MinMax"), (384, True, "MinMax"), (256, False, "Percentile")]


def selection_split(data: Path, exclude: dict, first_free: int, aflw_step: int) -> dict[str, set[str]]:
    train_300w = [s.name for s in load_ibug_folder(data / "300w") if s.name not in exclude["300w"]]
    aflw = [s.name for s in load_aflw2000(data / "aflw2000") if s.name not in exclude["aflw2000"]][::aflw_step]
    root = data / "negatives"
    negs = [p.relative_to(root).with_suffix("").as_posix() for p in list_negative_images(root)]
    return {"300w": set(train_300w[first_free:]), "aflw2000": set(aflw),
            "negatives": {n for n in negs if n not in exclude["negatives"]}}


def score(int8: dict, fp32: dict) -> float:
    return (int8["nme_io_300w"] - fp32["nme_io_300w"]) / 0.05 + (int8["pose_mae"] - fp32["pose_mae"]) / 0.1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", type=Path, help="model directory (stage1.onnx, stage2.onnx)")
    ap.add_argument("--data", type=Path, required=True, help="folder with 300w/, aflw2000/, negatives/")
    ap.add_argument("--exclude", type=Path, required=True, help="the validation split (JSON), never used here")
    ap.add_argument("--out", type=Path, required=True, help="scratch folder for the candidates' graphs")
    ap.add_argument("--first-free", type=int, default=600, help="300W training faces reserved for calibration")
    ap.add_argument("--aflw-step", type=int, default=1)
    args = ap.parse_args()
    exclude = {k: set(v) for k, v in json.loads(args.exclude.read_text()).items() if isinstance(v, list)}
    if max(c for c, _, _ in CANDIDATES) > args.first_free:
        raise ValueError("--first-free must cover the largest calibration count")
    split = selection_split(args.data, exclude, args.first_free, args.aflw_step)
    files = resolve_model(args.model.resolve())
    info = load_info(files)
    with create_pipeline(files.directory, backend="onnxruntime", threads=1, precision="fp32") as p:
        fp32 = validate_model(p, args.data, split)
    print(json.dumps({"candidate": "fp32", "n_300w": fp32["n_300w"], "n_aflw2000": fp32["n_aflw2000"],
                      **{k: fp32[k] for k in ("nme_io_300w", "pose_mae", "face_auc")}}), flush=True)
    rows = []
    for count, jitter, method in CANDIDATES:
        name = f"{count}{'_jitter' if jitter else ''}_{method.lower()}"
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        for path in (files.stage1, files.stage2, files.fused):
            if path is not None:
                shutil.copy(path, folder / Path(path).name)
        crops = calibration_crops(args.data / "300w", info, count, exclude["300w"], jitter=jitter)
        quantize_model(files, info, crops, out_dir=folder, calibrate_method=method)
        with create_pipeline(folder, backend="onnxruntime", threads=1, precision="int8") as p:
            r = validate_model(p, args.data, split)
        row = {"candidate": name, **{k: r[k] for k in ("nme_io_300w", "pose_mae", "face_auc")},
               "score": round(score(r, fp32), 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    best = min(rows, key=lambda r: r["score"])
    print(json.dumps({"chosen": best["candidate"]}))


if __name__ == "__main__":
    main()
