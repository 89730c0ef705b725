"""`atpn-edge quantize MODEL_DIR --faces DIR`: write INT8 Q/DQ graphs (stage1.int8.onnx,
stage2.int8.onnx) for the CPU backend, calibrated on real faces cropped as the tracker crops them.

The calibration faces come from a folder of images with 68-point iBUG ``.pts`` files (the 300W
layout); ``--exclude`` names a JSON split file (such as the model's ``val_split.json``) whose
``"300w"`` faces are left out, so the faces accuracy is measured on are never calibrated on.
Needs the `onnx` package (``pip install onnx``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="model directory (stage1.onnx, stage2.onnx); the INT8 graphs go there")
    parser.add_argument("--faces", type=Path, required=True,
                        help="calibration faces: a folder of images with 68-point .pts files (300W layout)")
    parser.add_argument("--exclude", type=Path, default=None,
                        help="JSON split file; its \"300w\" names are not used for calibration (e.g. val_split.json)")
    parser.add_argument("--count", type=int, default=256, help="calibration faces, in name order (default 256)")
    parser.add_argument("--out", type=Path, default=None, help="write the INT8 graphs here instead of the model directory")
    parser.add_argument("--fp32-prefix", action="append", default=None, metavar="PREFIX",
                        help="keep the nodes whose names start with PREFIX in fp32, in both graphs (repeatable; "
                             "replaces the default: stage 1's /stem/, stage 2's heads)")
    parser.add_argument("--all-int8", action="store_true",
                        help="quantise stage 1's stem and stage 2's heads too (slower and less accurate where measured; for comparison)")


def calibration_crops(faces: Path, info, count: int, exclude: set[str]) -> np.ndarray:
    """Up to ``count`` labelled faces (name order, ``exclude`` left out) as network inputs."""
    import cv2

    from .. import kernels
    from ..core.crop import affine_from_landmarks
    from ..datasets import load_ibug_folder

    samples = [s for s in load_ibug_folder(faces) if s.name not in exclude][:count]
    if not samples:
        raise FileNotFoundError(f"no labelled faces (.pts + image) in {faces} after the exclusions")
    crops = np.empty((len(samples), 3, info.input_size, info.input_size), np.float32)
    for i, s in enumerate(samples):
        frame = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(f"{s.image}: not a readable image")
        a = affine_from_landmarks(s.landmarks, info.crop_rule)
        kernels.warp_crop_batch(frame, a[None], info.input_size, info.mean, info.std, out=crops[i:i + 1])
    return crops


def run(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise ValueError("--count must be >= 1")
    try:
        import onnx  # noqa: F401  (onnxruntime.quantization needs it)
    except ImportError:
        raise RuntimeError("quantisation needs the onnx package: pip install onnx") from None
    from ..runtime.models import load_info, resolve_model
    from ..runtime.quantize import quantize_model

    files = resolve_model(args.model.resolve())  # absolute: quantisation changes the directory
    info = load_info(files)
    exclude: set[str] = set()
    if args.exclude is not None:
        exclude = set(json.loads(args.exclude.read_text()).get("300w", []))
    crops = calibration_crops(args.faces, info, args.count, exclude)
    paths = quantize_model(files, info, crops, out_dir=args.out, mixed=not args.all_int8,
                           fp32_prefixes=tuple(args.fp32_prefix) if args.fp32_prefix else None)
    for kind, path in paths.items():
        print(f"{kind}: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"calibrated on {len(crops)} faces from {args.faces}; use it with --precision int8")
    return 0
