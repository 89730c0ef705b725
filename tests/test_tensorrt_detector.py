"""The face detector on TensorRT, against the fake TensorRT and CUDA layer: the shipped BlazeFace
ONNX becomes a cached engine (same cache rules as the landmark engines), the TensorRT runner gives
the ONNX Runtime runner's outputs and detections, and wrong files fail clearly."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from fakes import tensorrt as fake_trt
from fakes.cuda import FakeCuda

REPO = Path(__file__).resolve().parents[1]
SHORT = REPO / "engines" / "blazeface" / "face_detection_short_range.onnx"
FULL = REPO / "engines" / "blazeface" / "face_detection_full_range.onnx"

pytestmark = pytest.mark.skipif(not SHORT.is_file(), reason=f"BlazeFace ONNX not shipped at {SHORT}")


def runner(path, cache, cuda=None, log=None):
    from atpn_edge.detection.tensorrt_runner import TensorRTDetectorRunner

    return TensorRTDetectorRunner(path, cache_dir=cache, trt=fake_trt, cuda=cuda or FakeCuda(),
                                  log=(log.append if log is not None else lambda m: None))


@pytest.mark.parametrize("path", [SHORT, FULL], ids=["short", "full"])
def test_tensorrt_runner_matches_onnxruntime(path, tmp_path):
    from atpn_edge.detection.onnxruntime_runner import OnnxRuntimeRunner

    trt = runner(path, tmp_path)
    ort = OnnxRuntimeRunner(path)
    assert (trt.input_size, trt.num_anchors) == (ort.input_size, ort.num_anchors)
    rng = np.random.default_rng(0)
    blob = rng.uniform(-1, 1, (1, 3, trt.input_size, trt.input_size)).astype(np.float32)
    for got, want in zip(trt.run(blob), ort.run(blob)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    trt.close()


def test_detector_engine_is_cached_like_the_landmark_engines(tmp_path):
    fake_trt.builds.clear()
    log = []
    first = runner(SHORT, tmp_path, log=log)
    assert len(fake_trt.builds) == 1 and any("no cached engine" in m for m in log)
    assert fake_trt.builds[0]["flags"] == ["FP16"] and fake_trt.builds[0]["profile"] == {}  # static shapes
    side = json.loads(first._graph.engine_path.with_name(first._graph.engine_path.name + ".json").read_text())
    assert side["graph"] == "detector-face_detection_short_range" and side["max_batch"] == 1
    assert len(list(tmp_path.glob("timing.trt*.cache"))) == 1
    second = runner(SHORT, tmp_path)
    assert len(fake_trt.builds) == 1 and second._graph.engine_path == first._graph.engine_path
    other_gpu = runner(SHORT, tmp_path, cuda=FakeCuda(name="Orin", multiprocessors=8, total_memory=7 << 30))
    assert len(fake_trt.builds) == 2 and other_gpu._graph.engine_path != first._graph.engine_path


def test_blazeface_detects_the_same_faces_on_tensorrt(tmp_path, shared_data):
    import cv2

    from atpn_edge.detection.blazeface import BlazeFaceDetector

    photos = sorted((shared_data / "300w" / "afw").glob("*.jpg"))[:3]
    if not photos:
        pytest.skip("no 300W AFW photos in the shared data")
    on_trt = BlazeFaceDetector("short", runner=runner(SHORT, tmp_path))
    on_ort = BlazeFaceDetector(str(SHORT))  # the graph the engine was built from (not the x86 widened one)
    found = 0
    for photo in photos:
        img = cv2.imread(str(photo))
        got, want = on_trt.detect(img), on_ort.detect(img)
        assert len(got) == len(want)
        found += len(want)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.box, b.box, atol=1e-3)
            np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-3)
            assert abs(a.score - b.score) < 1e-4
    assert found >= 1


def test_not_a_detector_graph_is_a_clear_error(tmp_path):
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    from runtime_tiny_model import make_tiny_model

    tiny = make_tiny_model(tmp_path / "tiny")
    with pytest.raises(ValueError, match="dynamic shape|not a BlazeFace detector graph"):
        runner(tiny / "stage2.onnx", tmp_path / "cache")
    from atpn_edge.detection.base import DetectorUnavailable

    with pytest.raises(DetectorUnavailable, match="not found"):
        runner(tmp_path / "missing.onnx", tmp_path / "cache")


def test_build_command_builds_the_detector_engines(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    from runtime_tiny_model import make_tiny_model

    import atpn_edge.cuda as cuda_layer
    from atpn_edge.cli import main

    tiny = make_tiny_model(tmp_path / "tiny")
    monkeypatch.setitem(sys.modules, "tensorrt", fake_trt)
    monkeypatch.setattr(cuda_layer, "Cuda", lambda: FakeCuda())
    assert main(["build", "--model", str(tiny), "--cache-dir", str(tmp_path / "c"), "--max-faces", "2",
                 "--detector", "all", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"stage1", "stage2", "detector-short", "detector-full"} <= set(out["engines"])
    assert all(Path(p).is_file() for p in out["engines"].values())
