"""Detectors: the registry, clear errors when one is unavailable, Haar (always there) on real
frames, BlazeFace's anchors and NMS (and the model itself where mediapipe 0.10.x is installed)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from atpn_edge.core.crop import CropRule, params_from_landmarks
from atpn_edge.detection import DetectorUnavailable, create_detector
from atpn_edge.detection.base import BoxCalibration
from atpn_edge.core.face import box_iou, centre_inside, landmark_box
from atpn_edge.detection.blazeface import find_model, ssd_anchors, weighted_nms


def first_frame(path):
    cap = cv2.VideoCapture(str(path))
    ok, frame = cap.read()
    cap.release()
    assert ok, path
    return frame


def test_registry_errors():
    with pytest.raises(ValueError, match="unknown detector 'dlib'.*haar"):
        create_detector("dlib")
    with pytest.raises(TypeError, match="detect"):
        create_detector(42)
    with pytest.raises(DetectorUnavailable, match="needs its model file"):
        create_detector("yunet")
    with pytest.raises(DetectorUnavailable, match="not found"):
        create_detector("yunet:/nonexistent/yunet.onnx")


def test_blazeface_without_mediapipe_says_what_to_install(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(DetectorUnavailable, match="pip install 'mediapipe"):
        find_model()


def test_calibration_maps_a_box_to_the_landmark_window():
    calib = BoxCalibration(extent_ratio=0.9, shift_y=0.15)
    p = calib.crop_params((100, 50, 200, 200), landmark_scale=1.4)
    assert p.side == pytest.approx(1.4 * 0.9 * 200)
    assert p.center == pytest.approx((199.5, 149.5 + 30))


def test_anchors_and_weighted_nms():
    a = ssd_anchors()
    assert a.shape == (896, 2) and a.min() > 0 and a.max() < 1
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[512], [0.5 / 8, 0.5 / 8])
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    out = weighted_nms(boxes, np.array([0.9, 0.6, 0.8]), 0.3)
    assert len(out) == 2 and out[0][1] == pytest.approx(0.9)
    np.testing.assert_allclose(out[0][0], [0.4, 0.4, 10.4, 10.4], atol=1e-5)


@pytest.mark.data
def test_haar_finds_the_face_in_the_shared_videos_and_none_in_negatives(shared_data):
    det = create_detector("haar")
    for name in ("d0.mp4", "d9.mp4", "s20.mp4"):
        boxes = det.detect(first_frame(shared_data / "videos" / name))
        assert len(boxes) >= 1, name
    negatives = sorted((shared_data / "negatives" / "skimage").glob("*.png"))[:4]
    false = sum(len(det.detect(cv2.imread(str(p)))) for p in negatives)
    assert false <= 1


def _pts(path):
    lines = path.read_text().splitlines()
    i = lines.index("{") + 1
    return np.array([[float(v) for v in ln.split()] for ln in lines[i:i + 68]]) - 1.0


@pytest.mark.data
@pytest.mark.parametrize("name", ["haar", "blazeface"])
def test_calibrated_box_crop_is_close_to_the_landmark_crop(shared_data, name):
    try:
        det = create_detector(name)
    except DetectorUnavailable as exc:
        pytest.skip(str(exc))
    rule = CropRule()
    errs, ratios, raw_errs = [], [], []
    for pts_path in sorted((shared_data / "300w" / "afw").glob("*.pts"))[:25]:
        gt = _pts(pts_path)
        gt_box = landmark_box(gt)
        boxes = [d.box for d in det.detect(cv2.imread(str(pts_path.with_suffix(".jpg")))) if centre_inside(d.box, gt_box)]
        if not boxes:
            continue  # missed, or only other faces of the photo
        want = params_from_landmarks(gt, rule)
        box = max(boxes, key=lambda b: box_iou(b, gt_box))
        got = det.calibration.crop_params(box, rule.landmark_scale)
        raw = BoxCalibration().crop_params(box, rule.landmark_scale)  # the box taken as the landmark box
        errs.append(np.hypot(got.center[0] - want.center[0], got.center[1] - want.center[1]) / want.side)
        raw_errs.append(np.hypot(raw.center[0] - want.center[0], raw.center[1] - want.center[1]) / want.side)
        ratios.append(got.side / want.side)
    assert len(errs) >= 15
    # AFW has many turned faces: a Haar box is off-centre by ~8 % of the crop then (the tracker's
    # refinement pass absorbs it); the calibration must still beat taking the box as it is.
    assert np.median(errs) < 0.10 and abs(np.median(ratios) - 1) < 0.1
    assert np.median(errs) < np.median(raw_errs)
