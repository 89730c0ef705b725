#!/usr/bin/env python3
"""Convert a model's two stages to LiteRT (.tflite) with litert-torch, offline, for the runtime
comparison in scripts/bench_runtimes.py (--tflite DIR). LiteRT cannot read ONNX, our exchange
format, so the stages go through PyTorch: either a training checkpoint, or (``--onnx``) the
exported ONNX graphs' weights loaded back into the architecture of a training config (every
BatchNorm was folded into its conv at export, so the BatchNorms become identities carrying the
folded biases; the script checks the rebuilt stages against ONNX Runtime).

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

import numpy as np
import torch


def load_onnx_weights(stage: torch.nn.Module, path: Path) -> None:
    """Conv and Gemm weights of ``path`` into ``stage`` in graph order (the export's order)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    mods = list(stage.modules())
    convs = [m for m in mods if isinstance(m, torch.nn.Conv2d)]
    nodes = [n for n in graph.node if n.op_type == "Conv"]
    if len(nodes) != len(convs):
        raise ValueError(f"{path}: {len(nodes)} convs, the config's architecture has {len(convs)}")
    for node, conv in zip(nodes, convs):
        w = init[node.input[1]]
        b = init[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
        if tuple(conv.weight.shape) != w.shape:
            raise ValueError(f"{node.name}: weight {w.shape}, architecture {tuple(conv.weight.shape)}")
        conv.weight.data = torch.from_numpy(w.copy())
        bn = mods[mods.index(conv) + 1]
        if not isinstance(bn, torch.nn.BatchNorm2d):
            raise ValueError(f"{node.name}: no BatchNorm after the conv in the architecture")
        bn.weight.data.fill_(1.0)
        bn.bias.data = torch.from_numpy(b.copy())
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0)
        bn.eps = 0.0
    linears = [m for m in mods if isinstance(m, torch.nn.Linear)]
    for node, lin in zip([n for n in graph.node if n.op_type == "Gemm"], linears):
        w = init[node.input[1]]
        if not any(a.name == "transB" and a.i == 1 for a in node.attribute):
            w = w.T
        lin.weight.data = torch.from_numpy(np.ascontiguousarray(w))
        lin.bias.data = torch.from_numpy(init[node.input[2]].copy())


def model_from_onnx(model_dir: Path, config: Path):
    import onnxruntime as ort

    from atpn_edge.train.config import load_config
    from atpn_edge.train.model import ATPN, ModelConfig

    cfg = load_config(config).model
    model = ATPN(cfg if isinstance(cfg, ModelConfig) else ModelConfig.from_dict(cfg)).eval()
    load_onnx_weights(model.stage1, model_dir / "stage1.onnx")
    load_onnx_weights(model.stage2, model_dir / "stage2.onnx")
    x = torch.randn(2, 3, model.cfg.input_size, model.cfg.input_size)
    with torch.no_grad():
        lm, feats = model.stage1(x)
    ref = ort.InferenceSession(str(model_dir / "stage1.onnx"), providers=["CPUExecutionProvider"])
    lo, fo = ref.run(["landmarks", "features"], {"image": x.numpy()})
    err = max(float(np.abs(lm.numpy() - lo).max()), float(np.abs(feats.numpy() - fo).max()))
    if err > 1e-4:
        raise ValueError(f"rebuilt stage 1 differs from {model_dir / 'stage1.onnx'} by {err}: wrong --config?")
    return model


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
