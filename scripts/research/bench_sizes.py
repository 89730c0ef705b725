#!/usr/bin/env python3
"""Side-by-side ONNX Runtime timing of model directories: stage1 + stage2 per image, 1 thread.

Measured: the medium model takes 1.54x and the shipped deeper atpn68-v2 1.86x the network time of
atpn68-v1 small, ONNX Runtime, 1 thread (engines/atpn68/MODEL_CARD.md, Speed).

    python scripts/research/bench_sizes.py engines/atpn68 runs/small/export [--repeat 2000] [--json]

Times the two graphs back to back on one random crop (the network part of a tracking step; the
heatmap between them is rendered with numpy here, the runtime uses the native kernel). Models are
interleaved in rounds so a busy shared machine slows them alike; medians and p90 in ms.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort


def _session(path: Path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _heatmap(lm: np.ndarray, h: int, w: int, sigma: float) -> np.ndarray:
    x = np.arange(w, dtype=np.float32) + 0.5
    y = np.arange(h, dtype=np.float32) + 0.5
    d2 = (x[None, None, :] - w * lm[:, :, :1]) ** 2  # [N,K,W]
    e2 = (y[None, None, :] - h * lm[:, :, 1:]) ** 2
    d = (e2[:, :, :, None] + d2[:, :, None, :]).min(axis=1, keepdims=True)
    return np.exp(-d / (2 * sigma * sigma)).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from atpn_edge.core.model_info import ModelInfo

    runs = []
    for d in args.models:
        info = ModelInfo.from_onnx(d / "stage1.onnx")
        runs.append((str(d), info, _session(d / "stage1.onnx", args.threads), _session(d / "stage2.onnx", args.threads)))
    rng = np.random.default_rng(0)
    times = {name: {"stage1": [], "stage2": [], "total": []} for name, *_ in runs}
    for r in range(args.repeat + 50):
        for name, info, s1, s2 in runs:
            img = rng.standard_normal((1, 3, info.input_size, info.input_size), dtype=np.float32)
            t0 = time.perf_counter()
            lm, feat = s1.run(None, {"image": img})
            t1 = time.perf_counter()
            heat = _heatmap(lm, *info.heatmap_size, info.heatmap_sigma)
            t2 = time.perf_counter()
            s2.run(None, {"features": feat, "heatmap": heat})
            t3 = time.perf_counter()
            if r >= 50:  # warm-up
                times[name]["stage1"].append(t1 - t0)
                times[name]["stage2"].append(t3 - t2)
                times[name]["total"].append((t1 - t0) + (t3 - t2))
    result = {name: {k: {"median_ms": round(float(np.median(v)) * 1e3, 4), "p90_ms": round(float(np.percentile(v, 90)) * 1e3, 4)}
                     for k, v in stages.items()} for name, stages in times.items()}
    if not args.json:
        for name, stages in result.items():
            print(name, "  ".join(f"{k} {v['median_ms']:.3f} ms (p90 {v['p90_ms']:.3f})" for k, v in stages.items()))
    print(json.dumps({"threads": args.threads, "models": result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
