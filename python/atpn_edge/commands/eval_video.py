"""`atpn-edge eval video PATH` (the measurement: atpn_edge.eval.video)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .options import add_model_options, non_negative_int, open_unit_float, positive_int


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", type=Path, help="video file")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")
    add_model_options(p)
    p.add_argument("--detector", default="blazeface",
                   help="as for `atpn-edge track`: blazeface (default), blazeface:full, blazeface:MODEL.onnx, haar, yunet:MODEL.onnx")
    p.add_argument("--detect-every", type=non_negative_int, default=None, metavar="N",
                   help="also look for new faces every N frames; 0 = only when no face is tracked "
                        "(default: the tracker's, as `atpn-edge track` uses it)")
    p.add_argument("--max-faces", type=positive_int, default=4, help="most faces tracked at once (default: 4)")
    p.add_argument("--score-threshold", type=open_unit_float, default=0.5,
                   help="a track ends when the face score falls below this (default: 0.5)")
    p.add_argument("--max-frames", type=non_negative_int, default=0, metavar="N", help="only the first N frames (0 = all)")
    p.add_argument("--no-baseline", action="store_true", help="skip the per-frame detection baseline (faster)")
    p.add_argument("--no-progress", action="store_true", help="no progress line (shown on stderr when it is a terminal)")


def run(args: argparse.Namespace) -> int:
    from ..eval.video import evaluate_video
    from ..io.progress import pass_progress

    if not args.path.is_file():
        raise FileNotFoundError(f"video not found: {args.path}")
    passes = 2 if args.no_baseline else 3  # tracked, tracked raw, per-frame baseline
    with pass_progress(args.path, passes, args.max_frames, enabled=False if args.no_progress else None) as tick:
        res = evaluate_video(args.path, detector=args.detector, detect_every=args.detect_every, max_faces=args.max_faces,
                             score_threshold=args.score_threshold, baseline=not args.no_baseline,
                             max_frames=args.max_frames, model=args.model, backend=args.backend, threads=args.threads,
                             on_frame=tick)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:>20}: {v}")
    return 0
