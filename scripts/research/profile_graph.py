#!/usr/bin/env python3
"""Where a graph's time goes: ONNX Runtime's own profiler (1 thread, batch 1, random input), the
median time of every node over the runs, summed per block of the architecture (node names are
the module paths of atpn_edge.train.model). The profiler adds its own overhead, so the totals are
above the times of scripts/research/bench_graphs.py; the shares are what it is for.

    taskset -c 1 python scripts/research/profile_graph.py engines/atpn68/stage1.int8.onnx [--nodes]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import defaultdict

import numpy as np


def block_of(name: str) -> str:
    m = re.match(r"/(stem|s28|s14|s7)/(?:\1\.(\d+))?", name)
    if m:
        return m.group(1) if m.group(1) == "stem" or m.group(2) is None else f"{m.group(1)}.{m.group(2)}"
    if "shortcut" in name:
        return "shortcut pool"
    if any(k in name for k in ("Resize", "deep_to_map", "features", "Concat_1")):
        return "features branch"
    if any(k in name for k in ("fuse", "/Concat")):
        return "fuse"
    if any(k in name for k in ("gdconv", "landmarks", "Flatten", "Reshape", "Gemm")):
        return "landmark head"
    return "layout, Q/DQ"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("graph")
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--nodes", action="store_true", help="print every node too")
    args = ap.parse_args()
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "profile")
    sess = ort.InferenceSession(args.graph, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.random([1, *i.shape[1:]], dtype=np.float32) for i in sess.get_inputs()}
    for _ in range(args.runs):
        sess.run(None, feeds)
    path = sess.end_profiling()
    with open(path, encoding="utf-8") as f:
        events = json.load(f)
    os.remove(path)
    times: dict[str, list[float]] = defaultdict(list)
    ops: dict[str, str] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            node = e["name"][: -len("_kernel_time")]
            times[node].append(e["dur"])
            ops[node] = e["args"].get("op_name", "")
    skip = min(50, args.runs // 5)  # warm-up
    blocks: dict[str, float] = defaultdict(float)
    for node, v in times.items():
        us = float(np.median(v[skip:]))
        blocks[block_of(node)] += us
        if args.nodes:
            print(f"{us:7.1f} us  {ops[node]:<20} {node}")
    total = sum(blocks.values())
    print(f"{args.graph}: {total:.0f} us a run in the profiler (sum of node medians)")
    for b, us in blocks.items():
        print(f"  {b:<16}{us:6.0f} us  {100 * us / total:4.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
