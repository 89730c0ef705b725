"""The tracker's bookkeeping: one live track, the counters, the latency log and box tests."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.face import box_iou, centre_inside, landmark_box
from .smoothing import FaceSmoother

Box = tuple[float, float, float, float]


@dataclass
class TrackerStats:
    frames: int = 0
    frames_with_face: int = 0
    detector_calls: int = 0
    tracks_started: int = 0  # new ids
    tracks_resumed: int = 0  # a lost face found again under its old id
    tracks_lost: int = 0
    merges: int = 0
    size_resets: int = 0
    cuts: int = 0  # hard shot cuts: every track ended there
    pipeline_calls: int = 0
    detections_dropped: int = 0  # worker results thrown away (a cut or a size change since the request)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(eq=False)  # tracks compare by identity
class Track:
    id: int
    landmarks: np.ndarray  # raw network output
    pose: np.ndarray
    score: float
    first_frame: int
    smoother: FaceSmoother | None
    smoothed: np.ndarray | None = None  # last output landmarks; the next crop comes from these

    @property
    def box(self) -> Box:
        # The smoothed landmarks are the steadier estimate of where the face is: one wild raw
        # prediction before a loss must not move the box that a re-detection is matched against.
        return landmark_box(self.smoothed if self.smoothed is not None else self.landmarks)


class LatencyLog:
    """Durations (seconds) of the most recent ``capacity`` events, in a buffer allocated once (a
    long run keeps its memory flat); percentiles in milliseconds."""

    def __init__(self, capacity: int = 16384) -> None:
        self._values = np.zeros(capacity, np.float64)
        self._count = 0

    def add(self, seconds: float) -> None:
        self._values[self._count % len(self._values)] = seconds
        self._count += 1

    def __len__(self) -> int:
        return min(self._count, len(self._values))

    def percentiles_ms(self, qs: tuple[int, ...] = (50, 90, 99)) -> dict[str, float | None]:
        n = len(self)
        if n == 0:
            return {f"p{q}": None for q in qs}
        values = np.percentile(self._values[:n], qs) * 1e3
        return {f"p{q}": round(float(v), 3) for q, v in zip(qs, values)}


def valid_box(box: tuple) -> bool:
    return len(box) == 4 and bool(np.all(np.isfinite(box))) and box[2] > 0 and box[3] > 0


def centre_distance(a: Box, b: Box) -> float:
    """Distance between box centres in units of ``b``'s larger side. A face that moved too fast to
    be followed (the usual reason for a loss) is found again about this far from where it was."""
    d = np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2)
    return float(d / max(b[2], b[3], 1e-9))


def overlaps(a: Box, b: Box, iou: float) -> bool:
    return box_iou(a, b) > iou or centre_inside(a, b) or centre_inside(b, a)


def merge_searches(first: list, second: list, iou: float) -> list:
    """The detections of two searches of one frame, a face found by both kept once (the higher
    detector score; ``first`` on a tie)."""
    out = list(first)
    for d in second:
        same = [i for i, o in enumerate(out) if overlaps(d.box, o.box, iou)]
        if not same:
            out.append(d)
        elif all(float(d.score) > float(out[i].score) for i in same):
            out = [o for i, o in enumerate(out) if i not in same] + [d]
    return out
