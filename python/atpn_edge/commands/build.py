"""`atpn-edge build`: ONNX -> TensorRT engines for this device (FP16 or INT8), cached by model
sha256, TensorRT version, GPU, precision and max batch; run it once on the Jetson after install."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .options import add_model_options


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_options(p, backend=False, threads=False)
    p.add_argument("--precision", default="fp16", choices=("fp32", "fp16", "int8"), help="default fp16")
    p.add_argument("--calib", type=Path, default=None, help="folder of face crops for INT8 calibration")
    p.add_argument("--max-faces", type=int, default=8, help="largest batch the engines accept (default 8)")
    p.add_argument("--opt-faces", type=int, default=1, help="batch TensorRT tunes for (default 1)")
    p.add_argument("--workspace-mb", type=int, default=256, help="builder workspace limit (default 256 MiB)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="where engines go (default $ATPN_EDGE_ENGINE_CACHE or ~/.cache/atpn-edge/engines/MODEL)")
    p.add_argument("--force", action="store_true", help="rebuild even when a matching engine is cached")
    p.add_argument("--detector", default="none", choices=("none", "short", "full", "all"),
                   help="also build the BlazeFace detector's engine(s) (same cache rules; default none)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def run(args: argparse.Namespace) -> int:
    from .. import cuda as cuda_layer
    from ..runtime.engine_build import BuildSettings
    from ..runtime.engines import ensure_engines, import_tensorrt
    from ..runtime.models import load_info, resolve_model

    trt = import_tensorrt()
    files = resolve_model(args.model)
    info = load_info(files)
    settings = BuildSettings(precision=args.precision, max_batch=args.max_faces, opt_batch=args.opt_faces,
                             workspace_bytes=args.workspace_mb << 20)
    cuda = cuda_layer.Cuda()
    paths = ensure_engines(trt, cuda, files, info, settings, args.cache_dir, args.calib, force=args.force)
    if args.detector != "none":
        from ..detection.blazeface import MODELS, resolve
        from ..runtime.trt_runner import TensorRTRunner

        for name in (MODELS if args.detector == "all" else [args.detector]):
            onnx = resolve(name)[1]
            runner = TensorRTRunner(onnx, name=f"detector-{onnx.stem}", precision="fp32" if args.precision == "fp32" else "fp16",
                                    cache_dir=args.cache_dir, force=args.force, trt=trt, cuda=cuda)
            paths[f"detector-{name}"] = runner.engine_path
            runner.close()
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    if args.json:
        print(json.dumps({"engines": {k: str(v) for k, v in paths.items()}, "tensorrt": trt.__version__,
                          "gpu": cuda.device_name(), "precision": args.precision, "max_faces": args.max_faces}))
    return 0
