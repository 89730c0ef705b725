"""`atpn-edge eval 300w ROOT` and `atpn-edge eval aflw2000 ROOT` (logic: atpn_edge.eval.images for the
ground-truth-box protocol, atpn_edge.eval.detection for ``--protocol detector``)."""
from __future__ import annotations

import argparse
import json
import sys

from .options import add_model_options

JSON_KEYS = {
    "300w": "n, nme_io (%), fr_10 (%), auc_10 (0-1), face_score_mean, skipped, refine",
    "aflw2000": "n, n_pose, mae_yaw, mae_pitch, mae_roll, mae (degrees), nme_box (%), face_score_mean, skipped, refine",
}
DETECTOR_JSON_KEYS = {
    "300w": "n, found, recall (%), nme_io (% over found), fr_10 (%, misses fail), auc_10 (misses fail), other_faces, "
            "face_score_mean, rotate, skipped",
    "aflw2000": "n, found, recall (%), n_le99, recall_le99 (%), nme_box (% over found), n_pose, mae_* (degrees, found, "
                "unturned only), other_faces, face_score_mean, rotate, skipped",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="data folder (searched recursively)")
    add_model_options(p)
    p.add_argument("--refine", type=int, choices=(0, 1), default=1,
                   help="0: crop from the ground-truth landmark box only (as a detector box); "
                        "1: then once more from the predicted landmarks, as the tracker does (default: 1)")
    p.add_argument("--protocol", choices=("gt-box", "detector"), default="gt-box",
                   help="gt-box: first crop from the ground-truth landmark box (default); detector: the tracker with its "
                        "detector on the whole image, nothing from the ground truth (recall; misses count as failures)")
    p.add_argument("--detector", default="blazeface", help="detector of --protocol detector (default: blazeface)")
    p.add_argument("--rotate", type=float, default=0.0, metavar="DEG",
                   help="--protocol detector: turn each image (and its ground truth) DEG degrees clockwise first")
    p.add_argument("--names", metavar="FILE", help="evaluate only the faces named in FILE: one a line, or a JSON list, or the training "
                        "split JSON (its '300w' / 'aflw2000' list)")
    p.add_argument("--limit", type=int, metavar="N", help="evaluate only the first N faces")
    p.add_argument("--plot", metavar="FILE.png", help="write the CED curve (needs matplotlib)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")


def run(args: argparse.Namespace) -> int:
    from ..datasets import load_aflw2000, load_ibug_folder
    from ..eval import images
    from ..runtime import create_pipeline

    target = args.target
    skipped: list = []
    loader = load_ibug_folder if target == "300w" else load_aflw2000
    samples = loader(args.root, skipped=skipped)
    names = images.read_names(args.names, key=target) if args.names else None
    samples, missing = images.select(samples, names, args.limit)
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        print(f"eval {target}: {len(missing)} name(s) from {args.names} not found under {args.root}: {shown}", file=sys.stderr)
    if not samples:
        raise ValueError(f"no faces to evaluate under {args.root}" + (f" named in {args.names}" if names else ""))

    if args.rotate and args.protocol != "detector":
        raise ValueError("--rotate needs --protocol detector (the ground-truth-box protocol crops upright boxes)")
    with create_pipeline(args.model, backend=args.backend, threads=args.threads) as pipeline:
        if args.protocol == "detector":
            from ..eval import detection
            from ..tracking.tracker import Tracker

            run_ = detection.run_tracker(lambda: Tracker(pipeline=pipeline, detector=args.detector), samples,
                                         args.rotate, skipped=skipped)
            summary, nme = (detection.summary_300w if target == "300w" else detection.summary_aflw2000)(run_)
            keys = DETECTOR_JSON_KEYS[target]
        else:
            pred = images.predict(pipeline, samples, refine=args.refine, skipped=skipped)
            summary, nme = (images.summary_300w if target == "300w" else images.summary_aflw2000)(pred)
            keys = JSON_KEYS[target]
        backend = pipeline.backend
    for item in skipped:
        print(f"eval {target}: skipped {item.name}: {item.reason}", file=sys.stderr)

    if args.plot:
        from ..eval.plot import plot_ced

        xlabel = "NME, inter-ocular (%)" if target == "300w" else "NME, sqrt(box w*h) (%)"
        print(f"eval {target}: wrote {plot_ced({target: nme}, args.plot, xlabel)}", file=sys.stderr)
    out = sys.stderr if args.json else sys.stdout
    how = f", detector {args.detector}" + (f", turned {args.rotate:g} deg" if args.rotate else "") if args.protocol == "detector" else ""
    print(f"eval {target}: {pipeline.info.model_version} on {backend}{how}, {args.root} (keys: {keys})", file=out)
    print("  " + ", ".join(f"{k}={v}" for k, v in summary.items()), file=out)
    if args.json:
        print(json.dumps(summary))
    return 0
