"""Faces turned in the image plane, end to end: recall and NME of the tracker's first frame on 300W
photos turned 0/45/90/135/180/270 degrees (the whole photo on a canvas that holds it, the
ground truth turned with it; `atpn-edge eval 300w --protocol detector --rotate DEG`), and the
first frame's time, for the tracker with its defaults and the variants of turned-face handling.

With ``--offsets`` it measures the network's working range instead: upright photos, the
ground-truth landmark box as the detection and eye keypoints turned by OFFSET degrees about the
box centre (a first crop that far off), NME after the tracker's first frame (which refines once)
with the half-turn check off and on.

With ``--negatives DIR`` it times the first frame on images with no face (each resized to
1280x720, a fresh start each, ``--rounds`` rounds, variants interleaved per image) and counts
the faces confirmed on them.

With ``--videos DIR`` it runs two variants over every clip of DIR (upright faces) and reports
how far their outputs differ: frames where the face count differs, the largest landmark
difference (px), frames with a face, detector and network calls.

Measured: recall (% of faces matched by a tracked face), NME (% of the outer eye corner
distance, found faces only), and per-image wall time of ``Tracker.track`` on a fresh start
(detector + first crops + confirmation), median and p90, ms. Variants run interleaved per
rotation so load changes hit them alike. Results: BENCHMARKS.md ("Detection off the critical
path, cuts, crowds, turned faces": turned faces end to end, the working range) and
docs/TRACKING.md ("Upside-down faces").

    python scripts/research/measure_turned_faces.py --limit 200 --rotate 0 45 90 135 180 270
    python scripts/research/measure_turned_faces.py --limit 100 --offsets 0 15 30 45 60 75 90 120 150 180
    python scripts/research/measure_turned_faces.py --negatives ../shared/data/negatives --variants default off
    python scripts/research/measure_turned_faces.py --videos ../shared/data/videos --variants default off
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from atpn_edge.datasets import load_ibug_folder  # noqa: E402
from atpn_edge.detection.blazeface import BlazeFaceDetector  # noqa: E402
from atpn_edge.eval import detection  # noqa: E402
from atpn_edge.runtime import create_pipeline  # noqa: E402
from atpn_edge.tracking.tracker import Tracker  # noqa: E402

# name -> (detector factory, tracker options)
VARIANTS = {
    "default": (lambda: "blazeface", {}),
    "off": (lambda: "blazeface", {"upside_down_check": False, "upside_down_search": False}),
    "check-only": (lambda: "blazeface", {"upside_down_search": False}),
    "search-only": (lambda: "blazeface", {"upside_down_check": False}),
    "orientation_search": (lambda: "blazeface", {"orientation_search": True, "upside_down_check": False,
                                                 "upside_down_search": False}),
    "det-flip-always": (lambda: BlazeFaceDetector(upright_above_deg=0.0, flip_above_deg=0.0),
                        {"upside_down_check": False, "upside_down_search": False}),
}


class Timed:
    """A tracker whose ``track`` calls are timed (wall, ms)."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker, self.ms = tracker, []

    def reset(self) -> None:
        self.tracker.reset()

    def track(self, image: np.ndarray):
        t = time.perf_counter()
        out = self.tracker.track(image)
        self.ms.append(1e3 * (time.perf_counter() - t))
        return out

    def close(self) -> None:
        self.tracker.close()


class OffsetEyesDetector:
    """The annotated face's landmark box, its eye centres turned ``offset`` degrees about the box
    centre: a detection whose angle is that far off."""

    name = "ground-truth"
    upright_only = True

    def __init__(self, offset_deg: float) -> None:
        from atpn_edge.detection import BoxCalibration

        self.calibration, self.offset, self.points = BoxCalibration(), np.radians(offset_deg), None

    def detect(self, frame):
        from atpn_edge.core.face import Detection, landmark_box

        box = landmark_box(self.points)
        centre = np.array([box[0] + box[2] / 2, box[1] + box[3] / 2])
        eyes = np.stack([self.points[36:42].mean(0), self.points[42:48].mean(0)]) - centre
        c, s = np.cos(self.offset), np.sin(self.offset)
        return [Detection(box=box, keypoints=(eyes @ np.array([[c, s], [-s, c]]) + centre).astype(np.float32))]


def working_range(pipeline, samples, offsets: list[float]) -> None:
    import cv2

    from atpn_edge.core.face import centre_inside, landmark_box
    from atpn_edge.eval import metrics

    print("| eye angle off by | NME % check off | found | NME % check on | found |")
    print("|---|---|---|---|---|")
    images = [(cv2.imread(str(s.image), cv2.IMREAD_COLOR), np.asarray(s.landmarks, np.float64)) for s in samples]
    for off in offsets:
        row = []
        for check in (False, True):
            det = OffsetEyesDetector(off)
            errs = []
            with Tracker(pipeline=pipeline, detector=det, upside_down_check=check, upside_down_search=False) as tr:
                for image, pts in images:
                    det.points = pts
                    tr.reset()
                    out = [f for f in tr.track(image) if centre_inside(f.box, landmark_box(pts))]
                    if out:
                        errs.append(metrics.nme_inter_ocular(np.asarray(out[0].landmarks, np.float64)[None], pts[None])[0])
            row.append(f"{100 * np.mean(errs):.2f} | {len(errs)}" if errs else "- | 0")
        print(f"| {off:g} deg | {row[0]} | {row[1]} |", flush=True)


