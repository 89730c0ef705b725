"""Annotated video output.

Frames that change size mid-stream are letterboxed into the first frame's size (scaled to fit,
black bars) rather than starting a new file: one output file per run is what users look for, and
a player cannot change resolution inside one MP4 anyway.

An MP4 is only playable after ``close()`` writes its index, which the track command does on every
exit path, Ctrl-C included; ``.avi`` (MJPG) stays readable even after a hard crash.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Fit ``image`` into (width, height), keeping its aspect ratio, padding with black."""
    import cv2

    w, h = size
    ih, iw = image.shape[:2]
    k = min(w / iw, h / ih)
    nw, nh = max(1, round(iw * k)), max(1, round(ih * k))
    out = np.zeros((h, w, 3), np.uint8)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    out[y0:y0 + nh, x0:x0 + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    return out


class VideoSink:
    """Writes BGR frames to a video file; opened on the first frame (its size fixes the output size)."""

    def __init__(self, path: "str | Path", fps: float = 30.0) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in _FOURCC:
            raise ValueError(f"--output must end in one of {', '.join(sorted(_FOURCC))}, got {self.path.name!r}")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"output folder does not exist: {self.path.parent}")
        self.fourcc = _FOURCC[suffix]
        self.fps = fps if fps and fps > 0 else 30.0
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self.letterboxed = 0
        self._writer = None

    def write(self, image: np.ndarray) -> None:
        import cv2

        if self._writer is None:
            self.size = (image.shape[1], image.shape[0])
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, self.size)
            if not self._writer.isOpened():
                self._writer = None
                raise OSError(f"OpenCV could not open {self.path} for writing with codec {self.fourcc}")
        if (image.shape[1], image.shape[0]) != self.size:
            image = letterbox(image, self.size)
            self.letterboxed += 1
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> "VideoSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
