"""Detector recall on the shared stills, detector time on a 1280x720 frame, and false detections on
the non-face images: the numbers of the "Detection" section of BENCHMARKS.md.

Recall: the detector alone on each whole image (300W crops, AFLW2000 images with all |angles| <= 99,
300W turned 45 and 90 degrees clockwise); a face counts as found when a box matches it
(atpn_edge.eval.detection.matches). Time: every detector on the same frames, interleaved, one
thread, medians and p90. False detections: boxes on ../shared/data/negatives per 100 images.

    nice python scripts/measure_detection.py --detector haar --detector blazeface:full [--step 2]
        [--skip recall,keypoints,small,timing,first_frame,tracker,negatives]

"tracker" is Tracker() end to end on the same sets (recall at several face-score confirmation
thresholds); on turned images its numbers depend on the tracker turning its first crops.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from atpn_edge.datasets import load_aflw2000, load_ibug_folder
from atpn_edge.detection import create_detector
from atpn_edge.eval.detection import best_match, detector_recall, gt_box, rotate
from atpn_edge.eval.metrics import pose_mask


def parse_detector(spec: str):
    """``NAME[:ARG][,key=value...]`` -> detector; e.g. ``blazeface:full,tiles=1``."""
    head, *opts = spec.split(",")
    kw = {}
    for kv in opts:
        k, _, v = kv.partition("=")
        kw[k] = None if v.lower() == "none" else float(v) if v.replace(".", "", 1).isdigit() and "." in v else int(v) if v.isdigit() else v
    return create_detector(head, **kw)


def frame_1280x720(data: Path) -> list[np.ndarray]:
    """1280x720 frames: a 300W face pasted at several places and sizes on a video frame's backdrop."""
    cap = cv2.VideoCapture(str(data / "videos" / "d3.mp4"))
    ok, back = cap.read()
    cap.release()
    faces = sorted((data / "300w" / "afw").glob("*.jpg"))[:8]
    frames = []
    for i, path in enumerate(faces):
        f = cv2.resize(back, (1280, 720))
        face = cv2.imread(str(path))
        side = (160, 240, 320, 400)[i % 4]
        face = cv2.resize(face, (side, side))
        x, y = 100 + 110 * i, 720 - side - 40 * (i % 3)
        f[y:y + side, x:x + side] = face
        frames.append(f)
    return frames


def keypoint_angles(detector, samples, degs=(0, 45, 90, 135, 180)) -> dict:
    """Per turn: share of faces found, share of all faces found with an eye line (keypoints 0 -> 1)
    more than 30 degrees off the ground truth's (mean of iBUG points 42-47 minus 36-41), and the
    median error over the found faces (degrees)."""
    out = {}
    for deg in degs:
        errs = []
        for s in samples:
            image, pts = rotate(cv2.imread(str(s.image)), s.landmarks, deg)
            dets = detector.detect(image)
            i = best_match([d.box for d in dets], gt_box(pts))
            if i is None:
                errs.append(np.nan)
                continue
            k, g = dets[i].keypoints, pts[42:48].mean(0) - pts[36:42].mean(0)
            e = np.degrees(np.arctan2(k[1][1] - k[0][1], k[1][0] - k[0][0]) - np.arctan2(g[1], g[0]))
            errs.append(abs((e + 180) % 360 - 180))
        e = np.array(errs)
        out[str(deg)] = {"found": round(100 * float(np.isfinite(e).mean()), 1), "off_30": round(100 * float((e > 30).mean()), 1),
                         "median_deg": round(float(np.nanmedian(e)), 1) if np.isfinite(e).any() else None}
    return out


def small_faces(detector, data: Path, samples, fractions=(0.05, 0.08, 0.12, 0.2, 0.3)) -> dict:
    """Recall on 1280x720 frames holding one 300W face scaled to a face height (landmark box) of
    each fraction of the frame height, at a position drawn per face (seed 0)."""
    cap = cv2.VideoCapture(str(data / "videos" / "d9.mp4"))
    ok, back = cap.read()
    cap.release()
    back = cv2.GaussianBlur(cv2.resize(back, (1280, 720)), (0, 0), 8)  # a backdrop without a sharp face
    rng = np.random.default_rng(0)
    out = {}
    for frac in fractions:
        found = []
        for s in samples:
            img = cv2.imread(str(s.image))
            lm = s.landmarks.astype(np.float64)
            k = frac * 720 / (lm[:, 1].max() - lm[:, 1].min())
            img = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
            h, w = img.shape[:2]
            if h > 720 or w > 1280:
                continue
            x, y = int(rng.integers(0, 1280 - w + 1)), int(rng.integers(0, 720 - h + 1))
            frame = back.copy()
            frame[y:y + h, x:x + w] = img
            truth = (lm + 0.5) * k - 0.5 + (x, y)
            found.append(best_match([d.box for d in detector.detect(frame)], gt_box(truth)) is not None)
        out[f"{frac:.2f}"] = round(100 * float(np.mean(found)), 1) if found else None
    return out


