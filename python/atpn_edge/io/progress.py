"""A one-line progress display on stderr: frames, percent (when the total is known) and fps."""
from __future__ import annotations

import sys
import time
from collections import deque
from typing import TextIO


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

    def update(self, frames: int, faces: int, force: bool = False) -> None:
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
        self.stream.write(f"\r{head}  {self.fps(frames):6.1f} fps  faces {faces} ")
        self.stream.flush()
        self._shown = True

    def finish(self, frames: int, faces: int) -> None:
        if self.enabled:
            self.update(frames, faces, force=True)
            if self._shown:
                self.stream.write("\n")
                self.stream.flush()
