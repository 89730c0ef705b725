#!/usr/bin/env python3
"""Compare CPU runtimes for the network part of the tracking step (stage 1 -> heatmap -> stage 2,
one face) on this machine, side by side in one process, and their accuracy on real faces.

Candidates: ONNX Runtime fp32 (plain run / IO binding / the fused graph), ONNX Runtime on an INT8
Q/DQ model (u8s8, per-channel, calibrated on real AFW crops), OpenVINO (f32 forced, its default
bf16 on AVX-512-BF16 CPUs, and on the INT8 model). Runs are interleaved so every candidate sees
the same machine load; the table gives medians, p90 and the ratio to ONNX Runtime + IO binding.
Accuracy: inter-ocular NME (%) against the ground truth on the 300W faces the training run held
out (engines/atpn68/val_split.json; calibration uses training faces), and the NME of each
candidate's landmarks against fp32's (the cost of quantisation alone).

    nice -n 10 python scripts/bench_runtimes.py --model engines/atpn68 --runs 2000
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from atpn_edge import kernels
from atpn_edge.runtime.models import load_info, resolve_model
from atpn_edge.runtime.onnxruntime_backend import open_session
from atpn_edge.runtime.quantize import quantize_model

SHARED = Path(os.environ.get("ATPN_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")


VAL_SPLIT = Path(__file__).resolve().parents[1] / "engines" / "atpn68" / "val_split.json"


def val_names() -> set[str]:
    """300W faces the training run held out (engines/atpn68/val_split.json), empty without it."""
    if not VAL_SPLIT.is_file():
        return set()
    return set(json.loads(VAL_SPLIT.read_text())["300w"])


def face_crops(info, limit: int, held_out: bool):
    """Real 300W faces cropped as the tracker crops them (from their landmarks), with the
    landmarks in crop-normalised coordinates: the held-out validation faces (for accuracy) or
    training faces (for calibration). Without a split file: HELEN-train vs AFW."""
    import cv2

    from atpn_edge.datasets import load_ibug_folder
    from atpn_edge.core.crop import affine_from_landmarks, to_crop_normalised

    val = val_names()
    if val:
        samples = [s for s in load_ibug_folder(SHARED / "300w") if (s.name in val) == held_out]
    else:
        samples = load_ibug_folder(SHARED / "300w" / ("helen_train" if held_out else "afw"))
    images, targets = [], []
    for s in samples[:limit]:
        frame = cv2.imread(str(s.image))
        a = affine_from_landmarks(s.landmarks, info.crop_rule)
        images.append(kernels.warp_crop_batch(frame, a[None], info.input_size, info.mean, info.std)[0])
        targets.append(to_crop_normalised(s.landmarks, a, info.input_size))
    return np.stack(images).astype(np.float32), np.stack(targets)


def nme_io(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean inter-ocular NME in percent (outer eye corners 36, 45)."""
    d = np.linalg.norm(target[:, 36] - target[:, 45], axis=1)
    return float(np.mean(np.linalg.norm(pred - target, axis=2).mean(axis=1) / d) * 100)


class Split:
    """stage 1 -> native heatmap -> stage 2 with two per-graph callables."""

    def __init__(self, info, run1, run2):
        self.info, self.run1, self.run2 = info, run1, run2
        self.heat = np.zeros((1, 1, *info.heatmap_size), np.float32)

    def __call__(self, image):
        lm, feats = self.run1(image)
        kernels.render_heatmap(lm, *self.info.heatmap_size, self.info.heatmap_sigma, out=self.heat)
        pose, logit = self.run2(feats, self.heat)
        return lm, pose, logit


def ort_split(files, info, stage1: Path, stage2: Path, threads: int):
    s1, s2 = open_session(stage1, "stage1", threads), open_session(stage2, "stage2", threads)
    return Split(info, lambda x: s1.run(["landmarks", "features"], {"image": x}),
                 lambda f, h: s2.run(["pose", "face_logit"], {"features": f, "heatmap": h}))


def ort_iobinding(files, threads: int):
    from atpn_edge.runtime.onnxruntime_backend import OnnxRuntimePipeline

    info = load_info(files)
    pipe = OnnxRuntimePipeline(files, info, threads=threads, max_faces=1)
    buf = pipe._buffers_for(1)

    def run(image):
        buf.image[...] = image
        pipe._s1.run_with_iobinding(buf.bind1)
        kernels.render_heatmap(buf.landmarks, *info.heatmap_size, info.heatmap_sigma, out=buf.heatmap)
        pipe._s2.run_with_iobinding(buf.bind2)
        return buf.landmarks, buf.pose, buf.face_logit

    return run


def ort_fused(files, threads: int):
    s = open_session(files.fused, "fused", threads)
    return lambda x: s.run(["landmarks", "pose", "face_logit"], {"image": x})


def openvino_split(info, stage1: Path, stage2: Path, threads: int, precision: str | None):
    import openvino as ov

    core = ov.Core()
    config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY"}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    c1, c2 = core.compile_model(str(stage1), "CPU", config), core.compile_model(str(stage2), "CPU", config)
    r1, r2 = c1.create_infer_request(), c2.create_infer_request()

    def run1(x):
        out = r1.infer({"image": x}, share_inputs=True, share_outputs=True)  # no copies: fairest to OpenVINO
        return out[c1.output("landmarks")], out[c1.output("features")]

    def run2(f, h):
        out = r2.infer({"features": f, "heatmap": h}, share_inputs=True, share_outputs=True)
        return out[c2.output("pose")], out[c2.output("face_logit")]

    return Split(info, run1, run2)


