#!/usr/bin/env python3
"""Soak the public API: N frames (default 10,000) through ``Tracker().track`` (the shipped model,
the default detector and backend, default options) on real video frames played in a loop, and
report the process's resident memory (RSS) and the Python heap (tracemalloc) as it goes.

    python scripts/soak_tracker.py [--frames 10000] [--every 1000] [--videos DIR] [--names d0.mp4,d20.mp4]
                                   [--no-tracemalloc] [--json OUT.json]

The frames are decoded once and held in memory (so the numbers are the tracker's, not a decoder's),
then fed in order, video after video, again and again; each loop's timestamps keep increasing.
Two videos of different sizes make the tracker reset on every switch, and faces come and go.
A line per checkpoint: frames, RSS MiB, tracemalloc current and peak MiB, faces seen, fps.
"Flat" means the RSS after warm-up stops growing: compare the first checkpoint with the last.
tracemalloc slows the loop a little (it traces every Python and numpy allocation); pass
--no-tracemalloc for RSS only. Videos: ``../shared/data/videos`` beside the checkout by default.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def load_frames(folder: Path, names: list[str]) -> list:
    import cv2

    frames = []
    for name in names:
        cap = cv2.VideoCapture(str(folder / name))
        if not cap.isOpened():
            raise SystemExit(f"cannot read {folder / name}")
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
        cap.release()
    if not frames:
        raise SystemExit(f"no frames in {names} under {folder}")
    return frames


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--every", type=int, default=1000, help="report every this many frames")
    ap.add_argument("--videos", type=Path, default=REPO.parent / "shared" / "data" / "videos")
    ap.add_argument("--names", default="d0.mp4,d20.mp4", help="comma-separated video files, played in turn")
    ap.add_argument("--no-tracemalloc", action="store_true", help="RSS only (tracemalloc costs some speed)")
    ap.add_argument("--json", type=Path, help="also write the checkpoints here")
    args = ap.parse_args()

    from atpn_edge import Tracker

    frames = load_frames(args.videos, args.names.split(","))
    fps = 25.0
    rows = []
    tracker = Tracker()
    print(f"{len(frames)} frames from {args.names} held in memory; detector {tracker.detector.name}, "
          f"backend {tracker.pipeline.backend}; RSS before the first frame {rss_mib():.1f} MiB", flush=True)
    if not args.no_tracemalloc:
        tracemalloc.start()
    faces_seen, t0 = 0, time.perf_counter()

    def checkpoint(n: int) -> None:
        gc.collect()
        cur, peak = tracemalloc.get_traced_memory() if tracemalloc.is_tracing() else (0, 0)
        row = {"frames": n, "rss_mib": round(rss_mib(), 1), "py_current_mib": round(cur / 2**20, 2),
               "py_peak_mib": round(peak / 2**20, 2), "faces": faces_seen,
               "fps": round(n / max(time.perf_counter() - t0, 1e-9), 1)}
        rows.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)

    for i in range(args.frames):
        faces_seen += len(tracker.track(frames[i % len(frames)], timestamp=i / fps))
        if i == 0 or (i + 1) % args.every == 0:
            checkpoint(i + 1)
    if args.frames % args.every:
        checkpoint(args.frames)
    stats = tracker.stats
    tracker.close()
    first, last = rows[1] if len(rows) > 1 else rows[0], rows[-1]
    print(f"RSS {rows[0]['rss_mib']} MiB after frame 1, {first['rss_mib']} MiB at frame {first['frames']}, "
          f"{last['rss_mib']} MiB at frame {last['frames']} (growth after the first checkpoint: "
          f"{last['rss_mib'] - first['rss_mib']:+.1f} MiB); tracks started {stats.tracks_started}, "
          f"size resets {stats.size_resets}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"names": args.names, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
