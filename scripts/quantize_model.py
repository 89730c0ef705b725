#!/usr/bin/env python3
"""Write INT8 Q/DQ graphs (stage1.int8.onnx, stage2.int8.onnx) for the CPU backend, calibrated
on real 300W training faces (cropped as the tracker crops them), and report the accuracy cost on
the held-out 300W validation faces (engines/atpn68/val_split.json): inter-ocular NME of fp32 and
int8 against the ground truth, and of int8 against fp32. Use the result with `create_pipeline(..., precision="int8")`.

    nice -n 10 python scripts/quantize_model.py engines/atpn68 [--calib-faces 256]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from atpn_edge.runtime.models import load_info, resolve_model
from atpn_edge.runtime.onnxruntime_backend import open_session
from atpn_edge.runtime.quantize import quantize_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_runtimes import face_crops, nme_io  # noqa: E402


def landmarks(files, precision: str, images: np.ndarray) -> np.ndarray:
    sess = open_session(files.graph("stage1", precision), "stage1")
    return np.concatenate([sess.run(["landmarks"], {"image": images[i:i + 64]})[0] for i in range(0, len(images), 64)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="model directory")
    ap.add_argument("--calib-faces", type=int, default=256)
    ap.add_argument("--eval-faces", type=int, default=400)
    args = ap.parse_args()
    files = resolve_model(Path(args.model).resolve())
    info = load_info(files)
    calib, _ = face_crops(info, args.calib_faces, held_out=False)
    paths = quantize_model(files, info, calib)
    images, target = face_crops(info, args.eval_faces, held_out=True)
    fp32, int8 = landmarks(files, "fp32", images), landmarks(files, "int8", images)
    report = {"written": {k: str(v) for k, v in paths.items()}, "faces": len(images),
              "nme_io_fp32_pct": round(nme_io(fp32, target), 3), "nme_io_int8_pct": round(nme_io(int8, target), 3),
              "nme_int8_vs_fp32_pct": round(nme_io(int8, fp32), 3)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
