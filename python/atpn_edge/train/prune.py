"""A slimmer student started from a trained teacher (structured pruning + layer-wise refit).

The student has the teacher's layer names where it keeps a layer (fewer blocks per stage, a
smaller expansion, no stem block, a learnable shortcut pool). Its starting weights:

1. every tensor whose name and shape match is copied;
2. a block whose expansion shrank keeps the hidden channels that carry the most signal into its
   projection (RMS activation over real crops x the norm of the projection's column);
3. then, layer by layer in forward order, every 1x1 conv is refitted by ridge regression so that,
   on the student's own (already changed) inputs, it reproduces the teacher's output of the same
   layer. This is what absorbs a dropped block: the next block's 1x1 conv learns to make up for
   it, and a projection learns to do without the pruned channels.

Fine-tuning with distillation (`distill.py`) then starts close to the teacher instead of from a
mangled copy.
"""
from __future__ import annotations

import torch
from torch import nn

from .model import ATPN, InvertedResidual, ModelConfig


def _capture(model: nn.Module, names: list[str], images: torch.Tensor, inputs: bool) -> dict[str, torch.Tensor]:
    mods = dict(model.named_modules())
    got: dict[str, torch.Tensor] = {}
    hooks = [mods[n].register_forward_hook(lambda m, i, o, n=n: got.__setitem__(n, (i[0] if inputs else o).detach()))
             for n in names]
    try:
        with torch.no_grad():
            model.eval()
            model(images)
    finally:
        for h in hooks:
            h.remove()
    return got


def _pixels(t: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [P, C] at the flat (n, h, w) positions ``index``."""
    return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])[index]


def _hidden_keep(teacher: ATPN, name: str, hidden: int, images: torch.Tensor) -> torch.Tensor:
    """Indices of the ``hidden`` most useful hidden channels of the teacher's block ``name``."""
    block = dict(teacher.named_modules())[name]
    dw_act = f"{name}.body.1"  # conv_bn(hidden, hidden, 3, groups=hidden): its ReLU output
    h = _capture(teacher, [dw_act], images, inputs=False)[dw_act]
    rms = h.pow(2).mean(dim=(0, 2, 3)).sqrt()
    proj = block.body[2][0].weight.detach()[:, :, 0, 0]  # [cout, hidden]
    proj_norm = proj.norm(dim=0)
    return torch.argsort(rms * proj_norm, descending=True)[:hidden].sort().values


def student_from_teacher(teacher: ATPN, cfg: ModelConfig, images: torch.Tensor, ridge: float = 1e-3,
                         max_pixels: int = 60000, seed: int = 0, refit: bool = True) -> tuple[ATPN, list[str]]:
    """The student of architecture ``cfg`` (eval mode) and a log of what was done per layer.
    ``images``: real network inputs [N, 3, S, S] (a few hundred crops); ``refit=False`` stops
    after the copy and the pruning (steps 1-2)."""
    teacher = teacher.eval()
    student = ATPN(cfg).eval()
    log: list[str] = []
    t_state = teacher.state_dict()
    s_state = student.state_dict()
    copied = {k: v for k, v in t_state.items() if k in s_state and s_state[k].shape == v.shape}
    student.load_state_dict(copied, strict=False)
    t_mods, s_mods = dict(teacher.named_modules()), dict(student.named_modules())
    keep: dict[str, torch.Tensor] = {}  # block name -> kept hidden channels
    for name, mod in s_mods.items():
        if not isinstance(mod, InvertedResidual) or name not in t_mods:
            continue
        tb = t_mods[name]
        if len(mod.body) != 3 or len(tb.body) != 3:
            continue
        hidden, t_hidden = mod.body[0][0].out_channels, tb.body[0][0].out_channels
        if hidden == t_hidden:
            continue
        idx = _hidden_keep(teacher, name, hidden, images)
        keep[name] = idx
        with torch.no_grad():
            for i in (0, 1):  # expand conv_bn and depthwise conv_bn: their output channels
                sc, tc = mod.body[i], tb.body[i]
                w = tc[0].weight[idx]
                sc[0].weight.copy_(w)
                for attr in ("weight", "bias", "running_mean", "running_var"):
                    getattr(sc[1], attr).copy_(getattr(tc[1], attr)[idx])
                sc[1].eps = tc[1].eps
            mod.body[2][0].weight.copy_(tb.body[2][0].weight[:, idx])
            for attr in ("weight", "bias", "running_mean", "running_var"):
                getattr(mod.body[2][1], attr).copy_(getattr(tb.body[2][1], attr))
            mod.body[2][1].eps = tb.body[2][1].eps
        log.append(f"{name}: kept {hidden} of {t_hidden} hidden channels")
    if not refit:
        return student.eval(), log
    # Layer-wise refit of the 1x1 convs, in forward order.
    gen = torch.Generator().manual_seed(seed)
    order = [n for n, m in s_mods.items() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and m.groups == 1
             and n in t_mods and n.startswith("stage1.")]
    t_out = _capture(teacher, order, images, inputs=False)
    for name in order:
        conv = s_mods[name]
        x = _capture(student, [name], images, inputs=True)[name]
        target = t_out[name]
        block = name.rsplit(".body.", 1)[0]
        if block in keep and name.endswith("body.0.0"):  # a pruned block's expand conv: its kept outputs
            target = target[:, keep[block]]
        if target.shape[1] != conv.out_channels or target.shape[2:] != x.shape[2:]:
            log.append(f"{name}: not refitted (shapes differ from the teacher's)")
            continue
        n_pix = x.shape[0] * x.shape[2] * x.shape[3]
        index = torch.randperm(n_pix, generator=gen)[:max_pixels]
        xs, ys = _pixels(x, index).double(), _pixels(target, index).double()
        w0 = conv.weight.detach()[:, :, 0, 0].double()  # [cout, cin]
        before = float(((xs @ w0.T - ys).pow(2).mean() / ys.var(0).mean().clamp(min=1e-12)))
        lam = ridge * float(xs.pow(2).mean()) * xs.shape[0]
        a = xs.T @ xs + lam * torch.eye(xs.shape[1], dtype=torch.float64)
        w = torch.linalg.solve(a, xs.T @ ys + lam * w0.T).T
        after = float(((xs @ w.T - ys).pow(2).mean() / ys.var(0).mean().clamp(min=1e-12)))
        if after < before:
            with torch.no_grad():
                conv.weight.copy_(w.float()[:, :, None, None])
        log.append(f"{name}: relative error {before:.4f} -> {min(before, after):.4f}")
    return student.eval(), log

