#!/usr/bin/env python3
"""Convert a model's two stages to LiteRT (.tflite) with litert-torch, offline, for the runtime
comparison in scripts/bench_runtimes.py (--tflite DIR). LiteRT cannot read ONNX, our exchange
format, so the stages go through PyTorch: either a training checkpoint, or (``--onnx``) the
exported ONNX graphs' weights loaded back into the architecture of a training config
(`atpn_edge.train.from_onnx`: the folded BatchNorms become identities carrying the folded biases;
checked against ONNX Runtime).

Measured (with scripts/bench_runtimes.py --tflite): LiteRT against ONNX Runtime on the same weights
(BENCHMARKS.md, "Runtime").

    pip install litert-torch ai-edge-litert   # a separate venv keeps its dependencies apart
    nice -n 10 python scripts/research/litert_convert.py runs/atpn68/best.pt /tmp/atpn68-tflite
    nice -n 10 python scripts/research/litert_convert.py --onnx engines/atpn68 --config configs/atpn68_deep.yaml /tmp/atpn68-tflite
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch


def model_from_onnx(model_dir: Path, config: Path):
    from atpn_edge.train import from_onnx
    from atpn_edge.train.config import load_config

    return from_onnx.model_from_onnx(model_dir, load_config(config).model)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint", nargs="?", type=Path, help="a training checkpoint (.pt)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--onnx", type=Path, help="a model directory instead of a checkpoint (needs --config)")
    ap.add_argument("--config", type=Path, help="the training config of that model's architecture")
    args = ap.parse_args()
    import litert_torch

    if args.onnx is not None:
        if args.config is None:
            ap.error("--onnx needs --config")
        model = model_from_onnx(args.onnx, args.config)
    elif args.checkpoint is not None:
        from atpn_edge.train.export import load_checkpoint

        model, _ = load_checkpoint(args.checkpoint)
    else:
        ap.error("give a checkpoint or --onnx MODEL_DIR --config YAML")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    image = torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    with torch.no_grad():
        _, features = model.stage1(image)
    heat = torch.zeros(1, 1, cfg.heatmap_size, cfg.heatmap_size)
    litert_torch.convert(model.stage1.eval(), (image,)).export(str(out / "stage1.tflite"))
    litert_torch.convert(model.stage2.eval(), (features, heat)).export(str(out / "stage2.tflite"))
    print(f"wrote {out / 'stage1.tflite'} and {out / 'stage2.tflite'} (batch 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
