"""Offline INT8 quantisation of a model's two graphs for the CPU backend: static Q/DQ, u8
activations and s8 per-channel weights (FINDINGS: ONNX Runtime's default s8s8 was slower than
fp32 on this CPU; u8s8 per-channel was the fast one), calibrated on real face crops. Writes
``stage1.int8.onnx`` and ``stage2.int8.onnx`` next to the fp32 graphs, metadata kept.

Needs the `onnx` package (onnxruntime.quantization imports it): a build-time tool, never
imported by the runtime itself.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..core.model_info import ModelInfo
from .models import ModelFiles

INT8_NAMES = {"stage1": "stage1.int8.onnx", "stage2": "stage2.int8.onnx"}


def calibration_feeds(files: ModelFiles, info: ModelInfo, crops: np.ndarray) -> dict[str, list[dict[str, np.ndarray]]]:
    """Per graph, one feed per crop: stage 2 sees the features and heatmaps stage 1 gives (the
    same calibration tensors as TensorRT's INT8 build, from ``calibrator.calibration_inputs``)."""
    from .calibrator import calibration_inputs

    per_graph = {kind: calibration_inputs(kind, files, info, crops) for kind in ("stage1", "stage2")}
    return {kind: [{name: a[i:i + 1] for name, a in arrays.items()} for i in range(len(crops))]
            for kind, arrays in per_graph.items()}


def quantize_model(files: ModelFiles, info: ModelInfo, crops: np.ndarray, out_dir: Path | None = None) -> dict[str, Path]:
    """Write the INT8 Q/DQ graphs (default: into the model directory); returns kind -> path."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self, feeds):
            self._items = iter(feeds)

        def get_next(self):
            return next(self._items, None)

    out_dir = Path(out_dir or files.directory).resolve()
    feeds = calibration_feeds(files, info, crops)
    paths = {}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="atpn-quant-") as tmp:
        os.chdir(tmp)  # quant_pre_process leaves temporary files in the working directory
        try:
            for kind in ("stage1", "stage2"):
                src = Path(cwd, getattr(files, kind)).resolve()
                pre, dst = Path(tmp) / f"{kind}.pre.onnx", out_dir / INT8_NAMES[kind]
                # Symbolic shape inference fails on the shortcut's resampling; ONNX's own is enough.
                quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
                quantize_static(str(pre), str(dst), Reader(feeds[kind]), quant_format=QuantFormat.QDQ,
                                per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
                _copy_metadata(onnx, src, dst)
                paths[kind] = dst
        finally:
            os.chdir(cwd)
    return paths


def _copy_metadata(onnx, src: Path, dst: Path) -> None:
    """quantize_static drops metadata_props; the runtime needs them."""
    meta = onnx.load(str(src), load_external_data=False).metadata_props
    model = onnx.load(str(dst))
    del model.metadata_props[:]
    for p in meta:
        model.metadata_props.add(key=p.key, value=p.value)
    model.metadata_props.add(key="atpn.quantization", value='"int8 qdq u8s8 per-channel"')
    onnx.save(model, str(dst))
