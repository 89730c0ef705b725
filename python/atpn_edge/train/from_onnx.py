"""A model's exported ONNX weights back in the training architecture (torch): the teacher for
distillation and the starting point of a slimmer student, where no training checkpoint exists.

Every BatchNorm was folded into its conv at export, so the rebuilt BatchNorms first carry only the
folded biases (identity otherwise): exact in eval mode, but in training mode they would normalise
by batch statistics and change the function. `unfold_batchnorm` gives them the running statistics
of real crops (scale = std, shift = mean + bias), so the model computes the same function in eval
mode and about the same in training mode, and fine-tunes from where the shipped model is.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .model import ATPN, ModelConfig


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
            if conv.bias is None and np.any(b != 0):  # a bias-free conv without BatchNorm (the "dwconv" shortcut)
                raise ValueError(f"{node.name}: a bias in the graph, none in the architecture")
            continue
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
        lin.weight.data = torch.from_numpy(np.array(w, dtype=np.float32, order="C"))
        lin.bias.data = torch.from_numpy(init[node.input[2]].copy())


def model_from_onnx(model_dir: Path, cfg: ModelConfig) -> ATPN:
    """``model_dir``'s stage1.onnx and stage2.onnx in the architecture ``cfg`` (eval mode), checked
    against ONNX Runtime on random input."""
    import onnxruntime as ort

    model = ATPN(cfg).eval()
    load_onnx_weights(model.stage1, model_dir / "stage1.onnx")
    load_onnx_weights(model.stage2, model_dir / "stage2.onnx")
    x = torch.randn(2, 3, cfg.input_size, cfg.input_size)
    with torch.no_grad():
        lm, feats = model.stage1(x)
    ref = ort.InferenceSession(str(model_dir / "stage1.onnx"), providers=["CPUExecutionProvider"])
    lo, fo = ref.run(["landmarks", "features"], {"image": x.numpy()})
    err = max(float(np.abs(lm.numpy() - lo).max()), float(np.abs(feats.numpy() - fo).max()))
    if err > 1e-4:
        raise ValueError(f"rebuilt stage 1 differs from {model_dir / 'stage1.onnx'} by {err}: wrong model config?")
    return model


@torch.no_grad()
def conv_output_stats(model: ATPN, images: torch.Tensor, batch: int = 64) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per conv (by module name): the per-channel mean and variance of its output (before its
    BatchNorm) over ``images``, in eval mode."""
    sums: dict[str, list] = {}

    def hook(mod, inp, out, name):
        y = out.double().transpose(0, 1).reshape(out.shape[1], -1)
        acc = sums.setdefault(name, [0.0, 0.0, 0])
        acc[0] = acc[0] + y.sum(1)
        acc[1] = acc[1] + y.pow(2).sum(1)
        acc[2] += y.shape[1]

    hooks = [mod.register_forward_hook(lambda m, i, o, name=name: hook(m, i, o, name))
             for name, mod in model.named_modules() if isinstance(mod, torch.nn.Conv2d)]
    model.eval()
    try:
        for k in range(0, len(images), batch):
            model(images[k:k + batch])
    finally:
        for h in hooks:
            h.remove()
    out = {}
    for name, (s1, s2, n) in sums.items():
        mean = s1 / n
        out[name] = (mean.float(), (s2 / n - mean ** 2).clamp(min=0).float())
    return out


@torch.no_grad()
def unfold_batchnorm(model: ATPN, images: torch.Tensor, eps: float = 1e-5) -> None:
    """Give every BatchNorm that `load_onnx_weights` left as a bias the statistics of its conv's
    output over ``images`` (same eval-mode function; see the module docstring)."""
    stats = conv_output_stats(model, images)
    mods = dict(model.named_modules())
    for name, (mean, var) in stats.items():
        parent, _, idx = name.rpartition(".")
        bn = mods.get(f"{parent}.{int(idx) + 1}") if idx.isdigit() else None
        if not isinstance(bn, torch.nn.BatchNorm2d) or bn.eps != 0.0:
            continue
        std = torch.sqrt(var + eps)
        bn.bias.add_(mean)
        bn.weight.copy_(std)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.eps = eps
