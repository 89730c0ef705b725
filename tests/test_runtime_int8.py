"""INT8 Q/DQ graphs for the CPU backend: written with the metadata kept, loaded with
precision="int8", close to fp32; a missing INT8 graph is a clear error."""
from __future__ import annotations

import numpy as np
import pytest


pytest.importorskip("onnx", reason="quantisation needs the onnx package")
kernels = pytest.importorskip("atpn_edge.kernels", reason="native kernels not built")


def test_int8_pipeline_is_close_to_fp32(tiny_dir, tmp_path):
    import shutil

    from atpn_edge.core.model_info import ModelInfo
    from atpn_edge.runtime import create_pipeline
    from atpn_edge.runtime.models import load_info, resolve_model
    from atpn_edge.runtime.quantize import quantize_model
    from atpn_edge.core.crop import CropParams, crop_affine

    model = tmp_path / "m"
    shutil.copytree(tiny_dir, model)
    with pytest.raises(FileNotFoundError, match="quantize_model.py"):
        create_pipeline(model, backend="onnxruntime", precision="int8")
    files = resolve_model(model)
    info = load_info(files)
    rng = np.random.default_rng(0)
    crops = rng.normal(size=(16, 3, 112, 112)).astype(np.float32)
    paths = quantize_model(files, info, crops)
    assert ModelInfo.from_onnx(paths["stage1"]).model_version == info.model_version
    import onnx

    ops = {n.op_type for n in onnx.load(str(paths["stage1"])).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops

    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    affines = crop_affine(CropParams((160, 120), 100, 0.1), 112)[None]
    fp32 = create_pipeline(model, backend="onnxruntime").run(frame, affines)
    int8 = create_pipeline(model, backend="onnxruntime", precision="int8").run(frame, affines)
    assert np.abs(int8.landmarks_crop - fp32.landmarks_crop).max() < 0.02
    assert not np.array_equal(int8.landmarks_crop, fp32.landmarks_crop)  # really the other graph
