#!/usr/bin/env python3
"""Where a first 1280x720 frame's time goes, frame by frame: the first-frame protocol of
``scripts/measure_detection.py`` (the eight test frames; ``Tracker()`` with Haar and with the
default BlazeFace side by side, each reset before every frame, one thread), with the default
tracker's ``detect()`` and pipeline calls timed inside it. Prints per frame the median total, the
detector's and the network's share, the number of network calls and what is left (the tracker's
Python), then the same ratio for the detector's and network's calls alone (the design's floor).
Result: BENCHMARKS.md, Detection ("The first frame's floor").

    taskset -c 1 python scripts/research/first_frame_breakdown.py [--data ../shared/data] [--rounds 10]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from measure_detection import frame_1280x720, parse_detector  # noqa: E402

from atpn_edge.runtime import create_pipeline  # noqa: E402
from atpn_edge.tracking.tracker import Tracker  # noqa: E402


def timed(obj, name: str, acc: dict, key: str) -> None:
    """Wrap ``obj.name`` so each call adds its seconds to ``acc[key]`` and counts ``acc[key + '_n']``."""
    inner = getattr(obj, name)

    def call(*a, **k):
        t0 = time.perf_counter()
        try:
            return inner(*a, **k)
        finally:
            acc[key] = acc.get(key, 0.0) + time.perf_counter() - t0
            acc[key + "_n"] = acc.get(key + "_n", 0) + 1

    setattr(obj, name, call)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    frames = frame_1280x720(args.data)
    pipe = create_pipeline(backend="onnxruntime", threads=1)  # one for both, as measure_detection.py
    trackers = {"haar": Tracker(pipeline=pipe, detector=parse_detector("haar")),
                "blazeface": Tracker(pipeline=pipe, detector=parse_detector("blazeface"))}
    acc: dict = {}
    timed(trackers["blazeface"].detector, "detect", acc, "detect")
    timed(pipe, "run", acc, "network")
    total = {i: [] for i in range(len(frames))}
    parts = {i: [] for i in range(len(frames))}
    haar = []
    for _ in range(args.rounds):
        for i, f in enumerate(frames):
            for name, tracker in trackers.items():
                tracker.reset()
                acc.clear()
                t0 = time.perf_counter()
                tracker.track(f)
                dt = (time.perf_counter() - t0) * 1e3
                if name == "haar":
                    haar.append(dt)
                else:
                    total[i].append(dt)
                    parts[i].append(dict(acc))
    for i in total:
        det = np.median([p.get("detect", 0.0) for p in parts[i]]) * 1e3
        net = np.median([p.get("network", 0.0) for p in parts[i]]) * 1e3
        calls = int(np.median([p.get("network_n", 0) for p in parts[i]]))
        med = float(np.median(total[i]))
        print(f"frame {i}: {med:.2f} ms = detector {det:.2f} + network {net:.2f} ({calls} calls) + rest {med - det - net:.2f}")
    everything = [x for v in total.values() for x in v]
    h = float(np.median(haar))
    print(f"BlazeFace path median {np.median(everything):.2f} ms, Haar's path {h:.2f} ms: "
          f"{np.median(everything) / h:.3f}x; the cheapest frame alone {min(np.median(v) for v in total.values()) / h:.3f}x")
    # The floor of this design: the detector's and the network's calls alone, as if the tracker's
    # own Python took no time at all.
    calls = {i: [(p.get("detect", 0.0) + p.get("network", 0.0)) * 1e3 for p in v] for i, v in parts.items()}
    calls_only = [x for v in calls.values() for x in v]
    cheapest = min(np.median(v) for v in calls.values())
    print(f"detector + network calls alone (no tracker Python): median {np.median(calls_only):.2f} ms, "
          f"{np.median(calls_only) / h:.3f}x; the cheapest frame {cheapest / h:.3f}x")


if __name__ == "__main__":
    main()
