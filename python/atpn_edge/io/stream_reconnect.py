"""Reopening a network stream that dropped: bounded retries with exponential backoff.

A camera on the network reboots, Wi-Fi drops for a few seconds, an RTSP server restarts: the
source keeps trying to reopen the stream for ``window_s`` seconds (waits of ``backoff_s``, doubling
up to ``max_backoff_s``), then gives up with an error. Files never reconnect (they end).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ReconnectPolicy:
    window_s: float = 30.0  # keep trying this long after a drop; 0 = never reconnect
    backoff_s: float = 0.5  # first wait between attempts, doubled after each failure
    max_backoff_s: float = 5.0

    def __post_init__(self) -> None:
        if not (self.window_s >= 0 and self.backoff_s > 0 and self.max_backoff_s >= self.backoff_s):
            raise ValueError(f"reconnect needs window_s >= 0 and 0 < backoff_s <= max_backoff_s, got {self}")

    @property
    def enabled(self) -> bool:
        return self.window_s > 0


@dataclass
class Outcome(Generic[T]):
    capture: T | None  # None: gave up (window over, or stopped)
    attempts: int
    last_error: str


def reopen(open_once: Callable[[], T], policy: ReconnectPolicy, stop: threading.Event,
           heartbeat: Callable[[], None] = lambda: None) -> Outcome[T]:
    """Call ``open_once`` (raises on failure) until it succeeds, the window is over or ``stop`` is
    set. ``heartbeat`` is called after each attempt (the consumer's sign that the reader is alive)."""
    deadline = time.monotonic() + policy.window_s
    wait, attempts, last_error = policy.backoff_s, 0, ""
    while not stop.is_set():
        if stop.wait(min(wait, max(0.0, deadline - time.monotonic()))):
            break
        attempts += 1
        try:
            return Outcome(open_once(), attempts, "")
        except Exception as exc:  # any failure to open is one failed attempt
            last_error = str(exc)
        heartbeat()
        if time.monotonic() >= deadline:
            break
        wait = min(2 * wait, policy.max_backoff_s)
    return Outcome(None, attempts, last_error)
