"""The detector on a worker thread, so a frame that asks for a search does not wait for it.

One job at a time: ``submit`` hands over a frame (the tracker asks only when nothing is in
flight, so the worker always works on the newest frame that asked), ``poll`` returns the result
when it is done, ``wait`` blocks for it. The thread starts on the first job (a tracker that never
needs it, e.g. on stills, creates none) and ``close`` ends it; a detector error in the worker is
raised again by ``poll``/``wait`` in the caller's thread.

The detector object is used only by the worker while a job runs. OpenCV and ONNX Runtime release
the GIL while they compute, so on two or more cores the search runs beside the tracking step.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.threads import SearchGate, lower_priority


@dataclass
class DetectionResult:
    tag: Any  # whatever the caller submitted with the frame
    detections: list
    seconds: float  # the detector's own time on the worker


class DetectorWorker:
    def __init__(self, detector: Any, name: str = "atpn-detector") -> None:
        self.detector = detector
        self.name = name
        self._cond = threading.Condition()
        self._job: tuple[np.ndarray, Any, int, Any] | None = None
        self._result: tuple[Any, list | None, float, BaseException | None] | None = None
        self._busy = False  # a job submitted and its result not yet collected
        self._generation = 0  # bumped by submit and discard: a result of an older job is dropped
        self._stop = False
        self._thread: threading.Thread | None = None
        # Turns with a file's capture thread (io/sources.py), so the search and the decoder do
        # not both take a core from the tracking thread.
        self.gate = SearchGate()

    @property
    def busy(self) -> bool:
        return self._busy

    def submit(self, frame: np.ndarray, tag: Any, tracked: Any = None) -> None:
        """Start a search on ``frame`` (the caller must not change the array until the result is in);
        ``tracked``, when given, goes to ``detector.detect`` (detectors with ``takes_tracked``)."""
        with self._cond:
            if self._stop:
                raise RuntimeError("the detector worker is closed")
            if self._busy:
                raise RuntimeError("a detection is already in flight; collect it first")
            self._generation += 1
            self._job, self._result, self._busy = (frame, tag, self._generation, tracked), None, True
            self.gate.request()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def poll(self) -> DetectionResult | None:
        """The finished result, or None while the search runs (or when nothing was submitted)."""
        with self._cond:
            return self._collect() if self._result is not None else None

    def wait(self) -> DetectionResult | None:
        """Block until the submitted search is done (None when nothing was submitted). The wait
        wakes up regularly, so Ctrl-C interrupts it."""
        with self._cond:
            while self._busy and self._result is None:
                self._cond.wait(0.05)
            return self._collect() if self._result is not None else None

    def discard(self) -> None:
        """Forget the submitted search: a result still to come is thrown away."""
        with self._cond:
            self._generation += 1
            if self._job is not None:  # not started: it never will (a running one ends its own turn)
                self.gate.done()
            self._job, self._result, self._busy = None, None, False

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (after the search in progress, if any) and wait for it."""
        with self._cond:
            self._stop = True
            self._job = None
            self.gate.done()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _collect(self) -> DetectionResult:
        tag, detections, seconds, error = self._result
        self._result, self._busy = None, False
        if error is not None:
            raise error
        return DetectionResult(tag, detections, seconds)

    def _loop(self) -> None:
        lower_priority()
        while True:
            with self._cond:
                while self._job is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                (frame, tag, generation, tracked), self._job = self._job, None
            with self.gate.searching():
                t0 = time.perf_counter()
                try:
                    found = self.detector.detect(frame) if tracked is None else self.detector.detect(frame, tracked=tracked)
                    detections, error = list(found), None
                except BaseException as exc:  # handed to the caller's thread
                    detections, error = None, exc
                seconds = time.perf_counter() - t0
            with self._cond:
                if generation == self._generation:  # not discarded or replaced meanwhile
                    self._result = (tag, detections, seconds, error)
                self._cond.notify_all()
