#!/usr/bin/env python3
"""Time ONNX graphs alone on ONNX Runtime's CPU provider, interleaved call by call in one process
(shuffled order, so every graph sees the same machine load): medians, p90 and the ratio to the
first. Inputs are random tensors of the graphs' static shapes (batch 1): the timing of these CNNs
does not depend on the values. Used for the graph-level rows of BENCHMARKS.md ("Runtime").

    taskset -c 1 python scripts/research/bench_graphs.py fp32=engines/atpn68/stage1.onnx \
        int8=engines/atpn68/stage1.int8.onnx ext=engines/atpn68/stage1.onnx:extended [--runs 1500]

A ``:level`` suffix sets the graph optimisation level (all, extended, basic; default all);
``+dz`` after the label sets ``session.set_denormal_as_zero``.
"""
from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np


def session(path: str, level: str, denormal_as_zero: bool):
    import onnxruntime as ort

    levels = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL, "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC}
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.graph_optimization_level = levels[level]
    if denormal_as_zero:
        so.add_session_config_entry("session.set_denormal_as_zero", "1")
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.random([d if isinstance(d, int) else 1 for d in i.shape], dtype=np.float32) for i in sess.get_inputs()}
    return lambda: sess.run(None, feeds)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("graphs", nargs="+", help="LABEL=PATH[:LEVEL]")
    ap.add_argument("--runs", type=int, default=1500)
    ap.add_argument("--warmup", type=int, default=100)
    args = ap.parse_args()
    cands = {}
    for spec in args.graphs:
        label, _, rest = spec.partition("=")
        path, _, level = rest.partition(":")
        cands[label] = session(path, level or "all", label.endswith("+dz"))
    for fn in cands.values():
        for _ in range(args.warmup):
            fn()
    times: dict[str, list[float]] = {k: [] for k in cands}
    names = list(cands)
    for _ in range(args.runs):
        random.shuffle(names)
        for n in names:
            t = time.perf_counter()
            cands[n]()
            times[n].append(time.perf_counter() - t)
    base = float(np.median(times[next(iter(cands))]))
    print(f"{args.runs} interleaved runs, 1 thread, batch 1")
    for n, v in times.items():
        ms = np.asarray(v) * 1e3
        print(f"{n:<24}median {np.median(ms):.3f} ms  p90 {np.percentile(ms, 90):.3f} ms  ratio {np.median(ms) / base / 1e3:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
