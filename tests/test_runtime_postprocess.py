"""Postprocessing pinned to the conventions' owners: landmarks back through the crop module's
inverse, poses through atpn_edge.core.pose (the fast element-wise form must agree with it)."""
from __future__ import annotations

import numpy as np

from atpn_edge.core.pose import rotate_poses_in_image
from atpn_edge.runtime.crop_pose import poses_crop_to_frame
from atpn_edge.runtime.pipeline import RawOutputs, postprocess
from atpn_edge.core.crop import CropParams, crop_affine, from_crop_normalised


def test_fast_pose_move_equals_pose_module():
    rng = np.random.default_rng(0)
    poses = rng.uniform(-89, 89, (500, 3))
    angles = rng.uniform(-np.pi, np.pi, 500)
    angles[:5] = 0.0
    np.testing.assert_allclose(poses_crop_to_frame(poses, angles), rotate_poses_in_image(poses, -angles), atol=1e-9)
    lock = np.array([[90.0, 10.0, 20.0]])  # gimbal lock: both must take the same branch
    np.testing.assert_allclose(poses_crop_to_frame(lock, np.array([0.3])), rotate_poses_in_image(lock, [-0.3]), atol=1e-6)


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
