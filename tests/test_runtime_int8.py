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
    with pytest.raises(FileNotFoundError, match="atpn-edge quantize"):
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
    assert create_pipeline(model, backend="onnxruntime").precision == "int8"  # shipped INT8 graphs win
    fp32 = create_pipeline(model, backend="onnxruntime", precision="fp32").run(frame, affines)
    int8 = create_pipeline(model, backend="onnxruntime", precision="int8").run(frame, affines)
    assert np.abs(int8.landmarks_crop - fp32.landmarks_crop).max() < 0.02
    assert not np.array_equal(int8.landmarks_crop, fp32.landmarks_crop)  # really the other graph


def test_named_parts_stay_fp32(tiny_dir, tmp_path, monkeypatch):
    """The mixed default keeps the nodes FP32_PREFIXES names in fp32: their weights are plain
    initializers, not DequantizeLinear outputs, while the rest is quantised."""
    import onnx

    from atpn_edge.runtime import quantize
    from atpn_edge.runtime.models import load_info, resolve_model

    monkeypatch.setattr(quantize, "FP32_PREFIXES", {"stage1": ("/body/",), "stage2": ("/head/",)})
    files = resolve_model(tiny_dir)
    crops = np.random.default_rng(0).normal(size=(8, 3, 112, 112)).astype(np.float32)
    paths = quantize.quantize_model(files, load_info(files), crops, out_dir=tmp_path)

    def weight_is_quantised(kind: str, op: str) -> bool:
        graph = onnx.load(str(paths[kind])).graph
        dq_outputs = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
        node = next(n for n in graph.node if n.op_type == op)
        return node.input[1] in dq_outputs

    assert not weight_is_quantised("stage1", "Conv") and weight_is_quantised("stage1", "Gemm")
    assert weight_is_quantised("stage2", "Conv") and not weight_is_quantised("stage2", "Gemm")


def _labelled_faces(folder, count: int) -> None:
    """Random images, each with 68 random points in its middle (enough for the crop rule)."""
    import cv2

    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        cv2.imwrite(str(folder / f"face{i}.png"), rng.integers(0, 256, (160, 160, 3), dtype=np.uint8))
        pts = 40 + 80 * rng.uniform(0, 1, (68, 2))
        body = "\n".join(f"{x:.2f} {y:.2f}" for x, y in pts)
        (folder / f"face{i}.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")


def test_quantize_command_writes_graphs_and_honours_exclusions(tiny_dir, tmp_path, capsys):
    import json
    import shutil

    from atpn_edge.cli import main

    model = tmp_path / "m"
    shutil.copytree(tiny_dir, model)
    faces = tmp_path / "faces"
    _labelled_faces(faces, 4)
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"300w": ["face0", "face1"]}))
    assert main(["quantize", str(model), "--faces", str(faces), "--exclude", str(split)]) == 0
    out = capsys.readouterr().out
    assert "calibrated on 2 crops" in out
    assert main(["quantize", str(model), "--faces", str(faces), "--exclude", str(split), "--jitter"]) == 0
    assert "calibrated on 4 crops" in capsys.readouterr().out  # each face also through a moved window
    assert (model / "stage1.int8.onnx").is_file() and (model / "stage2.int8.onnx").is_file()
    import onnx

    assert main(["quantize", str(model), "--faces", str(faces), "--fp32-prefix", "/body/"]) == 0
    graph = onnx.load(str(model / "stage1.int8.onnx")).graph
    dq_outputs = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    assert next(n for n in graph.node if n.op_type == "Conv").input[1] not in dq_outputs  # kept fp32
    capsys.readouterr()
    split.write_text(json.dumps({"300w": [f"face{i}" for i in range(4)]}))
    assert main(["quantize", str(model), "--faces", str(faces), "--exclude", str(split)]) == 2
    assert "no labelled faces" in capsys.readouterr().err


def test_int8_is_the_default_on_x86_64_only(tiny_dir, tmp_path):
    import shutil

    from atpn_edge.runtime.models import resolve_model

    model = tmp_path / "m"
    shutil.copytree(tiny_dir, model)
    files = resolve_model(model)
    assert files.default_precision("x86_64") == "fp32"  # no INT8 graphs yet
    for kind in ("stage1", "stage2"):
        shutil.copy(model / f"{kind}.onnx", model / f"{kind}.int8.onnx")
    assert files.default_precision("x86_64") == files.default_precision("AMD64") == "int8"
    assert files.default_precision("aarch64") == "fp32"  # unmeasured there
