"""Frame sources: camera index, video file, RTSP URL or GStreamer pipeline, read on their own thread.

Reading (decoding) overlaps with inference: a capture thread fills a bounded queue and the
tracking loop takes frames from it. Live sources (camera, RTSP, GStreamer) drop the oldest queued
frame when the loop falls behind, so the tracker always sees the newest picture; files never drop
a frame (the reader waits for room instead). A file is decoded on such a thread only where it has
a core to itself (three or more usable cores, or ``threaded=True``): with two cores, decoding
beside the tracking thread and the detector's worker took the tracking thread's core often
enough to double its p99 (BENCHMARKS.md, Tracking), so there a file is decoded in the loop
itself, between two frames.

A source that stops delivering raises ``SourceError`` from the iterator after the frames already
read have been handed out: a camera that returns nothing for ``read_timeout`` seconds, or a file
that cannot be opened. A truncated file simply ends where OpenCV can no longer decode it (the
track command compares the count with the file's header).

A network stream (rtsp, http) that drops is reopened with backoff (``reconnect``, see
stream_reconnect.py); ``reconnects`` and ``lost_s`` (seconds without frames) count what it cost.
A still image or a folder of images is a source too (one frame per image, ``Frame.name``).
Every message names the source without its credentials.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..core.threads import SearchGate, lower_priority, usable_cores
from .redact import redact
from .stills import ImageCapture, is_image_path, list_images
from .stream_reconnect import ReconnectPolicy, reopen


class SourceError(RuntimeError):
    """The source could not be opened or stopped delivering frames."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # "camera", "file", "image", "folder", "rtsp", "gstreamer"
    target: "int | str"

    @property
    def live(self) -> bool:
        return self.kind not in ("file", "image", "folder")

    @property
    def shown(self) -> str:
        """The target as messages show it: credentials removed."""
        return redact(self.target)


@dataclass(frozen=True)
class Frame:
    index: int  # 0, 1, 2, ... in delivery order (dropped live frames leave no gaps)
    timestamp: float  # seconds: the file's own timeline, or time since the live source opened
    image: np.ndarray
    name: str | None = None  # the image file's name (stills and folders)


def parse_source(source: "str | int") -> SourceSpec:
    text = str(source).strip()
    if text.isdigit():
        return SourceSpec("camera", int(text))
    if "!" in text:
        return SourceSpec("gstreamer", text)
    if text.lower().startswith(("rtsp://", "rtsps://", "rtmp://", "http://", "https://")):
        return SourceSpec("rtsp", text)
    if Path(text).is_dir():
        return SourceSpec("folder", text)
    if is_image_path(text):
        return SourceSpec("image", text)
    return SourceSpec("file", text)


def open_capture(spec: SourceSpec, timeout_s: float = 5.0, read_timeout_s: float | None = None):
    """An opened capture for the spec, or SourceError saying why it could not open. ``timeout_s``
    bounds opening a stream, ``read_timeout_s`` (default: the same) one read."""
    import cv2

    if spec.kind in ("image", "folder"):
        if spec.kind == "image" and not Path(spec.target).is_file():
            raise SourceError(f"image file not found: {spec.target}")
        files = list_images(spec.target) if spec.kind == "folder" else [Path(spec.target)]
        if not files:
            raise SourceError(f"no images (.jpg, .png, ...) in the folder {spec.target}")
        return ImageCapture(files)
    if spec.kind == "file":
        path = Path(spec.target)
        if not path.is_file():
            raise SourceError(f"video file not found: {path}")
        # One decoder thread, the capture thread itself: FFmpeg's own threads would run at full
        # priority beside the tracking thread, and gain little here (1.9 vs 2.2 ms per
        # 720x1080 frame of the shared clips, none at 512x512).
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
        if not cap.isOpened():  # an OpenCV without FFmpeg: its other backends
            cap.release()
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
        open_ms = int(timeout_s * 1000)
        read_ms = int((timeout_s if read_timeout_s is None else read_timeout_s) * 1000)
        cap = cv2.VideoCapture(spec.target, cv2.CAP_FFMPEG,
                               [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, open_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_ms])
    else:
        cap = cv2.VideoCapture(spec.target)
    if not cap.isOpened():
        cap.release()
        what = {"file": "video file (unreadable or not a video)", "camera": "camera", "rtsp": "stream",
                "gstreamer": "GStreamer pipeline"}[spec.kind]
        hint = {"camera": " (is it connected and free? see ls /dev/video*)",
                "rtsp": " (check the URL, credentials and network)"}.get(spec.kind, "")
        raise SourceError(f"could not open {what}: {spec.shown}{hint}"
                          + (f" within {timeout_s:g} s" if spec.kind == "rtsp" else ""))
    return cap


