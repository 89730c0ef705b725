"""Annotations on a frame: landmarks, box, id, score, head-pose axes (sized by each face) and the frame rate."""
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


def face_scale(box: Sequence[float]) -> float:
    """Overlay size for one face: 1.0 for a face 160 px across, within [0.35, 4] (small faces keep
    readable marks, big ones get thicker lines instead of hairlines)."""
    return float(np.clip(max(box[2], box[3]) / 160.0, 0.35, 4.0))


def draw_faces(image: np.ndarray, faces: Sequence[Face], fps: float | None = None) -> np.ndarray:
    """Draw in place on a BGR uint8 image and return it. Marks scale with each face; the fps line
    with the frame."""
    import cv2

    for face in faces:
        colour = colour_for(face.id)
        x, y, w, h = face.box
        scale = face_scale(face.box)
        thick = max(1, int(round(1.5 * scale)))
        cv2.rectangle(image, _pt((x, y)), _pt((x + w, y + h)), colour, thick)
        r = max(1, int(round(1.6 * scale)))
        for px, py in np.asarray(face.landmarks):
            if np.isfinite(px) and np.isfinite(py):
                cv2.circle(image, _pt((px, py)), r, colour, -1, cv2.LINE_AA)
        draw_pose_axes(image, face.pose, (x + w / 2, y + h / 2), 0.5 * max(w, h))
        label = f"#{face.id} {face.score:.2f}  y{face.pose[0]:+.0f} p{face.pose[1]:+.0f} r{face.pose[2]:+.0f}"
        font = max(0.3, 0.5 * scale)
        cv2.putText(image, label, _pt((x, max(12.0 * font / 0.45, y - 6 * scale))), cv2.FONT_HERSHEY_SIMPLEX, font,
                    colour, thick, cv2.LINE_AA)
    if fps is not None:
        frame_scale = max(image.shape[:2]) / 640.0
        cv2.putText(image, f"{fps:.1f} fps", (8, int(24 * frame_scale)), cv2.FONT_HERSHEY_SIMPLEX, 0.7 * frame_scale,
                    (255, 255, 255), max(1, int(round(2 * frame_scale))), cv2.LINE_AA)
    return image