def _stats(wall: list[float], cpu: list[float]) -> dict:
    """Wall-clock and process CPU time (the CPU time leaves out the waits a shared machine adds)."""
    return {"median_ms": round(float(np.median(wall)), 3), "p90_ms": round(float(np.percentile(wall, 90)), 3),
            "cpu_median_ms": round(float(np.median(cpu)), 3), "cpu_p90_ms": round(float(np.percentile(cpu, 90)), 3), "n": len(wall)}


def _timed(fn) -> tuple[float, float, object]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return 1e3 * (time.perf_counter() - t0), 1e3 * (time.process_time() - c0), out


def timing(detectors: dict, frames: list[np.ndarray], rounds: int) -> dict:
    wall, cpu = {k: [] for k in detectors}, {k: [] for k in detectors}
    for _ in range(rounds):
        for f in frames:
            for k, d in detectors.items():  # interleaved: the same load for every detector
                w, c, _ = _timed(lambda: d.detect(f))
                wall[k].append(w)
                cpu[k].append(c)
    return {k: _stats(wall[k], cpu[k]) for k in detectors}


def first_frames(specs: list[str], frames: list[np.ndarray], rounds: int) -> dict:
    """Tracker() with each detector (its other defaults, 1 thread): time of track() on a first
    frame (reset before each: detect + first crops + refinement), interleaved."""
    from atpn_edge.runtime import create_pipeline
    from atpn_edge.tracking.tracker import Tracker

    pipeline = create_pipeline(backend="onnxruntime", threads=1)
    trackers = {spec: Tracker(pipeline=pipeline, detector=parse_detector(spec)) for spec in specs}
    wall, cpu, faces = ({k: [] for k in trackers} for _ in range(3))
    for _ in range(rounds):
        for f in frames:
            for k, t in trackers.items():
                t.reset()
                w, c, found = _timed(lambda: t.track(f))
                wall[k].append(w)
                cpu[k].append(c)
                faces[k].append(len(found))
    for t in trackers.values():
        getattr(t, "close", lambda: None)()
    return {k: {**_stats(wall[k], cpu[k]), "frames_with_face": round(float(np.mean(np.array(faces[k]) > 0)), 3)} for k in trackers}


CONFIRM = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


def tracker_recall(spec: str, data: Path, sets: list) -> dict:
    """Tracker() (defaults but confirm_threshold=0.01) on each whole (turned) image: the face score
    of the matched face, so one run gives recall at every confirmation threshold in CONFIRM; the
    same for the largest face score on each non-face image (false faces per 100)."""
    from atpn_edge.eval.metrics import nme_inter_ocular
    from atpn_edge.runtime import create_pipeline
    from atpn_edge.tracking.tracker import Tracker

    tracker = Tracker(pipeline=create_pipeline(backend="onnxruntime", threads=1), detector=parse_detector(spec),
                      confirm_threshold=0.01)
    neg = []
    for p in negative_files(data):
        tracker.reset()
        neg.append(max([f.score for f in tracker.track(cv2.imread(str(p), cv2.IMREAD_COLOR))], default=0.0))
    neg = np.array(neg)
    out = {"negatives_faces_per_100": {str(t): round(100 * float((neg >= t).mean()), 2) for t in CONFIRM}}
    for name, samples, deg in sets:
        score, nme = [], []
        for s in samples:
            image, pts = rotate(cv2.imread(str(s.image)), s.landmarks, deg)
            tracker.reset()
            faces = tracker.track(image)
            i = best_match([f.box for f in faces], gt_box(pts))
            score.append(faces[i].score if i is not None else -1.0)
            ok = i is not None and name.startswith("300w")
            nme.append(float(nme_inter_ocular(np.asarray(faces[i].landmarks)[None], pts[None])[0]) if ok else np.nan)
        score, nme = np.array(score), np.array(nme)
        found = score >= 0.5
        out[name] = {"n": len(samples), "recall": {str(t): round(100 * float((score >= t).mean()), 2) for t in CONFIRM},
                     "nme_io_found_at_0.5": round(100 * float(np.nanmean(nme[found])), 3) if np.isfinite(nme[found]).any() else None}
    getattr(tracker, "close", lambda: None)()
    return out