def negatives(pipeline, folder: str, names: list[str], rounds: int) -> None:
    import cv2

    files = sorted(f for f in Path(folder).rglob("*") if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
    frames = [cv2.resize(img, (1280, 720)) for img in (cv2.imread(str(f), cv2.IMREAD_COLOR) for f in files) if img is not None]
    trackers = {n: Timed(Tracker(pipeline=pipeline, detector=VARIANTS[n][0](), **VARIANTS[n][1])) for n in names}
    false = dict.fromkeys(names, 0)
    for _ in range(rounds):
        for frame in frames:
            for n, t in trackers.items():
                t.reset()
                false[n] += len(t.track(frame))
    print(f"| variant | frames | faces confirmed | ms p50 | ms p90 |  ({len(frames)} images x {rounds} rounds, 1280x720)")
    print("|---|---|---|---|---|")
    for n, t in trackers.items():
        t.close()
        print(f"| {n} | {len(t.ms)} | {false[n]} | {np.median(t.ms):.2f} | {np.percentile(t.ms, 90):.2f} |")


def videos(pipeline, folder: str, names: list[str]) -> None:
    import cv2

    a, b = names[:2]
    print(f"| clip | frames | count differs | max landmark diff px | frames with face {a} / {b} | "
          f"detector calls {a} / {b} | network calls {a} / {b} | first face score {a} / {b} |")
    print("|---|---|---|---|---|---|---|---|")
    for clip in sorted(Path(folder).glob("*.mp4")):
        cap, frames = cv2.VideoCapture(str(clip)), []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
        out, stats = {}, {}
        for n in (a, b):
            with Tracker(pipeline=pipeline, detector=VARIANTS[n][0](), **VARIANTS[n][1]) as tr:
                out[n] = [tr.track(f) for f in frames]
                stats[n] = tr.stats
        pairs = list(zip(out[a], out[b]))
        differs = sum(len(x) != len(y) for x, y in pairs)
        diff = max((float(np.abs(np.asarray(x[0].landmarks) - np.asarray(y[0].landmarks)).max()) for x, y in pairs if x and y), default=0.0)
        first = [next((fs[0].score for fs in out[n] if fs), float("nan")) for n in (a, b)]
        sa, sb = stats[a], stats[b]
        print(f"| {clip.name} | {len(frames)} | {differs} | {diff:.2f} | {sa.frames_with_face} / {sb.frames_with_face} | "
              f"{sa.detector_calls} / {sb.detector_calls} | {sa.pipeline_calls} / {sb.pipeline_calls} | "
              f"{first[0]:.3f} / {first[1]:.3f} |", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=str(Path(__file__).resolve().parents[3] / "shared/data/300w/helen_train"))
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--rotate", type=float, nargs="+", default=[0, 45, 90, 135, 180, 270])
    p.add_argument("--offsets", type=float, nargs="+", help="measure the working range instead (see above)")
    p.add_argument("--negatives", metavar="DIR", help="time frames with no face instead (see above)")
    p.add_argument("--videos", metavar="DIR", help="compare two variants on upright clips instead (see above)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = p.parse_args()
    if args.videos:
        with create_pipeline(None, backend="onnxruntime", threads=1) as pipeline:
            videos(pipeline, args.videos, args.variants)
        return 0
    if args.negatives:
        with create_pipeline(None, backend="onnxruntime", threads=1) as pipeline:
            negatives(pipeline, args.negatives, args.variants, args.rounds)
        return 0
    samples = load_ibug_folder(args.root)[: args.limit]
    if args.offsets:
        with create_pipeline(None, backend="onnxruntime", threads=1) as pipeline:
            working_range(pipeline, samples, args.offsets)
        return 0
    print("| variant | turned | found | recall % | NME % (found) | ms p50 | ms p90 |")
    print("|---|---|---|---|---|---|---|")
    with create_pipeline(None, backend="onnxruntime", threads=1) as pipeline:
        for deg in args.rotate:
            for name in args.variants:
                make_det, opts = VARIANTS[name]
                timed: list[Timed] = []

                def make() -> Timed:
                    timed.append(Timed(Tracker(pipeline=pipeline, detector=make_det(), **opts)))
                    return timed[-1]

                run = detection.run_tracker(make, samples, deg)
                s, _ = detection.summary_300w(run)
                ms = np.array(timed[0].ms)
                print(f"| {name} | {deg:g} | {s['found']}/{s['n']} | {s['recall']:.1f} | {s['nme_io']} | "
                      f"{np.median(ms):.2f} | {np.percentile(ms, 90):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