def _has_gstreamer() -> bool:
    import cv2

    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GStreamer:"):
            return "YES" in line.split(":", 1)[1]
    return False


_END = object()


# A file gets a capture thread only with this many usable cores: the tracking thread, the
# detector's worker and the decoder each need one (measured on 2 cores: BENCHMARKS.md, Tracking).
FILE_THREAD_MIN_CORES = 3


class FrameSource:
    """Iterate over frames of a source, read on a background thread (a file: where a core is free
    for it, else in the iterating loop). Use as a context manager.

    ``capture``: an already opened object with ``read()``/``release()``/``get()`` (tests, custom
    sources) instead of opening ``source``. ``read_timeout``: seconds a live source may stay
    silent. ``open_timeout``: seconds opening a stream may take. ``reconnect``: how a network
    stream that drops is reopened (default: for 30 s with backoff; ignored for other sources and
    for a given ``capture``). ``threaded``: decode a file on the capture thread (None: where
    there are at least ``FILE_THREAD_MIN_CORES`` usable cores); a live source always is.
    """

    def __init__(self, source: "str | int", *, queue_size: int = 4, read_timeout: float = 5.0,
                 open_timeout: float = 10.0, reconnect: ReconnectPolicy | None = None,
                 capture=None, live: bool | None = None, threaded: bool | None = None) -> None:
        self.spec = parse_source(source)
        self.live = self.spec.live if live is None else live
        self.read_timeout, self.open_timeout = read_timeout, open_timeout
        policy = reconnect if reconnect is not None else ReconnectPolicy()
        self.reconnect = policy if (capture is None and self.spec.kind == "rtsp" and policy.enabled) else None
        self._cap = capture if capture is not None else self._open()
        self.fps = self._prop(5) or None  # cv2.CAP_PROP_FPS
        self.frame_count = int(self._prop(7) or 0) if not self.live else 0  # cv2.CAP_PROP_FRAME_COUNT
        self.dropped = 0
        self.reconnects = 0
        self.lost_s = 0.0  # seconds a dropped stream delivered nothing (reconnecting)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._error: SourceError | None = None
        self._alive_at = time.monotonic()  # the reader's last sign of life (a frame or an attempt)
        self._reconnecting = False
        self._gate: SearchGate | None = None
        self.threaded = self.live or (usable_cores() >= FILE_THREAD_MIN_CORES if threaded is None else bool(threaded))
        self._thread: threading.Thread | None = None
        if self.threaded:
            self._thread = threading.Thread(target=self._reader, name="atpn-capture", daemon=True)
            self._thread.start()

    def _open(self):
        return open_capture(self.spec, self.open_timeout, self.read_timeout)

    def _prop(self, prop: int) -> float:
        try:
            v = float(self._cap.get(prop))
        except Exception:  # custom captures may not implement every property
            return 0.0
        return v if np.isfinite(v) and v > 0 else 0.0

    def _silent(self) -> SourceError:
        return SourceError(f"{self.spec.kind} {self.spec.shown} delivered no frame for {self.read_timeout:g} s")

    def _reconnect(self, dropped_at: float) -> None:
        """Replace the dead capture with a reopened one, or raise SourceError after the window."""
        try:
            self._cap.release()
        except Exception:
            pass
        self._reconnecting = True  # bounded by the window (+ one open timeout): the consumer waits
        try:
            outcome = reopen(self._open, self.reconnect, self._stop, heartbeat=self._beat)
        finally:
            self._reconnecting = False
        if outcome.capture is None:
            self.lost_s += time.monotonic() - dropped_at
            if self._stop.is_set():
                return
            raise SourceError(f"stream {self.spec.shown} dropped and could not be reopened within "
                              f"{self.reconnect.window_s:g} s ({outcome.attempts} attempts; last: {redact(outcome.last_error)})")
        self._cap = outcome.capture
        self.reconnects += 1

    def _beat(self) -> None:
        self._alive_at = time.monotonic()

    def defer_to(self, gate: SearchGate) -> None:
        """A file read on the capture thread (not a live source, which must keep up) decodes each
        frame inside ``gate.decoding()``: ``Tracker.search_gate``, so that the decoder and the
        detector's search never both take a core from the tracking thread."""
        if not isinstance(gate, SearchGate):
            raise TypeError(f"defer_to takes a SearchGate (Tracker.search_gate), got {type(gate).__name__}")
        self._gate = gate

    def _reader(self) -> None:
        if not self.live:  # a file runs as fast as it can: below the tracking thread; a live source must keep up
            lower_priority()
        try:
            for frame in self._frames():
                self._put(frame)
        except SourceError as exc:
            self._error = exc
        except Exception as exc:  # a backend error must reach the consumer, not die with the thread
            self._error = self._failed(exc)
        finally:
            self._put(_END, final=True)

    def _failed(self, exc: Exception) -> SourceError:
        return SourceError(f"reading {self.spec.shown} failed: {redact(exc)}")

    def _frames(self) -> Iterator[Frame]:
        t_open, last_ok, index = time.monotonic(), time.monotonic(), 0
        dropped_at = None  # when the stream dropped, until its next frame
        while not self._stop.is_set():
            gate = self._gate
            if gate is not None and not self.live and self._thread is not None:
                with gate.decoding():
                    ok, image = self._cap.read()
            else:
                ok, image = self._cap.read()
            if not ok or image is None:
                if not self.live:
                    break  # end of file (or the point where a truncated file stops decoding)
                if self.reconnect is not None:
                    # FFmpeg's read gave up (its read timeout, or the server closed): the capture is dead
                    dropped_at = last_ok if dropped_at is None else dropped_at
                    self._reconnect(dropped_at)
                    self._beat()
                    continue
                if time.monotonic() - last_ok > self.read_timeout:
                    raise self._silent()
                time.sleep(0.01)
                continue
            last_ok = time.monotonic()
            self._beat()
            if dropped_at is not None:
                self.lost_s += last_ok - dropped_at
                dropped_at = None
            if self.live:
                stamp = last_ok - t_open
            else:
                ms = self._prop(0)  # cv2.CAP_PROP_POS_MSEC: the file's timeline
                stamp = ms / 1000.0 if ms else index / (self.fps or 30.0)
            current = getattr(self._cap, "current", None)  # ImageCapture: the file this frame came from
            yield Frame(index, stamp, image, current.name if current is not None else None)
            index += 1

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
        if self._thread is None:  # a file decoded in the caller's loop
            try:
                yield from self._frames()
            except SourceError:
                raise
            except Exception as exc:
                raise self._failed(exc) from None
            return
        while True:
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    break
                # A driver can block inside read() forever; the reader's own timeout never fires then.
                # (Reconnecting has its own bound: the window plus one open timeout.)
                slack = 2.0 if self.reconnect else 1.0  # FFmpeg's own read timeout fires first, then a reconnect
                if self.live and not self._reconnecting and time.monotonic() - self._alive_at > self.read_timeout + slack:
                    raise self._silent() from None
                continue
            if item is _END:
                break
            yield item
        if self._error is not None:
            raise self._error

    @property
    def skipped(self) -> list:
        """Image files that could not be read (folders of stills)."""
        return list(getattr(self._cap, "skipped", []))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
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
