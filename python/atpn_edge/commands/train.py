"""`atpn-edge train CONFIG`: train an ATPN model (needs the train extra: torch, pyyaml)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="YAML or TOML config (see configs/)")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<config name>)")
    parser.add_argument("--resume", action="store_true", help="continue from RUN/last.pt")
    parser.add_argument("--init", type=Path, default=None, help="start from this checkpoint's weights (fine-tune)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (smoke runs)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N items of each dataset (smoke runs)")
    parser.add_argument("--json", action="store_true", help="print the final validation metrics as one JSON line")


def run(args: argparse.Namespace) -> int:
    import json

    from ..train.config import load_config
    from ..train.loop import train

    cfg = load_config(args.config)
    out = args.out or Path("runs") / args.config.stem
    metrics = train(cfg, out, resume=args.resume, max_steps=args.max_steps, limit=args.limit, init=args.init)
    if args.json:
        print(json.dumps(metrics))
    return 0
