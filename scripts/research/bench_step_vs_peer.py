#!/usr/bin/env python3
"""One round of the whole-step lever comparison in BENCHMARKS.md ("Runtime"): the tracking step
of the atpn_edge found on sys.path (so an older checkout can be timed with
``PYTHONPATH=OLD/python``) against MediaPipe's face-mesh step, interleaved call by call, plus
four faces against one. Prints one JSON line. The peer comes from this checkout's
python/atpn_edge/bench/peer.py (loaded by path, so older checkouts without it work too).

    taskset -c 1 python scripts/research/bench_step_vs_peer.py engines/atpn68 --precision fp32
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

PEER = Path(__file__).resolve().parents[2] / "python" / "atpn_edge" / "bench" / "peer.py"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--precision", default=None, help="fp32 or int8 (default: the pipeline's)")
    ap.add_argument("--runs", type=int, default=1000)
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("atpn_peer", PEER)
    peer_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer_mod)

    import atpn_edge
    from atpn_edge.bench.pipeline import bench_affines, bench_frame
    from atpn_edge.runtime import create_pipeline

    frame, source = bench_frame()
    opts = {"precision": args.precision} if args.precision else {}
    pipe = create_pipeline(args.model, backend="onnxruntime", threads=1, max_faces=4, **opts)
    peer = peer_mod.make_peer("mediapipe")
    peer_affine = bench_affines(frame, 1, peer_mod.MESH_SIZE)[0]
    a1, a4 = bench_affines(frame, 1, pipe.info.input_size), bench_affines(frame, 4, pipe.info.input_size)
    vs_peer = peer_mod.time_against_peer(lambda: pipe.run(frame, a1), lambda: peer(frame, peer_affine), args.runs, 100)
    n4 = peer_mod.time_against_peer(lambda: pipe.run(frame, a4), lambda: pipe.run(frame, a1), args.runs // 2, 20)
    print(json.dumps({"code": str(Path(atpn_edge.__file__).parents[1]), "precision": getattr(pipe, "precision", "fp32"),
                      "frame": source, "vs_peer": vs_peer, "n4_over_n1": n4["ratio_median"],
                      "n4_ms": n4["ours"]["median_ms"], "n1_ms": n4["peer"]["median_ms"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
