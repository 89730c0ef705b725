"""Annotations on a frame: landmarks, box, id, score, head-pose axes and the frame rate."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.pose import euler_to_matrix
from ..core.face import Face

_COLOURS = [(0, 255, 0), (255, 128, 0), (0, 200, 255), (255, 0, 255), (0, 128, 255), (255, 255, 0)]


def colour_for(face_id: int) -> tuple[int, int, int]:
    return _COLOURS[face_id % len(_COLOURS)]


def draw_pose_axes(image: np.ndarray, pose: Sequence[float], centre: tuple[float, float], length: float) -> None:
    """Head axes drawn orthographically with the rotation of atpn_edge.core.pose: x (red) points to
    the image's right for a frontal face, y (green) down, z (blue) out through the nose."""
    import cv2

    rot = euler_to_matrix(*pose)
    c = np.asarray(centre, dtype=np.float64)
    for axis, colour in ((0, (0, 0, 255)), (1, (0, 255, 0)), (2, (255, 0, 0))):
        tip = c + length * rot[:2, axis]
        cv2.line(image, _pt(c), _pt(tip), colour, 2, cv2.LINE_AA)


def _pt(p) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def draw_faces(image: np.ndarray, faces: Sequence[Face], fps: float | None = None) -> np.ndarray:
    """Draw in place on a BGR uint8 image and return it."""
    import cv2

    scale = max(image.shape[:2]) / 640.0
    for face in faces:
        colour = colour_for(face.id)
        x, y, w, h = face.box
        cv2.rectangle(image, _pt((x, y)), _pt((x + w, y + h)), colour, max(1, int(round(scale))))
        r = max(1, int(round(1.5 * scale)))
        for px, py in np.asarray(face.landmarks):
            if np.isfinite(px) and np.isfinite(py):
                cv2.circle(image, _pt((px, py)), r, colour, -1, cv2.LINE_AA)
        draw_pose_axes(image, face.pose, (x + w / 2, y + h / 2), 0.5 * max(w, h))
        label = f"#{face.id} {face.score:.2f}  y{face.pose[0]:+.0f} p{face.pose[1]:+.0f} r{face.pose[2]:+.0f}"
        cv2.putText(image, label, _pt((x, max(12.0, y - 6))), cv2.FONT_HERSHEY_SIMPLEX, 0.45 * scale, colour,
                    max(1, int(round(scale))), cv2.LINE_AA)
    if fps is not None:
        cv2.putText(image, f"{fps:.1f} fps", (8, int(24 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale,
                    (255, 255, 255), max(1, int(round(2 * scale))), cv2.LINE_AA)
    return image
