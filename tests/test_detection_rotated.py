"""Turned photos are found by the detector itself, with keypoints whose eye line follows the turn
(the second, upright look of detection/upright.py)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from atpn_edge.detection import create_detector
from atpn_edge.detection.upright import eye_angle
from atpn_edge.eval.detection import best_match, gt_box, rotate

PHOTO = Path(__file__).parent / "data" / "astronaut_256.jpg"


def _angle_error(kps: np.ndarray, want_deg: float) -> float:
    return abs((np.degrees(eye_angle(kps)) - want_deg + 180) % 360 - 180)


@pytest.mark.parametrize("deg", [0, 30, 45, 90, 135, -90])
def test_turned_photo_is_found_with_its_eye_line(deg):
    photo = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)
    det = create_detector("blazeface")
    upright = det.detect(photo)[0]
    image, kps = rotate(photo, upright.keypoints, deg)  # where the upright keypoints go when turned
    found = det.detect(image)
    i = best_match([d.box for d in found], gt_box(kps))
    assert i is not None, f"no face in the photo turned {deg} deg"
    base = np.degrees(eye_angle(upright.keypoints))
    assert _angle_error(found[i].keypoints, base + deg) < 15
    assert np.median(np.hypot(*(found[i].keypoints[:4] - kps[:4]).T)) < 0.15 * found[i].box[2]


def test_without_the_second_look_the_keypoints_lag_behind_the_turn():
    """Why upright.py exists: the model's own keypoints on a face turned 90 deg."""
    photo = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)
    det = create_detector("blazeface", upright_above_deg=None)
    base = np.degrees(eye_angle(det.detect(photo)[0].keypoints))
    (d,) = det.detect(cv2.rotate(photo, cv2.ROTATE_90_CLOCKWISE))
    assert _angle_error(d.keypoints, base + 90) > 25


@pytest.mark.data
@pytest.mark.parametrize("deg", [45, 90])
def test_turned_300w_faces_are_found(shared_data, deg):
    from atpn_edge.datasets import load_ibug_folder

    det = create_detector("blazeface")
    samples = load_ibug_folder(shared_data / "300w" / "afw")[::17][:20]
    hits, angle_ok = 0, 0
    for s in samples:
        image, pts = rotate(cv2.imread(str(s.image)), s.landmarks, deg)
        found = det.detect(image)
        i = best_match([d.box for d in found], gt_box(pts))
        if i is None:
            continue
        hits += 1
        eyes = pts[42:48].mean(0) - pts[36:42].mean(0)
        angle_ok += _angle_error(found[i].keypoints, np.degrees(np.arctan2(eyes[1], eyes[0]))) < 20
    assert hits >= 19 and angle_ok >= 18


def test_no_second_look_at_a_face_the_caller_tracks():
    """``tracked`` spares the look: one network pass, the model's own keypoints."""
    photo = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)
    image = cv2.rotate(photo, cv2.ROTATE_90_CLOCKWISE)
    det = create_detector("blazeface")
    passes = []
    run = det.runner.run
    det.runner.run = lambda blob: passes.append(1) or run(blob)
    (looked,) = det.detect(image)
    assert len(passes) >= 2
    passes.clear()
    (raw,) = det.detect(image, tracked=lambda box: True)
    assert len(passes) == 1
    (unlooked,) = create_detector("blazeface", upright_above_deg=None).detect(image)
    np.testing.assert_allclose(raw.keypoints, unlooked.keypoints, atol=1e-4)
    assert not np.allclose(raw.keypoints, looked.keypoints, atol=1.0)
    passes.clear()
    det.detect(image, tracked=lambda box: False)
    assert len(passes) >= 2
