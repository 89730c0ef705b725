"""Scheduling of the background threads (the detector's worker, the capture thread): below the
tracking thread, so that where cores are contended the frame being tracked gets the CPU first,
and never both busy at once (``SearchGate``)."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator


def lower_priority(niceness: int = 10) -> None:
    """Run the calling thread ``niceness`` steps nicer (Linux: a thread's id is a scheduling
    entity of its own; elsewhere, or where the call is refused, this is a no-op)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except (AttributeError, OSError):
        pass


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one, else the count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class SearchGate:
    """Takes turns between the detector's searches and a file's decoder, so that beside the
    tracking thread at most one of them computes: with all three busy on two cores the tracking
    step's p99 doubled (BENCHMARKS.md, Tracking).

    The worker calls ``request()`` when a search is handed to it and runs the search inside
    ``searching()``; the decoder decodes each frame inside ``decoding()``, which first waits (up
    to ``wait_s``) while a search is requested or running, then holds the lock for the frame, so
    a search never starts in the middle of one. Only the lock is binding: the wait keeps the
    decoder from taking the lock again and again while a search waits for it.
    """

    def __init__(self, wait_s: float = 0.05) -> None:
        self.wait_s = wait_s
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    @property
    def idle(self) -> bool:
        """No search requested or running."""
        return self._idle.is_set()

    def request(self) -> None:
        self._idle.clear()

    @contextmanager
    def searching(self) -> Iterator[None]:
        try:
            with self._lock:
                yield
        finally:
            self._idle.set()

    def done(self) -> None:
        """A requested search that will not run (the worker closed before it)."""
        self._idle.set()

    @contextmanager
    def decoding(self) -> Iterator[None]:
        self._idle.wait(self.wait_s)
        with self._lock:
            yield
