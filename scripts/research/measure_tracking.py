"""Tracking goals on every video in ../shared/data/videos: a table and one JSON line.

For each video: `atpn-edge eval video` (atpn_edge.eval.video.evaluate_video): share of frames with
a face, detector calls, id switches, jitter (smoothed / raw / per-frame detection baseline),
agreement with the baseline, end-to-end fps (decoding thread + tracker, no outputs). Totals weight
every frame equally. Then the per-frame latency of `Tracker.track` on one talking-head clip
(`--latency-clip`, frames decoded beforehand, so decoding is excluded; `--latency-repeats` runs
of a fresh tracker with the defaults), timed around each call: p50, p90, p99, max in ms, wall
time and the calling thread's CPU time (wall time includes preemption by other processes).
Goals: face on >= 99 % of frames, jitter below the per-frame baseline, no id switch, latency
p99 <= 2x the median. Measured: BENCHMARKS.md, "Tracking" (goals on the shared videos, latency).

    python scripts/research/measure_tracking.py [--videos DIR] [--model DIR] [--threads 1] [--detector blazeface]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from atpn_edge.eval.video import evaluate_video
from atpn_edge.runtime import create_pipeline

COLUMNS = ("video", "frames", "face_share", "detector_calls", "id_switches", "jitter", "jitter_raw",
           "baseline_jitter", "pose_jitter", "pose_jitter_raw", "baseline_pose_jitter", "agreement_nme", "fps")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def weighted(rows: list[dict], key: str) -> float | None:
    pairs = [(r[key], r["frames"]) for r in rows if r.get(key) is not None]
    return round(sum(v * n for v, n in pairs) / sum(n for _, n in pairs), 3) if pairs else None


def latency(path: Path, pipeline, detector: str, repeats: int, options: dict) -> dict:
    """Per-frame time of Tracker.track on a decoded clip, timed around each call (any Tracker)."""
    import cv2

    from atpn_edge.tracking.tracker import Tracker

    cap, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    times, cpu, detector_ms = [], [], []
    for _ in range(repeats):
        tracker = Tracker(pipeline, detector=detector, **options)
        for i, frame in enumerate(frames):
            t0, c0 = time.perf_counter(), time.thread_time()
            tracker.track(frame, timestamp=i / 30.0)
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        if hasattr(tracker, "latency"):
            detector_ms.append(tracker.latency().get("detector_p50"))
        if hasattr(tracker, "close"):
            tracker.close()
    ms, cpu_ms = np.array(times) * 1e3, np.array(cpu) * 1e3
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    c50, c90, c99 = np.percentile(cpu_ms, [50, 90, 99])
    return {"clip": path.name, "frames": len(ms), "p50": round(float(p50), 3), "p90": round(float(p90), 3),
            "p99": round(float(p99), 3), "max": round(float(ms.max()), 3), "p99_over_p50": round(float(p99 / p50), 2),
            # CPU time of the calling thread: the work on the critical path, without the time the
            # thread spent preempted by other processes or waiting
            "cpu_p50": round(float(c50), 3), "cpu_p90": round(float(c90), 3), "cpu_p99": round(float(c99), 3),
            "detector_p50": detector_ms[0] if detector_ms else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--videos", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data" / "videos")
    ap.add_argument("--model")
    ap.add_argument("--backend", default="onnxruntime")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--detector", default="blazeface")
    ap.add_argument("--detect-every", type=int, default=None, help="default: the tracker's")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--latency-clip", default="d3.mp4", help="talking-head clip for the latency run ('' = none)")
    ap.add_argument("--latency-repeats", type=int, default=3)
    ap.add_argument("--skip-goals", action="store_true", help="only the latency run")
    args = ap.parse_args()
    videos = sorted(args.videos.glob("*.mp4"))
    if not videos:
        print(f"no .mp4 files in {args.videos}", file=sys.stderr)
        return 1
    import cv2

    cv2.setNumThreads(args.threads)  # the detector and decoding count against the same thread budget
    pipeline = create_pipeline(model=args.model, backend=args.backend, threads=args.threads)
    options = {} if args.detect_every is None else {"detect_every": args.detect_every}
    rows = []
    if not args.skip_goals:
        print(" ".join(f"{c[:12]:>12}" for c in COLUMNS))
        for v in videos:
            r = evaluate_video(v, pipeline, detector=args.detector, baseline=not args.no_baseline, **options)
            rows.append(r)
            print(" ".join(f"{str(r.get(c)):>12}" for c in COLUMNS), flush=True)
    total: dict = {}
    if rows:
        frames = sum(r["frames"] for r in rows)
        total = {
            "frames": frames,
            "face_share": round(sum(r["frames_with_face"] for r in rows) / frames, 4),
            "detector_share": round(sum(r["detector_calls"] for r in rows) / frames, 4),
            "detector_calls": sum(r["detector_calls"] for r in rows),
            "id_switches": sum(r["id_switches"] for r in rows),
            **{k: weighted(rows, k) for k in ("jitter", "jitter_raw", "baseline_jitter", "pose_jitter", "pose_jitter_raw",
                                              "baseline_pose_jitter", "agreement_nme", "fps")},
        }
        print(" ".join(f"{str(total.get(c, 'ALL' if c == 'video' else '')):>12}" for c in COLUMNS))
    lat = latency(args.videos / args.latency_clip, pipeline, args.detector, args.latency_repeats, options) if args.latency_clip else None
    if lat:
        print("latency (ms):", " ".join(f"{k}={v}" for k, v in lat.items()))
    machine = {"cpu": cpu_name(), "cores": os.cpu_count(), "threads": args.threads, "python": platform.python_version()}
    model = str(getattr(pipeline.info, "model_version", "?"))
    print(json.dumps({"model": model, "backend": pipeline.backend, "detector": args.detector,
                      "detect_every": args.detect_every, "machine": machine, "total": total, "latency_ms": lat, "videos": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
