"""Postprocessing (one native call) pinned to the conventions' owners: landmarks back through the
crop module's inverse, poses through atpn_edge.core.pose."""
from __future__ import annotations

import numpy as np
import pytest

from atpn_edge.core.crop import CropParams, crop_affine, from_crop_normalised
from atpn_edge.core.pose import rotate_poses_in_image
from atpn_edge.runtime.pipeline import RawOutputs, postprocess


def _affines(angles: np.ndarray) -> np.ndarray:
    return np.stack([crop_affine(CropParams((300.0, 200.0), 150.0, float(a)), 112) for a in angles])


def test_pose_to_frame_equals_pose_module():
    rng = np.random.default_rng(0)
    poses = rng.uniform(-89, 89, (500, 3)).astype(np.float32)
    angles = rng.uniform(-np.pi, np.pi, 500)
    angles[:5] = 0.0
    aff = _affines(angles)
    lm = np.zeros((500, 68, 2), np.float32)
    res = postprocess(RawOutputs(lm, poses, np.zeros((500, 1), np.float32)), aff, 112)
    crop_angles = np.arctan2(aff[:, 0, 1], aff[:, 0, 0])
    np.testing.assert_allclose(res.pose, rotate_poses_in_image(poses.astype(np.float64), -crop_angles), atol=2e-4)
    lock = np.array([[90.0, 10.0, 20.0]], np.float32)  # gimbal lock: both must take the same branch
    res = postprocess(RawOutputs(lm[:1], lock, np.zeros(1, np.float32)), _affines(np.array([0.3])), 112)
    ref = rotate_poses_in_image(lock.astype(np.float64), -np.arctan2(*_affines(np.array([0.3]))[0, 0, 1::-1]))
    np.testing.assert_allclose(res.pose, ref, atol=1e-3)


def test_postprocess_maps_back_to_the_frame():
    rng = np.random.default_rng(1)
    affines = np.stack([crop_affine(CropParams((300.0, 200.0), 150.0, 0.4), 112),
                        crop_affine(CropParams((100.0, 90.0), 60.0, -1.2), 112)]).astype(np.float32)
    lm = rng.uniform(0, 1, (2, 68, 2)).astype(np.float32)
    pose = rng.uniform(-40, 40, (2, 3)).astype(np.float32)
    res = postprocess(RawOutputs(lm, pose, np.array([[0.0], [2.0]], np.float32)), affines, 112)
    for i in range(2):
        np.testing.assert_allclose(res.landmarks[i], from_crop_normalised(lm[i], affines[i], 112), atol=2e-3)
    angles = np.arctan2(affines[:, 0, 1].astype(np.float64), affines[:, 0, 0])
    np.testing.assert_allclose(res.pose, rotate_poses_in_image(pose, -angles), atol=1e-3)
    np.testing.assert_allclose(res.face_score, [0.5, 1 / (1 + np.exp(-2.0))], rtol=1e-6)
    assert res.landmarks.dtype == res.pose.dtype == res.face_score.dtype == np.float32
    assert res.landmarks_crop is not lm and np.array_equal(res.landmarks_crop, lm)


def test_postprocess_rejects_mismatched_shapes():
    lm = np.zeros((2, 68, 2), np.float32)
    aff = _affines(np.zeros(2))
    with pytest.raises(ValueError, match="affines must have shape"):
        postprocess(RawOutputs(lm, np.zeros((2, 3), np.float32), np.zeros(2, np.float32)), aff[:1], 112)
    with pytest.raises(ValueError, match="3 values per face"):
        postprocess(RawOutputs(lm, np.zeros((1, 3), np.float32), np.zeros(2, np.float32)), aff, 112)
    with pytest.raises(ValueError, match="1 value per face"):
        postprocess(RawOutputs(lm, np.zeros((2, 3), np.float32), np.zeros(3, np.float32)), aff, 112)
