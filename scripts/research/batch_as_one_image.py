#!/usr/bin/env python3
"""Does stage 1 get cheaper per face when four crops go through its convolutions as one image?

ONNX Runtime's CPU convolutions loop over the images of a batch, so four faces cost about four
times one. This times stage 1's convolutional trunk (everything up to the global depthwise conv of
the landmark head, and the `features` output) three ways, interleaved call by call on one thread:
a batch of four 112x112 crops, the same four stacked into one 448x112 image (every 1x1
convolution then is one matrix product over all four faces; the borders between faces are not
kept apart, so the output is not usable, only its time), and one crop. If the stacked image is
not faster than the batch, the per-face cost is the convolutions' arithmetic, not a per-call cost
that a batched call could share. Result: BENCHMARKS.md, Runtime ("Four faces in one call").

    taskset -c 1 python scripts/research/batch_as_one_image.py [--model engines/atpn68s/stage1.int8.onnx] [--runs 600]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

from atpn_edge.runtime.onnxruntime_backend import session_options


def trunk(path: str) -> onnx.ModelProto:
    """The graph cut before the landmark head's global depthwise conv, spatial input size free."""
    m = onnx.load(path)
    g = m.graph
    gd = next(n for n in g.node if n.op_type == "Conv" and n.name.startswith("/gdconv/"))
    outs = [gd.input[0], "features"]
    need, keep = set(outs), []
    for n in reversed(list(g.node)):
        if any(o in need for o in n.output):
            keep.append(n)
            need.update(n.input)
    del g.node[:]
    g.node.extend(reversed(keep))
    inits = [i for i in g.initializer if i.name in need]
    del g.initializer[:]
    g.initializer.extend(inits)
    del g.output[:]
    for o in outs:
        g.output.append(onnx.helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None))
    dims = g.input[0].type.tensor_type.shape.dim
    for d, v in zip(dims, ["N", 3, "H", "W"]):
        if isinstance(v, str):
            d.dim_param = v
        else:
            d.dim_value = v
    del g.value_info[:]
    return m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="engines/atpn68s/stage1.int8.onnx")
    ap.add_argument("--runs", type=int, default=600)
    args = ap.parse_args()
    s = ort.InferenceSession(trunk(args.model).SerializeToString(), session_options(1), providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    rng = np.random.default_rng(0)
    batch = rng.random((4, 3, 112, 112), dtype=np.float32)
    inputs = {"batch of 4": batch, "4 stacked as one image": np.concatenate(list(batch), axis=1)[None], "one crop": batch[:1]}
    for x in inputs.values():
        for _ in range(50):
            s.run(None, {name: x})
    times = {k: [] for k in inputs}
    for _ in range(args.runs):
        for k, x in inputs.items():
            t0 = time.perf_counter()
            s.run(None, {name: x})
            times[k].append(time.perf_counter() - t0)
    for k, v in times.items():
        a = np.array(v) * 1e3
        print(f"{k:24s} median {np.median(a):.3f} ms  p90 {np.percentile(a, 90):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
