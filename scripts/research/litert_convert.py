#!/usr/bin/env python3
"""Convert a training checkpoint's two stages to LiteRT (.tflite) with litert-torch, offline, for
the runtime comparison in scripts/bench_runtimes.py (--tflite DIR). LiteRT cannot read ONNX, our
exchange format, so it needs the PyTorch checkpoint (pip install litert-torch ai-edge-litert).

Measured (with scripts/bench_runtimes.py --tflite): LiteRT against ONNX Runtime on the same weights
(BENCHMARKS.md, Runtime comparison).

    nice -n 10 python scripts/research/litert_convert.py runs/atpn68/best.pt /tmp/atpn68-tflite
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    import litert_torch

    from atpn_edge.train.export import load_checkpoint

    model, _ = load_checkpoint(sys.argv[1])
    out = Path(sys.argv[2])
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
