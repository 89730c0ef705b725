"""Annotated video output through PyAV (the ``av`` wheel ships FFmpeg with libx264 and libvpx-vp9).

- ``.mp4`` / ``.m4v`` / ``.mov``: H.264 (VP9 where the FFmpeg has no libx264) in a *fragmented*
  MP4 (``movflags=frag_keyframe+empty_moov``), a keyframe every second and every packet flushed to
  the file: a browser plays it, and after a crash or ``kill -9`` the file still plays up to its
  last complete fragment (about the last second is lost). ``.mkv``: H.264 in Matroska; ``.webm``:
  VP9; ``.avi``: Motion JPEG.
- Timestamps are exact: the time base is 1/fps of the source and frame n has pts n (files), or
  the frame's own timestamp on that grid (live sources, where frames can be dropped).
- Frames that change size mid-stream are letterboxed into the first frame's size (scaled to fit,
  black bars): one output file per run, since a player cannot change resolution inside one file.
- Every failure to write (full disk, I/O error, a vanished folder) raises ``WriteError`` naming
  the file; what was written before stays in the file.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

# suffix -> (container format, codecs in order of preference, muxer options)
_FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}
_FORMATS: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    ".mp4": ("mp4", ("libx264", "libvpx-vp9"), _FRAGMENTED),
    ".m4v": ("mp4", ("libx264", "libvpx-vp9"), _FRAGMENTED),
    ".mov": ("mov", ("libx264",), _FRAGMENTED),
    ".mkv": ("matroska", ("libx264", "libvpx-vp9"), {"flush_packets": "1"}),
    ".webm": ("webm", ("libvpx-vp9",), {"flush_packets": "1"}),
    ".avi": ("avi", ("mjpeg",), {"flush_packets": "1"}),
}
VIDEO_SUFFIXES = tuple(sorted(_FORMATS))


class WriteError(OSError):
    """An output could not be written (the message names the file)."""


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


def frame_rate(fps: float) -> Fraction:
    """The exact rate behind a float fps: 29.97 -> 30000/1001, 25.0 -> 25."""
    ntsc = Fraction(round(fps * 1.001) * 1000, 1001)
    if abs(float(ntsc) - fps) < 1e-3 and abs(fps - round(fps)) > 1e-3:
        return ntsc
    return Fraction(fps).limit_denominator(1000)


def _even(image: np.ndarray) -> np.ndarray:
    """4:2:0 video needs even sides: repeat the last row / column where one is odd."""
    h, w = image.shape[:2]
    if h % 2 or w % 2:
        image = np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return image


class VideoSink:
    """Writes BGR frames to a video file; opened on the first frame (its size fixes the output size)."""

    def __init__(self, path: "str | Path", fps: float = 30.0) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in _FORMATS:
            raise ValueError(f"--output must end in one of {', '.join(VIDEO_SUFFIXES)}, got {self.path.name!r}")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"output folder does not exist: {self.path.parent}")
        import av

        self._format, codecs, self._options = _FORMATS[suffix]
        available = [c for c in codecs if c in av.codecs_available]
        if not available:
            raise RuntimeError(f"this FFmpeg (PyAV {av.__version__}) has none of the encoders {', '.join(codecs)} for {suffix}")
        self.codec = available[0]
        self.rate = frame_rate(fps if fps and fps > 0 else 30.0)
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self.letterboxed = 0
        self._container = None
        self._stream = None
        self._last_pts = -1
        self._t0: float | None = None

    def _open(self, width: int, height: int) -> None:
        import av

        self._container = av.open(str(self.path), "w", format=self._format, options=self._options)
        stream = self._container.add_stream(self.codec, rate=self.rate)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuvj420p" if self.codec == "mjpeg" else "yuv420p"
        stream.codec_context.time_base = 1 / self.rate
        stream.codec_context.gop_size = max(1, round(float(self.rate)))  # a keyframe (and a fragment) a second
        if self.codec == "libx264":
            stream.options = {"preset": "veryfast", "tune": "zerolatency"}  # no B-frames, no lookahead delay
        elif self.codec == "libvpx-vp9":
            stream.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        self._stream = stream

    def write(self, image: np.ndarray, timestamp: float | None = None) -> None:
        """Append a BGR uint8 frame. ``timestamp`` (seconds, live sources): placed on the 1/fps grid;
        without it frames are 1/fps apart."""
        import av

        try:
            if self._container is None:
                self.size = (image.shape[1], image.shape[0])
                self._open(*self.size)
            if (image.shape[1], image.shape[0]) != self.size:
                image = letterbox(image, self.size)
                self.letterboxed += 1
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(_even(image)), format="bgr24")
            pts = self._last_pts + 1
            if timestamp is not None:  # the first frame at 0, later ones where their clock puts them
                self._t0 = timestamp if self._t0 is None else self._t0
                pts = max(pts, int(round((timestamp - self._t0) * self.rate)))
            frame.pts, self._last_pts = pts, pts
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except (av.FFmpegError, OSError) as exc:
            raise WriteError(f"writing the video {self.path} failed: {_reason(exc)}") from exc
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file. Raises ``WriteError`` when that fails; the file is
        closed either way."""
        import av

        container, self._container = self._container, None
        if container is None:
            return
        error = None
        try:
            for packet in self._stream.encode():
                container.mux(packet)
        except (av.FFmpegError, OSError) as exc:
            error = exc
        try:
            container.close()
        except (av.FFmpegError, OSError) as exc:
            error = error or exc
        if error is not None:
            raise WriteError(f"finishing the video {self.path} failed: {_reason(error)}") from error

    def __enter__(self) -> "VideoSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
