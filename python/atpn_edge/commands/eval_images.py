"""`atpn-edge eval 300w ROOT` and `atpn-edge eval aflw2000 ROOT` (logic: atpn_edge.eval.images)."""
from __future__ import annotations

import argparse
import json
import sys

from .options import add_model_options

JSON_KEYS = {
    "300w": "n, nme_io (%), fr_10 (%), auc_10 (0-1), face_score_mean, skipped, refine",
    "aflw2000": "n, n_pose, mae_yaw, mae_pitch, mae_roll, mae (degrees), nme_box (%), face_score_mean, skipped, refine",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="data folder (searched recursively)")
    add_model_options(p)
    p.add_argument("--refine", type=int, choices=(0, 1), default=1,
                   help="0: crop from the ground-truth landmark box only (as a detector box); "
                        "1: then once more from the predicted landmarks, as the tracker does (default: 1)")
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

    with create_pipeline(args.model, backend=args.backend, threads=args.threads) as pipeline:
        pred = images.predict(pipeline, samples, refine=args.refine, skipped=skipped)
        backend = pipeline.backend
    for item in skipped:
        print(f"eval {target}: skipped {item.name}: {item.reason}", file=sys.stderr)
    summary, nme = (images.summary_300w if target == "300w" else images.summary_aflw2000)(pred)

    if args.plot:
        from ..eval.plot import plot_ced

        xlabel = "NME, inter-ocular (%)" if target == "300w" else "NME, sqrt(box w*h) (%)"
        print(f"eval {target}: wrote {plot_ced({target: nme}, args.plot, xlabel)}", file=sys.stderr)
    out = sys.stderr if args.json else sys.stdout
    print(f"eval {target}: {pipeline.info.model_version} on {backend}, {args.root} (keys: {JSON_KEYS[target]})", file=out)
    print("  " + ", ".join(f"{k}={v}" for k, v in summary.items()), file=out)
    if args.json:
        print(json.dumps(summary))
    return 0
