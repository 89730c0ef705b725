"""The widened BlazeFace graph (channels rounded up to multiples of 16 with zero channels, made by
scripts/widen_channels.py): the same outputs as the plain graph, chosen on x86 only, and the
widening itself on a small graph."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from atpn_edge.detection import blazeface
from atpn_edge.detection.blazeface import MODELS, BlazeFaceDetector, model_dir
from atpn_edge.detection.letterbox import letterbox
from atpn_edge.detection.onnxruntime_runner import OnnxRuntimeRunner

from test_detection_blazeface import CASES, frame

REPO = Path(__file__).resolve().parents[1]
SHORT = MODELS["short"]


@pytest.mark.parametrize("case", CASES)
def test_widened_graph_gives_the_plain_graphs_outputs(case):
    plain = OnnxRuntimeRunner(model_dir() / SHORT.filename)
    wide = OnnxRuntimeRunner(model_dir() / SHORT.widened)
    assert (wide.input_size, wide.num_anchors) == (plain.input_size, plain.num_anchors)
    blob, _ = letterbox(frame(case), 128)
    for got, want in zip(wide.run(blob), plain.run(blob)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-4)  # float rounding only


def test_the_named_model_loads_the_widened_graph_on_x86_only(monkeypatch):
    monkeypatch.setattr(blazeface, "blocked_layout_cpu", lambda: True)
    assert BlazeFaceDetector("short").runner.path.name == SHORT.widened
    monkeypatch.setattr(blazeface, "blocked_layout_cpu", lambda: False)
    assert BlazeFaceDetector("short").runner.path.name == SHORT.filename
    # a path is loaded as given, even on x86
    monkeypatch.setattr(blazeface, "blocked_layout_cpu", lambda: True)
    assert BlazeFaceDetector(str(model_dir() / SHORT.filename)).runner.path.name == SHORT.filename


def test_without_the_widened_file_the_plain_graph_is_used(tmp_path, monkeypatch):
    (tmp_path / "blazeface").mkdir()
    for name in (SHORT.filename, blazeface.FIRST_CROP_FIT):
        (tmp_path / "blazeface" / name).write_bytes((model_dir() / name).read_bytes())
    monkeypatch.setattr(blazeface, "model_dir", lambda: tmp_path / "blazeface")
    monkeypatch.setattr(blazeface, "blocked_layout_cpu", lambda: True)
    assert BlazeFaceDetector("short").runner.path == tmp_path / "blazeface" / SHORT.filename


@pytest.fixture
def widen():
    if importlib.util.find_spec("onnx") is None:
        pytest.skip("needs the onnx package (conversion only)")
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from widen_channels import widen_channels
    finally:
        sys.path.pop(0)
    return widen_channels


def _block_graph():
    """conv 3->6, relu, then a BlazeFace block: depthwise 3x3 + 1x1 to 10 channels, plus the input
    padded from 6 to 10 channels, relu; a 1x1 head to 2 channels, transposed to NHWC."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    w = {"w0": rng.normal(size=(6, 3, 3, 3)), "b0": rng.normal(size=6), "wd": rng.normal(size=(6, 1, 3, 3)),
         "bd": rng.normal(size=6), "w1": rng.normal(size=(10, 6, 1, 1)), "b1": rng.normal(size=10),
         "wh": rng.normal(size=(2, 10, 1, 1)), "bh": rng.normal(size=2)}
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in w.items()]
    inits.append(numpy_helper.from_array(np.array([0, 0, 0, 0, 0, 4, 0, 0], np.int64), "pads"))
    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c0"], ["a0"]),
        helper.make_node("Conv", ["a0", "wd", "bd"], ["d"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=6),
        helper.make_node("Conv", ["d", "w1", "b1"], ["c1"], kernel_shape=[1, 1]),
        helper.make_node("Pad", ["a0", "pads"], ["p"], mode="constant"),
        helper.make_node("Add", ["p", "c1"], ["s"]),
        helper.make_node("Relu", ["s"], ["a1"]),
        helper.make_node("Conv", ["a1", "wh", "bh"], ["h"], kernel_shape=[1, 1]),
        helper.make_node("Transpose", ["h"], ["y"], perm=[0, 2, 3, 1]),
    ]
    graph = helper.make_graph(nodes, "block", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 2])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=7)


def _run(model, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def test_widening_keeps_outputs_and_drops_pads_that_became_identities(widen):
    model = _block_graph()
    x = np.random.default_rng(0).normal(size=(1, 3, 8, 8)).astype(np.float32)
    for block, pads_left, identity_convs in ((16, 0, 0), (8, 0, 1)):
        wide = widen(model, block)
        ops = [n.op_type for n in wide.graph.node]
        assert ops.count("Pad") == pads_left
        assert ops.count("Conv") == 4 + identity_convs  # 6 and 10 channels round to 8 and 16 with block 8
        np.testing.assert_allclose(_run(wide, x), _run(model, x), rtol=1e-5, atol=1e-5)
        weights = {i.name: i.dims for i in wide.graph.initializer}
        assert list(weights["w1"]) == [16, block, 1, 1]  # 10 -> 16 out, 6 -> block in
        assert list(weights["wh"]) == [2, 16, 1, 1]  # the head read by Transpose keeps its 2 channels


def test_widening_refuses_a_pad_that_is_not_on_channels(widen):
    from onnx import numpy_helper

    model = _block_graph()
    for init in model.graph.initializer:
        if init.name == "pads":
            init.CopyFrom(numpy_helper.from_array(np.array([0, 0, 1, 0, 0, 4, 1, 0], np.int64), "pads"))
    with pytest.raises(ValueError, match="pads more than the channels"):
        widen(model, 16)
