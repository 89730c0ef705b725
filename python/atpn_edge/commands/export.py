"""`atpn-edge export CHECKPOINT --out DIR`: stage1.onnx, stage2.onnx, fused.onnx with metadata."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, help="a .pt written by `atpn-edge train` (best.pt or last.pt)")
    parser.add_argument("--out", type=Path, required=True, help="model directory to write")
    parser.add_argument("--version", default=None, help="model_version metadata (default: checkpoint name + epoch)")
    parser.add_argument("--data-card", default=None, help="data card text for the metadata (default: the shared-data card)")


DEFAULT_DATA_CARD = (
    "Trained on 300W (HELEN train + AFW, 68 pts), half of AFLW2000-3D (68 pts + pose) and 8000 AFLW crops "
    "(21 pts + yaw), plus non-face images (OpenCV / scikit-image samples, Apache-2.0 / BSD-3-Clause). "
    "300W, HELEN, AFW, AFLW and AFLW2000-3D are licensed for NON-COMMERCIAL RESEARCH USE ONLY; "
    "so are these weights."
)


def run(args: argparse.Namespace) -> int:
    from ..train.export import export_model, load_checkpoint

    model, ckpt = load_checkpoint(args.checkpoint)
    version = args.version or f"{args.checkpoint.parent.name}-e{ckpt.get('epoch', 0) + 1}"
    extra = {k: ckpt[k] for k in ("params", "macs") if k in ckpt}
    extra["val_metrics"] = {k: round(float(v), 4) for k, v in ckpt.get("metrics", {}).items()}
    paths = export_model(model, args.out, ckpt["preprocess"], version=version,
                         data_card=args.data_card if args.data_card is not None else DEFAULT_DATA_CARD, extra=extra)
    for kind, path in paths.items():
        print(f"{kind}: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0
