"""``python -m atpn_edge.bench kernels [--repeats N] [--threads T] [--no-cuda] [--json PATH]``: the
kernel benchmark of `atpn-edge bench --kernels` (same code, kept for scripts that call it)."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m atpn_edge.bench",
                                description="The kernel benchmark (same as `atpn-edge bench --kernels`).")
    sub = p.add_subparsers(dest="what", required=True)
    k = sub.add_parser("kernels", help="native kernels against OpenCV / numpy, side by side")
    k.add_argument("--repeats", type=int, default=2000, help="timed runs per case (default 2000)")
    k.add_argument("--warmup", type=int, default=100)
    k.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1)")
    k.add_argument("--no-cuda", action="store_true", help="skip the CUDA cases")
    k.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    args = p.parse_args(argv)

    from .kernels import run_and_print

    run_and_print(args.threads, args.repeats, args.warmup, cuda=False if args.no_cuda else None, json_path=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
