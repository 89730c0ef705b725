"""`atpn-edge validate MODEL_DIR`: a model's validation numbers on a held-out split (atpn_edge.eval.validate)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .options import MODEL_HELP, add_model_options, non_negative_int


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", default=None, metavar="MODEL_DIR", help=MODEL_HELP)
    p.add_argument("--data", type=Path, default=None,
                   help="folder with 300w/, aflw2000/ and negatives/ (default: $ATPN_SHARED_DATA)")
    p.add_argument("--split", type=Path, default=None,
                   help="held-out names (JSON: 300w, aflw2000, negatives lists; default: the model's val_split.json)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the random negative crops (default: 0)")
    add_model_options(p, model=False)
    p.add_argument("--precision", default=None, choices=("fp32", "int8"),
                   help="ONNX Runtime graphs (default: int8 where the model ships INT8 graphs, on x86-64; else fp32)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")


def run(args: argparse.Namespace) -> int:
    from ..eval.validate import read_split, validate_model
    from ..runtime import create_pipeline
    from ..runtime.models import resolve_model

    files = resolve_model(args.model)
    split_path = args.split or files.directory / "val_split.json"
    if not split_path.is_file():
        raise FileNotFoundError(f"split file not found: {split_path} (pass --split FILE)")
    data = args.data or (Path(os.environ["ATPN_SHARED_DATA"]) if os.environ.get("ATPN_SHARED_DATA") else None)
    if data is None:
        raise ValueError("no data folder: pass --data DIR or set ATPN_SHARED_DATA")
    options = {"precision": args.precision} if args.precision else {}
    with create_pipeline(files.directory, backend=args.backend, threads=args.threads, **options) as pipeline:
        result = validate_model(pipeline, data, read_split(split_path), seed=args.seed)
        result["backend"] = pipeline.backend
        result["precision"] = getattr(pipeline, "precision", None)
    out = sys.stderr if args.json else sys.stdout
    print(f"validate: {result['model']} on {result['backend']}, {data}, split {split_path}", file=out)
    print("  " + ", ".join(f"{k}={v}" for k, v in result.items() if k not in ("model", "backend")), file=out)
    if args.json:
        print(json.dumps(result))
    return 0
