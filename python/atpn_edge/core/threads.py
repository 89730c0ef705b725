"""Scheduling of the background threads (the detector's worker, the capture thread): below the
tracking thread, so that where cores are contended the frame being tracked gets the CPU first."""
from __future__ import annotations

import os
import threading


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
