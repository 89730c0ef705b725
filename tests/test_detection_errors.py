"""Bad detector model files, backends and frames: clear errors naming the problem, no stall."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from atpn_edge.detection import DetectorUnavailable, create_detector
from atpn_edge.detection.runner import create_runner

REPO = Path(__file__).resolve().parents[1]


def test_missing_model_file_is_named(tmp_path):
    missing = tmp_path / "nope" / "face_detection_short_range.onnx"
    with pytest.raises(DetectorUnavailable, match=str(missing)):
        create_detector(f"blazeface:{missing}")


def test_corrupt_model_file_is_named(tmp_path):
    bad = tmp_path / "face_detection_short_range.onnx"
    bad.write_bytes(b"\x08\x07not an onnx file" * 50)
    with pytest.raises(ValueError, match=f"{bad}: not a readable ONNX detector model"):
        create_detector(f"blazeface:{bad}")
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes((REPO / "engines" / "blazeface" / "face_detection_short_range.onnx").read_bytes()[:5000])
    with pytest.raises(ValueError, match=str(truncated)):
        create_detector(f"blazeface:{truncated}")


def test_another_onnx_graph_is_refused_by_name():
    other = REPO / "engines" / "atpn68" / "stage2.onnx"
    if not other.is_file():
        pytest.skip(f"{other} not in this checkout")
    with pytest.raises(ValueError, match=f"{other}: not a BlazeFace detector graph"):
        create_detector(f"blazeface:{other}")


def test_unknown_backend_and_model_name():
    with pytest.raises(ValueError, match="unknown detector backend 'cuda'"):
        create_runner(REPO / "engines" / "blazeface" / "face_detection_short_range.onnx", backend="cuda")
    with pytest.raises(ValueError, match="unknown BlazeFace model 'medium': choose short, full"):
        create_detector("blazeface:medium")


@pytest.mark.parametrize("name", ["blazeface", "blazeface:full"])
def test_frames_without_a_face_give_nothing_quickly(name):
    det = create_detector(name)
    rng = np.random.default_rng(0)
    frames = [np.zeros((720, 1280, 3), np.uint8), np.full((480, 640, 3), 128, np.uint8),
              rng.integers(0, 256, (360, 640, 3), dtype=np.uint8), np.zeros((1, 1, 3), np.uint8)]
    t0 = time.perf_counter()
    for f in frames:
        assert det.detect(f) == []
    assert time.perf_counter() - t0 < 2.0  # a few ms each: no stall, whatever the frame


def test_grey_and_bgra_frames_are_accepted_and_bad_ones_named():
    det = create_detector("blazeface")
    photo = __import__("cv2").imread(str(REPO / "tests" / "data" / "astronaut_256.jpg"))
    grey = photo[..., 1]
    bgra = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    assert len(det.detect(grey)) == 1 and len(det.detect(bgra)) == 1
    with pytest.raises(TypeError, match="frame must be uint8"):
        det.detect(np.zeros((10, 10, 3), np.float32))
