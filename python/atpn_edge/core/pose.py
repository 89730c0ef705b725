"""Head pose as (yaw, pitch, roll) in degrees, in the convention of AFLW2000-3D's ``Pose_Para``.

Measured on the AFLW2000 half in ../shared/data (tests/test_pose.py pins it): the 68 3D points
satisfy ``pts = s * R @ shape + t`` in image axes (x right, y down, z towards the viewer, as the
``.mat`` stores them) with ``R = Rx(pitch) @ Ry(-yaw) @ Rz(roll)`` (standard right-handed
rotation matrices). Signs: yaw > 0 turns the face towards the image's left, pitch > 0 raises the
chin, roll > 0 turns the head clockwise on screen.

Roll is the innermost rotation, so rotating the image in-plane (a tracking crop that levels the
eyes) does not simply add to roll: a pose moves between frame and crop axes through matrices.
"""
from __future__ import annotations

import numpy as np


def _rx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def euler_to_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation matrix (image axes) of a pose given in degrees."""
    y, p, r = np.radians([yaw, pitch, roll])
    return _rx(p) @ _ry(-y) @ _rz(r)


def matrix_to_euler(rotation: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) in degrees of a rotation matrix; inverse of ``euler_to_matrix``.

    Near |yaw| = 90 degrees pitch and roll are not separable (gimbal lock); roll is then set to 0.
    """
    m = np.asarray(rotation, dtype=np.float64)
    b = np.arcsin(np.clip(m[0, 2], -1.0, 1.0))  # = -yaw
    if abs(m[0, 2]) < 1.0 - 1e-9:
        pitch = np.arctan2(-m[1, 2], m[2, 2])
        roll = np.arctan2(-m[0, 1], m[0, 0])
    else:
        pitch = np.arctan2(m[2, 1], m[1, 1])
        roll = 0.0
    return np.degrees(np.array([-b, pitch, roll]))


def rotate_pose_in_image(pose: np.ndarray, angle: float) -> np.ndarray:
    """Pose seen in axes rotated in-plane by ``angle`` radians (y down, positive = clockwise).

    A crop whose x axis lies along the direction ``angle`` in the frame (``CropParams.angle``)
    sees ``rotate_pose_in_image(pose_frame, angle)``; ``rotate_pose_in_image(pose_crop, -angle)``
    brings a pose predicted in the crop back to the frame.
    """
    pose = np.asarray(pose, dtype=np.float64)
    rot = _rz(-angle) @ euler_to_matrix(*pose)
    return matrix_to_euler(rot)


def rotate_poses_in_image(poses: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Batched ``rotate_pose_in_image`` for poses [N, 3] and angles [N] (radians)."""
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    angles = np.asarray(angles, dtype=np.float64).reshape(-1)
    if poses.shape[0] != angles.shape[0]:
        raise ValueError(f"{poses.shape[0]} poses but {angles.shape[0]} angles")
    out = np.empty_like(poses)
    for i in range(poses.shape[0]):
        out[i] = rotate_pose_in_image(poses[i], angles[i]) if angles[i] != 0.0 else poses[i]
    return out


def flip_pose(pose: np.ndarray) -> np.ndarray:
    """Pose of the horizontally mirrored face: yaw and roll change sign, pitch stays."""
    yaw, pitch, roll = np.asarray(pose, dtype=np.float64)
    return np.array([-yaw, pitch, -roll])


def crop_angle_from_affine(affine: np.ndarray) -> float:
    """In-plane angle (radians) of a crop's x axis in the frame, from its frame->crop affine."""
    a = np.asarray(affine, dtype=np.float64)
    return float(np.arctan2(a[0, 1], a[0, 0]))
