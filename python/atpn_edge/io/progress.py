"""A one-line progress display on stderr: frames, percent (when the total is known) and fps."""
from __future__ import annotations

import sys
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TextIO


class RecentRate:
    """Frames per second over the last ``window_s`` seconds (what the overlay shows: the rate now,
    not the average since start, which hides a slowdown)."""

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, now: float | None = None) -> float | None:
        """Count a frame; the current rate, or None until two frames were seen."""
        now = time.perf_counter() if now is None else now
        self._times.append(now)
        while len(self._times) > 2 and now - self._times[0] > self.window_s:
            self._times.popleft()
        span = now - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else None


class Progress:
    def __init__(self, total: int = 0, stream: TextIO | None = None, enabled: bool | None = None, every_s: float = 0.25) -> None:
        """``enabled=None``: show it only when the stream is a terminal (no control characters in logs)."""
        self.stream = stream if stream is not None else sys.stderr
        self.total, self.every_s = total, every_s
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.perf_counter()
        self._last = 0.0
        self._shown = False

    def fps(self, frames: int) -> float:
        elapsed = time.perf_counter() - self.start
        return frames / elapsed if elapsed > 0 else 0.0

    def update(self, frames: int, faces: int | None = None, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self._last < self.every_s):
            return
        self._last = now
        if self.total:
            done = min(frames / self.total, 1.0)
            bar = "#" * int(24 * done)
            head = f"[{bar:<24}] {frames}/{self.total} {100 * done:3.0f}%"
        else:
            head = f"{frames} frames"
        tail = "" if faces is None else f"  faces {faces}"
        self.stream.write(f"\r{head}  {self.fps(frames):6.1f} fps{tail} ")
        self.stream.flush()
        self._shown = True

    def finish(self, frames: int, faces: int | None = None) -> None:
        if self.enabled:
            self.update(frames, faces, force=True)
            if self._shown:
                self.stream.write("\n")
                self.stream.flush()


@contextmanager
def pass_progress(video: "str | Path", passes: int, max_frames: int = 0, enabled: bool | None = None,
                  stream: TextIO | None = None) -> Iterator[Callable[[], None]]:
    """A progress line over ``passes`` reads of one video; yields the per-frame callback."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    per_pass = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if cap.isOpened() else 0
    cap.release()
    if max_frames:
        per_pass = min(per_pass, max_frames) if per_pass else max_frames
    progress = Progress(per_pass * passes, stream=stream, enabled=enabled)
    done = [0]

    def tick() -> None:
        done[0] += 1
        progress.update(done[0])

    try:
        yield tick
    finally:
        progress.finish(done[0])
