"""Detectors: the registry, clear errors when one is unavailable, Haar (always there) on real
frames, and the box calibration of each shipped detector (BlazeFace itself: test_detection_*.py)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from atpn_edge.core.crop import CropRule, params_from_landmarks
from atpn_edge.detection import DetectorUnavailable, create_detector
from atpn_edge.detection.base import BoxCalibration
from atpn_edge.core.face import box_iou, centre_inside, landmark_box


def first_frame(path):
    cap = cv2.VideoCapture(str(path))
    ok, frame = cap.read()
    cap.release()
    assert ok, path
    return frame


def test_a_detector_object_without_a_box_calibration_is_refused_by_the_tracker():
    from atpn_edge.tracking.tracker import Tracker
    from tracker_fakes import FakePipeline

    class NoCalibration:
        def detect(self, frame):
            return []

    with pytest.raises(TypeError, match="NoCalibration needs a calibration.*BoxCalibration"):
        Tracker(pipeline=FakePipeline(), detector=NoCalibration())


def test_registry_errors():
    with pytest.raises(ValueError, match="unknown detector 'dlib'.*haar"):
        create_detector("dlib")
    with pytest.raises(TypeError, match="detect"):
        create_detector(42)
    with pytest.raises(DetectorUnavailable, match="needs its model file"):
        create_detector("yunet")
    with pytest.raises(DetectorUnavailable, match="not found"):
        create_detector("yunet:/nonexistent/yunet.onnx")


def test_calibration_maps_a_box_to_the_landmark_window():
    calib = BoxCalibration(extent_ratio=0.9, shift_y=0.15)
    p = calib.crop_params((100, 50, 200, 200), landmark_scale=1.4)
    assert p.side == pytest.approx(1.4 * 0.9 * 200)
    assert p.center == pytest.approx((199.5, 149.5 + 30))


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
