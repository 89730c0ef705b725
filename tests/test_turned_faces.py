"""The search on the frame turned half round: detections mapped back exactly, two searches'
detections merged once per face, and the options that turn the upside-down handling off."""
from __future__ import annotations

import numpy as np
import pytest

from atpn_edge.core.face import Detection
from atpn_edge.detection.turned import detect_half_turned, half_turn_detection
from atpn_edge.tracking.config import TrackerConfig
from atpn_edge.tracking.tracks import merge_searches


class BrightSpotDetector:
    """Finds the frame's brightest pixel: a 10x6 box from its pixel edge, the spot as keypoint 0
    and one pixel right of it as keypoint 1 (pixel centres)."""

    def detect(self, frame):
        y, x = np.unravel_index(int(np.argmax(frame[..., 0])), frame.shape[:2])
        kp = np.array([[x, y], [x + 1, y]], np.float32)
        return [Detection(box=(float(x), float(y), 10.0, 6.0), score=0.9, keypoints=kp)]


def test_half_turned_detections_land_where_the_face_is():
    frame = np.zeros((37, 53, 3), np.uint8)
    frame[20, 9] = 255  # the "face" at x=9, y=20
    (d,) = detect_half_turned(BrightSpotDetector(), frame)
    # Found at (43, 16) in the turned frame: back at the spot, its box now ending at the spot's far edge.
    np.testing.assert_allclose(d.keypoints[0], [9, 20])
    np.testing.assert_allclose(d.keypoints[1], [8, 20])  # the second keypoint turned with the frame
    assert d.box == (53 - 43 - 10.0, 37 - 16 - 6.0, 10.0, 6.0)
    assert d.score == pytest.approx(0.9)


def test_half_turn_twice_is_the_identity():
    d = Detection(box=(3.5, 7.0, 20.0, 11.0), score=0.5, keypoints=np.array([[5.0, 9.0], [15.0, 10.0]], np.float32))
    back = half_turn_detection(half_turn_detection(d, 64, 48), 64, 48)
    assert back.box == pytest.approx(d.box)
    np.testing.assert_allclose(back.keypoints, d.keypoints)
    assert half_turn_detection(Detection(box=(0, 0, 4, 4)), 10, 10).keypoints is None


def test_a_face_found_by_both_searches_is_kept_once_with_the_higher_score():
    a = Detection(box=(10, 10, 40, 40), score=0.6)
    b = Detection(box=(12, 11, 40, 40), score=0.9)  # the same face, found on the turned frame
    c = Detection(box=(100, 10, 40, 40), score=0.7)
    assert merge_searches([a], [b, c], 0.3) == [b, c]
    assert merge_searches([b], [a], 0.3) == [b]


def test_upside_down_options_are_checked():
    assert TrackerConfig().upside_down_check and TrackerConfig().upside_down_search
    for name in ("upside_down_check", "upside_down_search"):
        with pytest.raises(TypeError, match=name):
            TrackerConfig(**{name: 1})
