"""Measure a detector's box -> landmark-window calibration on 300W and its hit rate on videos.

Measured: the BoxCalibration medians stored with each detector, e.g. Haar alt2 extent ratio 0.885
and shift 0.153 box heights, one box on 99.1 % of the shared video frames (BENCHMARKS.md,
Detectors).

For each 300W face: run the detector, take the box whose centre lies inside the ground-truth
landmark box (largest IoU), and compare it with the window params_from_landmarks builds from the
ground truth (landmark_scale 1, i.e. the eye-levelled landmark extent). Prints the medians to put
into the detector's CALIBRATION, the spread (how well a calibrated box crop matches a landmark
crop) and, on the shared videos, the share of frames with exactly one / more than one box.

    python scripts/research/calibrate_detector.py --detector haar --option cascade=alt2 [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from atpn_edge.core.crop import CropRule, params_from_landmarks
from atpn_edge.detection import create_detector
from atpn_edge.core.face import box_iou, centre_inside, landmark_box


def read_pts(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    start = lines.index("{") + 1
    pts = np.array([[float(v) for v in ln.split()] for ln in lines[start:start + 68]])
    return pts - 1.0  # iBUG .pts are 1-based


def calibrate(detector, root: Path, limit: int) -> dict:
    ratios, shifts, shifts_x, found, n, t = [], [], [], 0, 0, 0.0
    files = sorted(root.glob("300w/*/*.pts"))[: limit or None]
    for pts_path in files:
        img = cv2.imread(str(pts_path.with_suffix(".jpg")))
        if img is None:
            continue
        gt = read_pts(pts_path)
        n += 1
        t0 = time.perf_counter()
        dets = detector.detect(img)
        t += time.perf_counter() - t0
        gt_box = landmark_box(gt)
        cands = [d for d in dets if centre_inside(d.box, gt_box)]
        if not cands:
            continue
        x, y, w, h = max(cands, key=lambda d: box_iou(d.box, gt_box)).box
        found += 1
        p = params_from_landmarks(gt, CropRule(landmark_scale=1.0))
        ratios.append(p.side / max(w, h))
        shifts.append((p.center[1] - (y + h / 2 - 0.5)) / h)
        shifts_x.append((p.center[0] - (x + w / 2 - 0.5)) / w)
    r, s, sx = np.array(ratios), np.array(shifts), np.array(shifts_x)
    q = lambda a: [round(float(v), 4) for v in np.percentile(a, [10, 50, 90])] if len(a) else None
    return {"faces": n, "found": found, "recall": round(found / max(n, 1), 4), "ms_per_image": round(1e3 * t / max(n, 1), 1),
            "extent_ratio_p10_50_90": q(r), "shift_y_p10_50_90": q(s), "shift_x_p10_50_90": q(sx)}


def video_hits(detector, root: Path, step: int) -> dict:
    one = many = frames = 0
    for path in sorted((root / "videos").glob("*.mp4")):
        cap = cv2.VideoCapture(str(path))
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % step == 0:
                k = len(detector.detect(frame))
                frames += 1
                one += k == 1
                many += k > 1
            i += 1
        cap.release()
    return {"frames": frames, "one_box": round(one / max(frames, 1), 4), "several_boxes": round(many / max(frames, 1), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--detector", default="haar")
    ap.add_argument("--option", action="append", default=[], help="KEY=VALUE passed to the detector")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N 300W faces")
    ap.add_argument("--video-step", type=int, default=3, help="run on every Nth video frame")
    args = ap.parse_args()
    opts = {}
    for kv in args.option:
        k, _, v = kv.partition("=")
        opts[k] = int(v) if v.isdigit() else v
    det = create_detector(args.detector, **opts)
    out = {"detector": args.detector, "options": opts, "300w": calibrate(det, args.data, args.limit),
           "videos": video_hits(det, args.data, args.video_step)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