def negative_files(data: Path) -> list[Path]:
    return sorted(p for p in (data / "negatives").rglob("*") if p.suffix.lower() in (".jpg", ".png", ".jpeg"))


def negatives_confirmed(specs: list[str], data: Path) -> dict:
    """Faces Tracker() reports on each non-face image (reset before each: detector boxes then the
    network's face-score confirmation), per 100 images."""
    from atpn_edge.runtime import create_pipeline
    from atpn_edge.tracking.tracker import Tracker

    pipeline = create_pipeline(backend="onnxruntime", threads=1)
    out = {}
    for spec in specs:
        tracker = Tracker(pipeline=pipeline, detector=parse_detector(spec))
        faces, shown = 0, []
        files = negative_files(data)
        for p in files:
            tracker.reset()
            n = len(tracker.track(cv2.imread(str(p), cv2.IMREAD_COLOR)))
            faces += n
            if n:
                shown.append(f"{p.parent.name}/{p.name}")
        getattr(tracker, "close", lambda: None)()
        out[spec] = {"images": len(files), "faces_per_100": round(100 * faces / len(files), 2), "images_with_face": shown}
    return out


def negatives(detector, data: Path) -> dict:
    files = negative_files(data)
    boxes = images_with = 0
    for p in files:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            continue
        n = len(detector.detect(img))
        boxes += n
        images_with += n > 0
    return {"images": len(files), "boxes_per_100": round(100 * boxes / len(files), 2),
            "images_with_box_per_100": round(100 * images_with / len(files), 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--detector", action="append", required=True, help="NAME[:ARG][,key=value...] (repeat)")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("ATPN_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--step", type=int, default=1, help="use every Nth face of each set (subsample)")
    ap.add_argument("--rounds", type=int, default=5, help="timing rounds over the 8 frames")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: recall,keypoints,small,timing,first_frame,tracker,negatives")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    skip = set(filter(None, args.skip.split(",")))
    dets = {spec: parse_detector(spec) for spec in args.detector}
    w300 = load_ibug_folder(args.data / "300w")[:: args.step]
    aflw = [s for s in load_aflw2000(args.data / "aflw2000") if pose_mask(s.pose[None])[0]][:: args.step]
    out: dict = {"step": args.step, "faces_300w": len(w300), "faces_aflw2000_le99": len(aflw)}
    if "recall" not in skip:
        for spec, d in dets.items():
            r = {}
            for name, samples, rot in (("300w", w300, 0), ("aflw2000", aflw, 0), ("300w_rot45", w300, 45), ("300w_rot90", w300, 90)):
                t0 = time.perf_counter()
                found, extra = detector_recall(d, samples, rot)
                r[name] = {"recall": round(100 * float(found.mean()), 2), "missed": int((~found).sum()),
                           "extra_boxes": int(extra.sum()), "s": round(time.perf_counter() - t0, 1)}
            out[spec] = {"recall": r}
            print(json.dumps({spec: r}), file=sys.stderr, flush=True)
    if "keypoints" not in skip:
        out["keypoint_angles"] = {spec: keypoint_angles(d, w300[::8]) for spec, d in dets.items()}
        print(json.dumps(out["keypoint_angles"]), file=sys.stderr, flush=True)
    if "small" not in skip:
        out["small_faces_1280x720"] = {spec: small_faces(d, args.data, w300[::4]) for spec, d in dets.items()}
        print(json.dumps(out["small_faces_1280x720"]), file=sys.stderr, flush=True)
    if "timing" not in skip:
        out["timing_1280x720"] = timing(dets, frame_1280x720(args.data), args.rounds)
    if "first_frame" not in skip:
        out["tracker_first_frame_1280x720"] = first_frames(args.detector, frame_1280x720(args.data), args.rounds)
    if "tracker" not in skip:
        sets = [("300w", w300, 0), ("aflw2000", aflw, 0), ("300w_rot45", w300, 45), ("300w_rot90", w300, 90)]
        out["tracker_recall_by_confirm_threshold"] = {spec: tracker_recall(spec, args.data, sets) for spec in args.detector}
    if "negatives" not in skip:
        out["negatives"] = {spec: negatives(d, args.data) for spec, d in dets.items()}
        out["negatives_after_confirmation"] = negatives_confirmed(args.detector, args.data)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
