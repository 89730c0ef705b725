"""Poses from crop axes to frame axes, for the few faces of one frame, in plain float math.

Same result as ``atpn_edge.core.pose.rotate_poses_in_image(poses, -angles)`` (that module owns the
convention; tests/test_runtime_postprocess.py pins the two together), written out element by
element because numpy's per-call overhead on 3x3 matrices cost ~20 us a face, 2 % of the whole
CPU tracking step.
"""
from __future__ import annotations

import math

import numpy as np


def poses_crop_to_frame(poses: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """poses [N, 3] (yaw, pitch, roll degrees, crop axes), angles [N] (radians, the crop's x axis
    in the frame) -> poses [N, 3] in frame axes (float64)."""
    out = np.empty((len(poses), 3))
    for i, ((yaw, pitch, roll), angle) in enumerate(zip(poses.tolist(), angles.tolist())):
        if angle == 0.0:
            out[i] = (yaw, pitch, roll)
            continue
        y, p, r = math.radians(yaw), math.radians(pitch), math.radians(roll)
        cy, sy, cp, sp, cr, sr = math.cos(y), math.sin(y), math.cos(p), math.sin(p), math.cos(r), math.sin(r)
        # R = Rx(pitch) @ Ry(-yaw) @ Rz(roll), rows a, b, c (pose.euler_to_matrix).
        a0, a1, a2 = cy * cr, -cy * sr, -sy
        b0, b1, b2 = -sp * sy * cr + cp * sr, sp * sy * sr + cp * cr, -sp * cy
        c1, c2 = -cp * sy * sr + sp * cr, cp * cy  # (c0 is not needed)
        # M = Rz(angle) @ R mixes rows a and b only.
        ca, sa = math.cos(angle), math.sin(angle)
        m00, m01, m02 = ca * a0 - sa * b0, ca * a1 - sa * b1, ca * a2 - sa * b2
        m11, m12 = sa * a1 + ca * b1, sa * a2 + ca * b2
        # pose.matrix_to_euler, including its gimbal-lock branch.
        yaw_f = -math.asin(max(-1.0, min(1.0, m02)))
        if abs(m02) < 1.0 - 1e-9:
            pitch_f, roll_f = math.atan2(-m12, c2), math.atan2(-m01, m00)
        else:
            pitch_f, roll_f = math.atan2(c1, m11), 0.0
        out[i] = (math.degrees(yaw_f), math.degrees(pitch_f), math.degrees(roll_f))
    return out
