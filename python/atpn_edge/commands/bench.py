"""`atpn-edge bench`: per-stage and whole-step timings of the pipeline for 1 and 4 faces on a
real video frame (SPEC section 7), or the kernels alone with ``--kernels``."""
from __future__ import annotations

import argparse
import json

from .options import add_model_options


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_options(p)
    p.add_argument("--runs", type=int, default=500, help="timed runs per face count (default 500)")
    p.add_argument("--warmup", type=int, default=50, help="untimed runs first (default 50)")
    p.add_argument("--video", default=None, help="take the first frame of this video (default: shared d3.mp4)")
    p.add_argument("--precision", default=None, choices=("fp32", "fp16", "int8"),
                   help="TensorRT: engine precision (default fp16); ONNX Runtime: fp32 (default) or int8 Q/DQ graphs")
    p.add_argument("--cuda-graph", action="store_true", help="TensorRT: replay the per-frame work as a CUDA graph")
    p.add_argument("--kernels", action="store_true", help="time the crop and heatmap kernels instead")
    p.add_argument("--chart", metavar="FILE.png", help="write a bar chart of per-stage times (needs matplotlib)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def run(args: argparse.Namespace) -> int:
    if args.runs < 1:
        raise ValueError("--runs must be >= 1")
    if args.kernels:
        from ..bench.kernels import format_kernel_bench, run_kernel_bench

        result = run_kernel_bench(threads=args.threads, repeats=args.runs, warmup=args.warmup)
        print(format_kernel_bench(result))
        if args.json:
            print(json.dumps(result))
        return 0

    from ..bench.pipeline import bench_frame, jetson_info, machine_info, time_pipeline, versions
    from ..runtime import create_pipeline

    options: dict = {"precision": args.precision} if args.precision else {}
    if args.backend == "tensorrt":
        options["cuda_graph"] = args.cuda_graph
    pipeline = create_pipeline(args.model, backend=args.backend, threads=args.threads, max_faces=4, **options)
    frame, frame_source = bench_frame(args.video)
    one = time_pipeline(pipeline, frame, 1, args.runs, args.warmup)
    four = time_pipeline(pipeline, frame, 4, args.runs, args.warmup)
    result = {
        "backend": pipeline.backend,
        "backend_reason": getattr(pipeline, "backend_reason", ""),
        "threads": args.threads,
        "stages": one["stages"],
        "tracking_step_ms": one["step"]["median_ms"],
        "tracking_step_ms_n4": four["step"]["median_ms"],
        "tracking_step_p90_ms": one["step"]["p90_ms"],
        "tracking_step_p90_ms_n4": four["step"]["p90_ms"],
        "stages_n4": four["stages"],
        "runs": args.runs,
        "frame": frame_source,
        "model": {"version": pipeline.info.model_version, "num_landmarks": pipeline.info.num_landmarks},
        "machine": machine_info(),
        "versions": versions(pipeline.backend),
    }
    result["precision"] = getattr(pipeline, "precision", None)
    if pipeline.backend == "tensorrt":
        result["cuda_graph"] = args.cuda_graph
    jetson = jetson_info()
    if jetson is not None:
        result["jetson"] = jetson
    if args.chart:
        from ..bench.chart import stage_chart

        stage_chart(result, args.chart)
    print(f"{pipeline.backend}, {args.threads} thread(s), {frame_source}, {args.runs} runs")
    print(f"{'stage':<12}{'N=1 median':>12}{'p90':>9}{'N=4 median':>12}{'p90':>9}   (ms)")
    for name, s in one["stages"].items():
        s4 = four["stages"][name]
        print(f"{name:<12}{s['median_ms']:>12.3f}{s['p90_ms']:>9.3f}{s4['median_ms']:>12.3f}{s4['p90_ms']:>9.3f}")
    print(f"{'whole step':<12}{one['step']['median_ms']:>12.3f}{one['step']['p90_ms']:>9.3f}"
          f"{four['step']['median_ms']:>12.3f}{four['step']['p90_ms']:>9.3f}")
    if args.json:
        print(json.dumps(result))
    pipeline.close()
    return 0
