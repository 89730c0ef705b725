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
    parser.add_argument("--jitter", action="store_true",
                        help="also calibrate on one moved window per face (measured: no gain with the fp32 heads)")
    parser.add_argument("--fp32-prefix", action="append", default=None, metavar="PREFIX",
                        help="keep the nodes whose names start with PREFIX in fp32, in both graphs (repeatable; "
                             "replaces the default: stage 1's /stem/, both stages' heads)")
    parser.add_argument("--all-int8", action="store_true",
                        help="quantise the stem and the heads too (slower and less accurate where measured; for comparison)")


# The moved calibration window: shift (fraction of the side), scale range, rotation (degrees).
JITTER = (0.15, 0.75, 1.5, 40.0)


def calibration_crops(faces: Path, info, count: int, exclude: set[str], jitter: bool = False) -> np.ndarray:
    """Up to ``count`` labelled faces (name order, ``exclude`` left out) as network inputs: each
    cropped by the crop rule and, with ``jitter``, once more through a window moved as a
    tracker's first or fast-moving crops are (shift up to 0.15 of the side, scale 0.75-1.5,
    rotation up to 40 degrees; seeded), so the activation ranges cover those crops too."""
    import cv2

    from .. import kernels
    from ..core.crop import crop_affine, params_from_landmarks
    from ..datasets import load_ibug_folder

    samples = [s for s in load_ibug_folder(faces) if s.name not in exclude][:count]
    if not samples:
        raise FileNotFoundError(f"no labelled faces (.pts + image) in {faces} after the exclusions")
    rng = np.random.default_rng(0)
    per_face = 2 if jitter else 1
    size = info.input_size
    crops = np.empty((len(samples) * per_face, 3, size, size), np.float32)
    for i, s in enumerate(samples):
        frame = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(f"{s.image}: not a readable image")
        params = params_from_landmarks(s.landmarks, info.crop_rule)
        windows = [params]
        if jitter:
            shift, lo, hi, deg = JITTER
            windows.append(params.jittered(shift=tuple(rng.uniform(-shift, shift, 2)), scale=float(rng.uniform(lo, hi)),
                                           rotate=float(np.radians(rng.uniform(-deg, deg)))))
        affines = np.stack([crop_affine(w, size) for w in windows])
        kernels.warp_crop_batch(frame, affines, size, info.mean, info.std, out=crops[i * per_face:(i + 1) * per_face])
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
    crops = calibration_crops(args.faces, info, args.count, exclude, jitter=args.jitter)
    paths = quantize_model(files, info, crops, out_dir=args.out, mixed=not args.all_int8,
                           fp32_prefixes=tuple(args.fp32_prefix) if args.fp32_prefix else None)
    for kind, path in paths.items():
        print(f"{kind}: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"calibrated on {len(crops)} crops of faces from {args.faces}; use it with --precision int8")
    return 0
