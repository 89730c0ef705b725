"""Frame sources: camera index, video file, RTSP URL or GStreamer pipeline, read on their own thread.

Reading (decoding) overlaps with inference: a capture thread fills a bounded queue and the
tracking loop takes frames from it. Live sources (camera, RTSP, GStreamer) drop the oldest queued
frame when the loop falls behind, so the tracker always sees the newest picture; files never drop
a frame (the reader waits for room instead).

A source that stops delivering raises ``SourceError`` from the iterator after the frames already
read have been handed out: a camera that returns nothing for ``read_timeout`` seconds, or a file
that cannot be opened. A truncated file simply ends where OpenCV can no longer decode it.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np


class SourceError(RuntimeError):
    """The source could not be opened or stopped delivering frames."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # "camera", "file", "rtsp", "gstreamer"
    target: "int | str"

    @property
    def live(self) -> bool:
        return self.kind != "file"


@dataclass(frozen=True)
class Frame:
    index: int  # 0, 1, 2, ... in delivery order (dropped live frames leave no gaps)
    timestamp: float  # seconds: the file's own timeline, or time since the live source opened
    image: np.ndarray


def parse_source(source: "str | int") -> SourceSpec:
    text = str(source).strip()
    if text.isdigit():
        return SourceSpec("camera", int(text))
    if "!" in text:
        return SourceSpec("gstreamer", text)
    if text.lower().startswith(("rtsp://", "rtsps://", "rtmp://", "http://", "https://")):
        return SourceSpec("rtsp", text)
    return SourceSpec("file", text)


def open_capture(spec: SourceSpec, timeout_s: float = 5.0):
    """An opened cv2.VideoCapture for the spec, or SourceError saying why it could not open."""
    import cv2

    if spec.kind == "file":
        path = Path(spec.target)
        if not path.is_file():
            raise SourceError(f"video file not found: {path}")
        cap = cv2.VideoCapture(str(path))
    elif spec.kind == "gstreamer":
        if not _has_gstreamer():
            raise SourceError(
                "this OpenCV build has no GStreamer support (cv2.getBuildInformation() says 'GStreamer: NO'); "
                "on a Jetson use the system OpenCV from JetPack (python3-opencv) or build OpenCV with -DWITH_GSTREAMER=ON"
            )
        cap = cv2.VideoCapture(spec.target, cv2.CAP_GSTREAMER)
    elif spec.kind == "rtsp":
        # FFmpeg otherwise waits ~30 s on an unreachable host, and forever on a stalled stream.
        ms = int(timeout_s * 1000)
        cap = cv2.VideoCapture(spec.target, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
    else:
        cap = cv2.VideoCapture(spec.target)
    if not cap.isOpened():
        cap.release()
        what = {"file": "video file (unreadable or not a video)", "camera": "camera", "rtsp": "stream",
                "gstreamer": "GStreamer pipeline"}[spec.kind]
        hint = {"camera": " (is it connected and free? see ls /dev/video*)",
                "rtsp": " (check the URL, credentials and network)"}.get(spec.kind, "")
        raise SourceError(f"could not open {what}: {spec.target}{hint}")
    return cap


def _has_gstreamer() -> bool:
    import cv2

    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GStreamer:"):
            return "YES" in line.split(":", 1)[1]
    return False


_END = object()


class FrameSource:
    """Iterate over frames of a source read on a background thread. Use as a context manager.

    ``capture``: an already opened object with ``read()``/``release()``/``get()`` (tests, custom
    sources) instead of opening ``source``. ``read_timeout``: seconds a live source may stay silent.
    """

    def __init__(self, source: "str | int", *, queue_size: int = 4, read_timeout: float = 5.0,
                 capture=None, live: bool | None = None) -> None:
        self.spec = parse_source(source)
        self.live = self.spec.live if live is None else live
        self._cap = capture if capture is not None else open_capture(self.spec, read_timeout)
        self.read_timeout = read_timeout
        self.fps = self._prop(5) or None  # cv2.CAP_PROP_FPS
        self.frame_count = int(self._prop(7) or 0) if not self.live else 0  # cv2.CAP_PROP_FRAME_COUNT
        self.dropped = 0
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._error: SourceError | None = None
        self._thread = threading.Thread(target=self._reader, name="atpn-capture", daemon=True)
        self._thread.start()

    def _prop(self, prop: int) -> float:
        try:
            v = float(self._cap.get(prop))
        except Exception:  # custom captures may not implement every property
            return 0.0
        return v if np.isfinite(v) and v > 0 else 0.0

    def _reader(self) -> None:
        t_open, last_ok, index = time.monotonic(), time.monotonic(), 0
        try:
            while not self._stop.is_set():
                ok, image = self._cap.read()
                if not ok or image is None:
                    if not self.live:
                        break  # end of file (or the point where a truncated file stops decoding)
                    if time.monotonic() - last_ok > self.read_timeout:
                        raise SourceError(f"{self.spec.kind} {self.spec.target} delivered no frame for {self.read_timeout:g} s")
                    time.sleep(0.01)
                    continue
                last_ok = time.monotonic()
                if self.live:
                    stamp = last_ok - t_open
                else:
                    ms = self._prop(0)  # cv2.CAP_PROP_POS_MSEC: the file's timeline
                    stamp = ms / 1000.0 if ms else index / (self.fps or 30.0)
                self._put(Frame(index, stamp, image))
                index += 1
        except SourceError as exc:
            self._error = exc
        except Exception as exc:  # a backend error must reach the consumer, not die with the thread
            self._error = SourceError(f"reading {self.spec.target} failed: {exc}")
        finally:
            self._put(_END, final=True)

    def _put(self, item, final: bool = False) -> None:
        drop = self.live and not final
        while not self._stop.is_set():
            try:
                if drop:
                    self._queue.put_nowait(item)
                else:
                    self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                if drop:
                    try:  # newest wins: drop the oldest queued frame
                        self._queue.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass

    def __iter__(self) -> Iterator[Frame]:
        last = time.monotonic()
        while True:
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    break
                # A driver can block inside read() forever; the reader's own timeout never fires then.
                if self.live and time.monotonic() - last > self.read_timeout + 1.0:
                    raise SourceError(f"{self.spec.kind} {self.spec.target} delivered no frame for {self.read_timeout:g} s") from None
                continue
            last = time.monotonic()
            if item is _END:
                break
            yield item
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        if self._thread.is_alive():
            return  # still blocked in read(): releasing under it can crash the driver; the thread is a daemon
        try:
            self._cap.release()
        except Exception:
            pass

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
