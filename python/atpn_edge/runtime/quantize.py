"""Offline INT8 quantisation of a model's two graphs for the CPU backend: static Q/DQ, u8
activations and s8 per-channel weights (ONNX Runtime's default s8s8 was slower than fp32 on the
CPUs measured; u8s8 per-channel was the fast one), calibrated on real face crops. Writes
``stage1.int8.onnx`` and ``stage2.int8.onnx`` next to the fp32 graphs, metadata kept.

Some parts stay fp32 (``mixed=True``, the default; `FP32_PREFIXES`): stage 1's stem (the 3-channel
input conv and the first block, at half the input resolution), where INT8 was slower than fp32
(three input channels fill few VNNI lanes, and quantising the largest activations costs more than
the small convolutions save: keeping it fp32 made stage 1 about 20 % faster than quantising
everything), and the heads of both stages, where INT8 cost landmark, pose and face-score accuracy
for about a microsecond of speed (BENCHMARKS.md, "Runtime").

Needs the `onnx` package (onnxruntime.quantization imports it): a build-time tool, never
imported by the runtime itself. `atpn-edge quantize` is its command line.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..core.model_info import ModelInfo
from .models import ModelFiles

INT8_NAMES = {"stage1": "stage1.int8.onnx", "stage2": "stage2.int8.onnx"}
QUANTIZATION_TAG = "int8 qdq u8s8 per-channel; fp32 stem and heads"
# Stage 1's stem: its output is the smallest tensor at half resolution, so the one QuantizeLinear
# there is cheap; cutting further in (after the first expansion to 64 channels) was slower than
# fp32. The heads (global depthwise conv + linear layers: stage 1's landmarks, stage 2's pose and
# face): in INT8 they cost accuracy for ~1 us each. Stage 2's heads in INT8: +0.7 degrees of pose
# MAE and -0.0016 face AUC on the validation split; stage 1's: +0.46 NME points on faces whose
# first crop comes from a detector box at 45 degrees (tests/test_tracker_scenes.py).
FP32_PREFIXES = {"stage1": ("/stem/", "/gdconv/", "/Flatten", "/landmarks/"),
                 "stage2": ("/gdconv/", "/Flatten", "/pose/", "/face/")}


def calibration_feeds(files: ModelFiles, info: ModelInfo, crops: np.ndarray) -> dict[str, list[dict[str, np.ndarray]]]:
    """Per graph, one feed per crop: stage 2 sees the features and heatmaps stage 1 gives (the
    same calibration tensors as TensorRT's INT8 build, from ``calibrator.calibration_inputs``)."""
    from .calibrator import calibration_inputs

    per_graph = {kind: calibration_inputs(kind, files, info, crops) for kind in ("stage1", "stage2")}
    return {kind: [{name: a[i:i + 1] for name, a in arrays.items()} for i in range(len(crops))]
            for kind, arrays in per_graph.items()}


def fp32_nodes(onnx, path: Path, kind: str, prefixes: tuple[str, ...] | None = None) -> list[str]:
    """Names of the nodes of ``kind``'s graph that stay fp32: those whose names start with one of
    ``prefixes`` (default `FP32_PREFIXES`; node names are the module paths of
    atpn_edge.train.model, so other networks simply get none)."""
    prefixes = FP32_PREFIXES[kind] if prefixes is None else tuple(prefixes)
    if not prefixes:
        return []
    return [n.name for n in onnx.load(str(path)).graph.node if n.name.startswith(prefixes)]


def quantize_model(files: ModelFiles, info: ModelInfo, crops: np.ndarray, out_dir: Path | None = None,
                   mixed: bool = True, fp32_prefixes: tuple[str, ...] | None = None,
                   calibrate_method: str = "MinMax") -> dict[str, Path]:
    """Write the INT8 Q/DQ graphs (default: into the model directory); returns kind -> path.
    ``mixed=False`` quantises every node; ``fp32_prefixes`` replaces `FP32_PREFIXES` for both
    graphs (for measuring other splits)."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if len(crops) < 1:
        raise ValueError("quantisation needs at least one calibration crop")

    class Reader(CalibrationDataReader):
        def __init__(self, feeds):
            self._items = iter(feeds)

        def get_next(self):
            return next(self._items, None)

    out_dir = Path(out_dir or files.directory).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    feeds = calibration_feeds(files, info, crops)
    paths = {}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="atpn-quant-") as tmp:
        os.chdir(tmp)  # quant_pre_process leaves temporary files in the working directory
        try:
            for kind in ("stage1", "stage2"):
                src = Path(cwd, getattr(files, kind)).resolve()
                pre, dst = Path(tmp) / f"{kind}.pre.onnx", out_dir / INT8_NAMES[kind]
                keep = fp32_nodes(onnx, src, kind, fp32_prefixes) if mixed else []
                # Symbolic shape inference fails on the shortcut's resampling; ONNX's own is enough.
                quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
                quantize_static(str(pre), str(dst), Reader(feeds[kind]), quant_format=QuantFormat.QDQ,
                                per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                                nodes_to_exclude=keep, calibrate_method=CalibrationMethod[calibrate_method])
                tag = QUANTIZATION_TAG if keep else "int8 qdq u8s8 per-channel"
                _copy_metadata(onnx, src, dst, tag)
                paths[kind] = dst
        finally:
            os.chdir(cwd)
    return paths


def _copy_metadata(onnx, src: Path, dst: Path, tag: str) -> None:
    """quantize_static drops metadata_props; the runtime needs them."""
    meta = onnx.load(str(src), load_external_data=False).metadata_props
    model = onnx.load(str(dst))
    del model.metadata_props[:]
    for p in meta:
        model.metadata_props.add(key=p.key, value=p.value)
    model.metadata_props.add(key="atpn.quantization", value=f'"{tag}"')
    onnx.save(model, str(dst))
