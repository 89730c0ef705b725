"""Faces turned in the image plane, end to end: recall and NME of the tracker's first frame on 300W
photos turned 0/45/90/135/180/270 degrees (the whole photo on a canvas that holds it, the
ground truth turned with it; `atpn-edge eval 300w --protocol detector --rotate DEG`), and the
first frame's time, for the tracker with its defaults and the variants of turned-face handling.

Measured: recall (% of faces matched by a tracked face), NME (% of the outer eye corner
distance, found faces only), and per-image wall time of ``Tracker.track`` on a fresh start
(detector + first crops + confirmation), median and p90, ms. Variants run interleaved per
rotation so load changes hit them alike.

    python scripts/research/measure_turned_faces.py --limit 200 --rotate 0 45 90 135 180 270
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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=str(Path(__file__).resolve().parents[3] / "shared/data/300w/helen_train"))
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--rotate", type=float, nargs="+", default=[0, 45, 90, 135, 180, 270])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = p.parse_args()
    samples = load_ibug_folder(args.root)[: args.limit]
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
