"""The keypoint fit of the first crop (detection/keypoint_fit.py) and the one-pass start of a track
it allows (tracking/new_faces.py): the logic with a fake network, the shipped fit on real faces."""
from __future__ import annotations

import json

import numpy as np
import pytest

from atpn_edge.core.crop import CropParams, CropRule, params_from_landmarks
from atpn_edge.detection import BoxCalibration, Detection
from atpn_edge.detection.keypoint_fit import (KeypointFit, corrected, fit_features, load_keypoint_fit,
                                              window_correction)
from tracker_fakes import FakeDetector, FakePipeline, SceneFace, face_at

FRAME = np.zeros((240, 320, 3), np.uint8)


def identity_fit(limit: float = 1.0) -> KeypointFit:
    return KeypointFit(weights=np.zeros((17, 3)), limits=np.full(3, limit), num_keypoints=6)


def keypoints_of(landmarks: np.ndarray) -> np.ndarray:
    """BlazeFace-like keypoints from iBUG landmarks: eyes, nose tip, mouth, ear points."""
    lm = np.asarray(landmarks, np.float64)
    return np.array([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48:68].mean(0), lm[0], lm[16]], np.float32)


def test_a_correction_moves_and_scales_the_window_in_its_own_axes():
    window = CropParams(center=(100.0, 50.0), side=40.0, angle=np.pi / 2)
    target = CropParams(center=(96.0, 54.0), side=44.0, angle=np.pi / 2)
    c = window_correction(window, target)
    np.testing.assert_allclose(c, [0.1, 0.1, np.log(1.1)], atol=1e-12)  # face axes: turned 90 deg
    back = corrected(window, c)
    np.testing.assert_allclose(back.center, target.center, atol=1e-9)
    assert back.side == pytest.approx(44.0) and back.angle == window.angle


def test_the_fit_is_applied_only_to_the_keypoints_it_knows_and_within_its_limits():
    window = CropParams(center=(50.0, 50.0), side=40.0, angle=0.0)
    box, kps = (30.0, 30.0, 40.0, 40.0), np.tile([[50.0, 50.0]], (6, 1))
    weights = np.zeros((17, 3))
    weights[-1] = [0.05, 0.0, 0.0]  # the constant term: move right by 5 % of the side
    fit = KeypointFit(weights=weights, limits=np.array([0.1, 0.1, 0.1]), num_keypoints=6)
    assert fit.apply(window, box, kps).center == pytest.approx((52.0, 50.0))
    assert fit.apply(window, box, kps[:5]) is None  # another detector's keypoints
    assert fit.apply(window, box, np.where(np.eye(6, 2, dtype=bool), np.nan, kps)) is None
    weights[-1] = [0.2, 0.0, 0.0]  # beyond the limit: a keypoint layout the fit never saw
    assert KeypointFit(weights=weights, limits=np.array([0.1, 0.1, 0.1]), num_keypoints=6).apply(window, box, kps) is None


def test_features_are_the_keypoints_and_box_corners_in_the_window_axes():
    window = CropParams(center=(10.0, 20.0), side=2.0, angle=0.0)
    f = fit_features(window, (9.0, 19.0, 2.0, 2.0), np.array([[10.0, 20.0]] * 5 + [[12.0, 20.0]]))
    assert f.shape == (17,)
    np.testing.assert_allclose(f[10:12], [1.0, 0.0])
    np.testing.assert_allclose(f[12:], [-0.5, -0.5, 0.5, 0.5, 1.0])


def test_a_missing_or_broken_fit_file_is_named_in_the_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="first_crop_fit.json"):
        load_keypoint_fit(tmp_path / "first_crop_fit.json", "short")
    bad = tmp_path / "fit.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"fit\.json.*'short'"):
        load_keypoint_fit(bad, "short")
    bad.write_text(json.dumps({"models": {"short": {"num_keypoints": 6, "weights": [[0.0] * 3] * 16, "limits": [1, 1, 1]}}}))
    with pytest.raises(ValueError, match=r"\[17, 3\]"):
        load_keypoint_fit(bad, "short")
    bad.write_text(json.dumps({"models": {"short": {"num_keypoints": 6, "weights": [[0.0] * 3] * 17, "limits": [1, 0, 1]}}}))
    with pytest.raises(ValueError, match="positive"):
        load_keypoint_fit(bad, "short")
    with pytest.raises(ValueError, match="'full'"):
        load_keypoint_fit(bad, "full")


