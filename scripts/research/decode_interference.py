#!/usr/bin/env python3
"""What a decoding thread does to the tracking step: ``Tracker()`` defaults on a shared clip, its
frames coming from one of several feeders, and per frame the wall and thread-CPU time of
``track()``. A frame "waited" when its wall time exceeds its CPU time by more than 1 ms (the
tracking thread was runnable or blocked, not computing). Prints p50, p99, p99/p50 and the
waiting frames per feeder. Result: BENCHMARKS.md, Tracking ("Decoding a file in the loop on two
cores").

Feeders: ``predecoded`` (all frames decoded first), ``queue_thread`` (a thread that only queues
the decoded frames), ``cv2_thread`` (a thread decoding with cv2.VideoCapture, as FrameSource's
capture thread), ``pyav_thread`` (a thread decoding with PyAV, frames not converted), ``source``
(FrameSource as ``atpn-edge track`` opens it: on two cores it decodes in the loop).

    python scripts/research/decode_interference.py [--data ../shared/data] [--clip d3] [--rounds 2]
"""
from __future__ import annotations

import argparse
import queue
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from atpn_edge.io.sources import FrameSource
from atpn_edge.tracking.tracker import Tracker

FEEDERS = ("predecoded", "queue_thread", "cv2_thread", "pyav_thread", "source")


def decode_all(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            return frames
        frames.append(f)


def threaded(produce) -> "queue.Queue":
    q: queue.Queue = queue.Queue(maxsize=4)

    def run() -> None:
        for f in produce():
            q.put(f)
        q.put(None)

    threading.Thread(target=run, daemon=True).start()
    return q


def feed(name: str, path: Path):
    if name == "predecoded":
        yield from decode_all(path)
        return
    if name == "source":
        with FrameSource(str(path)) as src:
            for frame in src:
                yield frame.image
        return
    if name == "queue_thread":
        frames = decode_all(path)
        q = threaded(lambda: iter(frames))
    elif name == "cv2_thread":
        def produce():
            cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
            while True:
                ok, f = cap.read()
                if not ok:
                    return
                yield f
        q = threaded(produce)
    else:  # pyav_thread: the decoder alone; every frame handed over is the first one, converted once
        import av

        def produce():
            with av.open(str(path)) as c:
                stream = c.streams.video[0]
                stream.codec_context.thread_count = 1
                first = None
                for fr in c.decode(stream):
                    first = fr.to_ndarray(format="bgr24") if first is None else first
                    yield first
        q = threaded(produce)
    while (f := q.get()) is not None:
        yield f


def run(name: str, path: Path) -> tuple[float, float, int]:
    tracker = Tracker()
    walls, cpus = [], []
    frames = feed(name, path)
    if name == "predecoded":
        frames = list(frames)
    for image in frames:
        w0, c0 = time.perf_counter(), time.thread_time()
        tracker.track(image)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.thread_time() - c0)
    tracker.close()
    wall, cpu = np.array(walls[1:]) * 1e3, np.array(cpus[1:]) * 1e3  # the first frame detects
    return float(np.median(wall)), float(np.percentile(wall, 99)), int(((wall - cpu) > 1.0).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--clip", default="d3")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--feeders", default=",".join(FEEDERS))
    args = ap.parse_args()
    cv2.setNumThreads(1)
    path = args.data / "videos" / f"{args.clip}.mp4"
    if not path.is_file():
        raise SystemExit(f"no clip at {path}")
    for r in range(args.rounds):
        for name in args.feeders.split(","):
            p50, p99, waited = run(name, path)
            print(f"round {r + 1} {name:13s} p50 {p50:.3f} ms  p99 {p99:.3f} ms  p99/p50 {p99 / p50:.2f}  waited {waited}")


if __name__ == "__main__":
    main()
