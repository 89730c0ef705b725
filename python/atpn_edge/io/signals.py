"""SIGINT, SIGTERM and SIGHUP all stop a run the way Ctrl-C does, and a second one cannot undo it.

`docker stop` and `systemctl stop` send SIGTERM, a dropped SSH session SIGHUP; by default Python
dies on either without running ``finally``, which left an MP4 without its index. Inside
``StopSignals`` the first of these signals raises ``Stop`` in the main thread (a BaseException,
like KeyboardInterrupt, so no ``except Exception`` swallows it). From then on, and inside
``hold()`` (a frame being written) or after ``finishing()`` (outputs being closed), signals are
only noted: finishing the outputs cannot be interrupted. ``kill -9`` cannot be caught; the
fragmented video and the flushed JSON lines are what survive it.
"""
from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class Stop(BaseException):
    """A stop signal arrived; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(signum: int) -> int:
    """The shell's convention for a run ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129)."""
    return 128 + int(signum)


class StopSignals:
    def __init__(self) -> None:
        self.received: list[int] = []
        self._raised = False
        self._held = 0
        self._finishing = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():  # handlers can only be set there
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)
        self._previous.clear()

    @property
    def first(self) -> int | None:
        return self.received[0] if self.received else None

    def _handle(self, signum: int, _frame: object) -> None:
        self.received.append(signum)
        if self._raised or self._finishing:
            if len(self.received) > 1:
                # os.write: print() is not safe to re-enter from a handler that interrupted a print
                os.write(2, f"atpn-edge: {signal.Signals(signum).name} again: still closing the outputs "
                            "(kill -9 keeps the video up to its last second)\n".encode())
            return
        if self._held:
            return  # raised when the frame being written is complete (see hold)
        self._raised = True
        raise Stop(signum)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Defer a stop until the block (one frame's writes) is done."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held and self.received and not self._raised and not self._finishing:
            self._raised = True
            raise Stop(self.received[0])

    def finishing(self) -> None:
        """From now on (closing the outputs) signals are only noted."""
        self._finishing = True
