"""The crop contract (SPEC 5): one function for training and runtime crops."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from atpn_edge.core.landmarks import IBUG68, flip_landmarks
from atpn_edge.core.crop import (
    CropParams,
    CropRule,
    affine_from_box,
    affine_from_landmarks,
    crop_affine,
    from_crop_normalised,
    invert_affine,
    params_from_box,
    params_from_landmarks,
    to_crop_normalised,
)

from helpers import module_rng

rng = module_rng(__name__)  # seeded from the session seed in the test header


def synthetic_face(center=(200.0, 150.0), size=80.0, angle=0.0) -> np.ndarray:
    """68 points laid out like a face (eyes above the mouth), rotated by ``angle`` radians."""
    pts = rng.uniform(-0.5, 0.5, (68, 2))
    pts[36:42] = [-0.2, -0.15] + rng.normal(0, 0.02, (6, 2))
    pts[42:48] = [0.2, -0.15] + rng.normal(0, 0.02, (6, 2))
    c, s = np.cos(angle), np.sin(angle)
    return (pts @ np.array([[c, s], [-s, c]])) * size + center


def test_eyes_are_levelled_and_face_centred() -> None:
    for angle in rng.uniform(-1.2, 1.2, 10):
        pts = synthetic_face(angle=angle)
        rule = CropRule(size=112, landmark_scale=1.4)
        a = affine_from_landmarks(pts, rule)
        crop_pts = pts @ a[:, :2].T + a[:, 2]
        left, right = crop_pts[36:42].mean(0), crop_pts[42:48].mean(0)
        assert abs(left[1] - right[1]) < 1e-9 and right[0] > left[0]
        lo, hi = crop_pts.min(0), crop_pts.max(0)
        np.testing.assert_allclose((lo + hi) / 2, [55.5, 55.5], atol=1e-9)  # centre of a 112 crop
        assert max(hi - lo) == pytest.approx(112 / 1.4)


def test_normalised_round_trip_and_edges() -> None:
    a = crop_affine(CropParams(center=(64.0, 40.0), side=90.0, angle=0.4), 112)
    pts = rng.uniform(0, 200, (50, 2))
    np.testing.assert_allclose(from_crop_normalised(to_crop_normalised(pts, a, 112), a, 112), pts, atol=1e-9)
    np.testing.assert_allclose(invert_affine(invert_affine(a)), a, atol=1e-12)
    # crop pixel (0, 0) centre is half a pixel inside the crop's edge
    inv = invert_affine(a)
    np.testing.assert_allclose(to_crop_normalised(inv[:, 2], a, 112), [0.5 / 112, 0.5 / 112], atol=1e-12)


def test_affine_matches_cv2_warp() -> None:
    """A dot drawn at a landmark lands where the affine says after cv2.warpAffine."""
    frame = np.zeros((300, 400), np.uint8)
    a = crop_affine(CropParams(center=(210.0, 140.0), side=150.0, angle=0.3), 112)
    frame[120, 230] = 255
    crop = cv2.warpAffine(frame.astype(np.float32), a, (112, 112), flags=cv2.INTER_LINEAR)
    y, x = np.unravel_index(np.argmax(crop), crop.shape)
    expected = a @ [230, 120, 1]
    assert abs(x - expected[0]) <= 1 and abs(y - expected[1]) <= 1


def test_jitter_moves_in_crop_axes() -> None:
    p = CropParams(center=(100.0, 100.0), side=50.0, angle=np.pi / 2)
    moved = p.jittered(shift=(0.1, 0.0), scale=2.0, rotate=0.1)
    np.testing.assert_allclose(moved.center, (100.0, 105.0), atol=1e-9)  # crop x axis points down
    assert moved.side == 100.0 and moved.angle == pytest.approx(np.pi / 2 + 0.1)


def test_box_rule() -> None:
    rule = CropRule(box_scale=1.5, box_shift_y=0.1)
    p = params_from_box((10, 20, 40, 60), rule)
    assert p.side == 90.0 and p.angle == 0.0
    np.testing.assert_allclose(p.center, (29.5, 55.5))
    assert affine_from_box((10, 20, 40, 60), rule).shape == (2, 3)


def test_flip_keeps_eye_order() -> None:
    pts = synthetic_face()
    flipped = flip_landmarks(pts, width=400)
    assert flipped[36:42, 0].mean() < flipped[42:48, 0].mean()  # left eye still on the image's left
    np.testing.assert_allclose(flip_landmarks(flipped, width=400), pts)
    assert sorted(IBUG68.flip) == list(range(68))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((5, 2)), "68, 2"),
        (np.full((68, 2), np.nan), "NaN"),
    ],
)
def test_bad_landmarks(bad, message) -> None:
    with pytest.raises(ValueError, match=message):
        params_from_landmarks(bad)


def test_bad_box_and_side() -> None:
    with pytest.raises(ValueError, match="positive"):
        params_from_box((0, 0, 0, 10))
    with pytest.raises(ValueError, match="side"):
        crop_affine(CropParams(center=(0.0, 0.0), side=float("nan"), angle=0.0), 112)


def test_landmark_box_forms_and_missing_points():
    from atpn_edge.core.face import landmark_box

    pts = np.array([[10.0, 20.0], [30.0, 60.0], [np.nan, np.nan]])
    assert landmark_box(pts) == (10.0, 20.0, 20.0, 40.0)
    box = landmark_box(pts, pixel_extent=True)
    assert box == (10.0, 20.0, 21.0, 41.0)
    # as a detector box, the pixel-extent box centres a crop on the points' centre
    assert params_from_box(box, CropRule(box_shift_y=0.0)).center == pytest.approx((20.0, 40.0))
    with pytest.raises(ValueError, match="finite point"):
        landmark_box(np.full((3, 2), np.nan))
