#!/usr/bin/env python3
"""Per-frame latency of ``Tracker.track`` with frames arriving at the clip's own frame rate (as a
camera delivers them) against frames handed over back to back (as a file is read), for shared
talking-head clips. Frames are decoded beforehand; one thread; ``Tracker()`` defaults otherwise
(``detection="realtime"`` when paced, as ``atpn-edge track`` picks for live sources). Prints p50,
p90, p99 and p99/p50 per clip and mode. Result: BENCHMARKS.md, Tracking ("Latency at a camera's
pace").

    python scripts/research/paced_latency.py [--data ../shared/data] [d3 d9 d10]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from atpn_edge.runtime import create_pipeline
from atpn_edge.tracking.tracker import Tracker


def read_frames(path: Path) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames, fps


def latencies(frames: list[np.ndarray], fps: float, paced: bool) -> np.ndarray:
    tracker = Tracker(pipeline=create_pipeline(backend="onnxruntime", threads=1),
                      detection="realtime" if paced else "deterministic")
    out, start = [], time.perf_counter()
    try:
        for i, frame in enumerate(frames):
            if paced:
                wait = start + i / fps - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            t0 = time.perf_counter()
            tracker.track(frame)
            out.append(time.perf_counter() - t0)
    finally:
        tracker.close()
    return np.array(out[1:]) * 1e3  # the first frame detects: not a tracking step


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clips", nargs="*", default=["d3", "d9", "d10"])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    args = ap.parse_args()
    for clip in args.clips:
        frames, fps = read_frames(args.data / "videos" / f"{clip}.mp4")
        for paced in (False, True):
            a = latencies(frames, fps, paced)
            p50, p90, p99 = np.percentile(a, [50, 90, 99])
            print(f"{clip} {'paced at %.0f fps' % fps if paced else 'back to back':16s} p50 {p50:.3f} p90 {p90:.3f} "
                  f"p99 {p99:.3f} ms  p99/p50 {p99 / p50:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