def litert_split(info, folder: Path, threads: int):
    """stage1.tflite / stage2.tflite from scripts/research/litert_convert.py, batch 1, XNNPACK."""
    from ai_edge_litert.interpreter import Interpreter

    def load(name):
        it = Interpreter(model_path=str(folder / name), num_threads=threads)
        it.allocate_tensors()
        # litert-torch names tensors by position, not by ONNX name: match them by shape.
        ins = {tuple(d["shape"]): d["index"] for d in it.get_input_details()}
        outs = {tuple(d["shape"]): d["index"] for d in it.get_output_details()}
        return it, ins, outs

    (i1, in1, out1), (i2, in2, out2) = load("stage1.tflite"), load("stage2.tflite")
    s, k, c, (hh, wh) = info.input_size, info.num_landmarks, info.feature_channels, info.heatmap_size

    def run1(x):
        i1.set_tensor(in1[(1, 3, s, s)], x)
        i1.invoke()
        return i1.get_tensor(out1[(1, k, 2)]), i1.get_tensor(out1[(1, c, hh, wh)])

    def run2(f, h):
        i2.set_tensor(in2[(1, c, hh, wh)], f)
        i2.set_tensor(in2[(1, 1, hh, wh)], h)
        i2.invoke()
        return i2.get_tensor(out2[(1, 3)]), i2.get_tensor(out2[(1, 1)])

    return Split(info, run1, run2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--faces", type=int, default=200, help="held-out 300W faces for accuracy")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--tflite", type=Path, default=None,
                    help="folder with stage1/stage2.tflite of the SAME weights (scripts/research/litert_convert.py)")
    args = ap.parse_args()

    files = resolve_model(Path(args.model).resolve() if args.model else None)  # absolute: quantize() changes directory
    info = load_info(files)
    helen, target = face_crops(info, args.faces, held_out=True)
    calib, _ = face_crops(info, 128, held_out=False)
    tmp = Path(tempfile.mkdtemp(prefix="atpn-int8-"))
    q = quantize_model(files, info, calib, out_dir=tmp)
    q1, q2 = q["stage1"], q["stage2"]

    candidates = {
        "ort fp32 iobinding": ort_iobinding(files, args.threads),
        "ort fp32 run": ort_split(files, info, files.stage1, files.stage2, args.threads),
        "ort int8 qdq": ort_split(files, info, q1, q2, args.threads),
    }
    if files.fused is not None:
        candidates["ort fp32 fused graph"] = ort_fused(files, args.threads)
    try:
        candidates["openvino f32"] = openvino_split(info, files.stage1, files.stage2, args.threads, "f32")
        candidates["openvino default (bf16)"] = openvino_split(info, files.stage1, files.stage2, args.threads, None)
        candidates["openvino int8 qdq"] = openvino_split(info, q1, q2, args.threads, None)
    except ImportError:
        print("openvino not installed: skipped", file=sys.stderr)

    if args.tflite is not None:
        candidates["litert fp32 (xnnpack)"] = litert_split(info, args.tflite, args.threads)

    # Accuracy first (also warms every candidate up).
    results: dict[str, dict] = {}
    ref = np.stack([np.array(candidates["ort fp32 iobinding"](helen[i:i + 1])[0][0]) for i in range(len(helen))])
    base_pose = None
    for name, fn in candidates.items():
        out = [[np.array(v) for v in fn(helen[i:i + 1])] for i in range(len(helen))]  # copies: buffers are reused
        lm = np.stack([np.asarray(o[0])[0] for o in out])
        pose = np.stack([np.asarray(o[1]).reshape(-1) for o in out])
        base_pose = pose if base_pose is None else base_pose  # the first candidate is fp32 + IO binding
        results[name] = {"nme_io_pct": round(nme_io(lm, target), 3), "nme_vs_fp32_pct": round(nme_io(lm, ref), 4),
                         "_pose": pose}
    for name in results:
        results[name]["pose_vs_fp32_deg"] = round(float(np.abs(results[name].pop("_pose") - base_pose).mean()), 3)

    times: dict[str, list[float]] = {n: [] for n in candidates}
    x = helen[:1].copy()
    names = list(candidates)
    clock = time.perf_counter
    for _ in range(args.runs):
        random.shuffle(names)
        for name in names:
            t = clock()
            candidates[name](x)
            times[name].append(clock() - t)
    base = float(np.median(times["ort fp32 iobinding"]))
    print(f"{args.runs} interleaved runs, {args.threads} thread(s), model {info.model_version}, N=1")
    print(f"{'candidate':<26}{'median ms':>10}{'p90 ms':>9}{'ratio':>7}{'NME %':>8}{'vs fp32 %':>10}{'pose d':>8}")
    for name in candidates:
        t = np.asarray(times[name]) * 1e3
        r = results[name]
        r.update(median_ms=round(float(np.median(t)), 4), p90_ms=round(float(np.percentile(t, 90)), 4),
                 ratio=round(float(np.median(t)) / base / 1e3, 3))
        print(f"{name:<26}{r['median_ms']:>10.3f}{r['p90_ms']:>9.3f}{r['ratio']:>7.2f}{r['nme_io_pct']:>8.2f}"
              f"{r['nme_vs_fp32_pct']:>10.3f}{r['pose_vs_fp32_deg']:>8.2f}")
    if args.json:
        args.json.write_text(json.dumps({"model": info.model_version, "runs": args.runs, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