class KeypointDetector(FakeDetector):
    """The fake detector with eye keypoints and a keypoint fit (which leaves the box window as it is)."""

    def __init__(self, pipeline, fit: KeypointFit | None) -> None:
        super().__init__(pipeline)
        self.calibration = BoxCalibration(keypoint_fit=fit)

    def detect(self, frame):
        self.calls += 1
        return [Detection(box=self._box(f.landmarks), keypoints=keypoints_of(f.landmarks)) for f in self.pipeline.scene]

    @staticmethod
    def _box(landmarks):
        p = params_from_landmarks(landmarks, CropRule(landmark_scale=1.0))
        return (p.center[0] - p.side / 2 + 0.5, p.center[1] - p.side / 2 + 0.5, p.side, p.side)


class PosedPipeline(FakePipeline):
    yaw = 0.0

    def run(self, frame, affines):
        out = super().run(frame, affines)
        out.pose[:, 0] = self.yaw
        return out


def first_frame_calls(score: float, fit: KeypointFit | None, yaw: float = 0.0) -> tuple[int, int]:
    from atpn_edge.tracking.tracker import Tracker

    pipe = PosedPipeline()
    pipe.yaw = yaw
    pipe.scene = [SceneFace(face_at(160, 120, 80), score=score)]
    tracker = Tracker(pipeline=pipe, detector=KeypointDetector(pipe, fit), smooth=False)
    faces = tracker.track(FRAME)
    return pipe.calls, len(faces)


def test_a_fitted_first_crop_the_face_score_is_sure_of_starts_the_track_in_one_pass():
    assert first_frame_calls(0.9995, identity_fit()) == (1, 1)


def test_the_first_crop_is_refined_when_unsure_unfitted_or_turned_aside():
    assert first_frame_calls(0.99, identity_fit()) == (2, 1)  # confirmed, but not sure
    assert first_frame_calls(0.9995, None) == (2, 1)  # no keypoint fit: a box crop
    assert first_frame_calls(0.9995, identity_fit(limit=1e-9), yaw=0.0)[0] == 1  # a zero correction is within any limit
    weights = np.zeros((17, 3))
    weights[-1, 2] = 0.5  # a correction beyond the limit: the box window, refined
    assert first_frame_calls(0.9995, KeypointFit(weights=weights, limits=np.full(3, 0.1), num_keypoints=6)) == (2, 1)
    assert first_frame_calls(0.9995, identity_fit(), yaw=50.0) == (2, 1)  # profile faces: two passes


@pytest.mark.data
def test_the_shipped_fit_puts_first_crops_nearer_the_landmark_window(shared_data):
    import cv2

    from atpn_edge.datasets import load_ibug_folder
    from atpn_edge.detection import create_detector
    from atpn_edge.eval.detection import best_match, gt_box

    det = create_detector("blazeface")
    assert det.calibration.keypoint_fit is not None
    plain = BoxCalibration(extent_ratio=det.calibration.extent_ratio, shift_y=det.calibration.shift_y)
    errors = {"box": [], "fitted": []}
    for s in load_ibug_folder(shared_data / "300w" / "helen_train")[:40]:
        found = det.detect(cv2.imread(str(s.image)))
        i = best_match([d.box for d in found], gt_box(s.landmarks))
        assert i is not None, s.name
        truth = params_from_landmarks(s.landmarks, CropRule(landmark_scale=1.0))
        for name, calib in (("box", plain), ("fitted", det.calibration)):
            w = calib.crop_params(found[i].box, 1.0, found[i].keypoints)
            errors[name].append(np.hypot(*np.subtract(w.center, truth.center)) / truth.side + abs(np.log(w.side / truth.side)))
    assert np.median(errors["fitted"]) < 0.8 * np.median(errors["box"]), {k: np.median(v) for k, v in errors.items()}
