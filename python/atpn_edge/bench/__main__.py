"""``python -m atpn_edge.bench kernels [--repeats N] [--threads T] [--json PATH]``"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m atpn_edge.bench",
                                description="Benchmarks of atpn-edge (not timed tests).")
    sub = p.add_subparsers(dest="what", required=True)
    k = sub.add_parser("kernels", help="native kernels against OpenCV / numpy, side by side")
    k.add_argument("--repeats", type=int, default=2000, help="timed runs per case (default 2000)")
    k.add_argument("--warmup", type=int, default=100)
    k.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1)")
    k.add_argument("--no-cuda", action="store_true", help="skip the CUDA cases")
    k.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    args = p.parse_args(argv)

    from .kernels import format_kernel_bench, run_kernel_bench

    result = run_kernel_bench(threads=args.threads, repeats=args.repeats, warmup=args.warmup,
                              cuda=False if args.no_cuda else None)
    print(format_kernel_bench(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
