"""Weight averaging of a run's last epochs (SWA-style), at no runtime cost; on our runs it has not
beaten the best single epoch (engines/atpn68/MODEL_CARD.md), so it is a tool to try, not a default step.

Averaged weights need fresh BatchNorm statistics (the average of the epochs' running stats does
not describe the averaged network), so ``recalibrate_batchnorm`` re-estimates them on training
crops with cumulative averaging.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import torch
from torch import nn

from .checkpoint import read_checkpoint


def average_checkpoints(paths: list[Path]) -> dict:
    """The last checkpoint with its ``model`` weights replaced by the mean over ``paths``."""
    if not paths:
        raise ValueError("average_checkpoints needs at least one checkpoint")
    ckpts = [read_checkpoint(p, need=("model", "model_config")) for p in paths]
    keys = ckpts[-1]["model"].keys()
    for p, c in zip(paths, ckpts):
        if c["model"].keys() != keys or c.get("model_config") != ckpts[-1].get("model_config"):
            raise ValueError(f"{p}: not the same architecture as {paths[-1]}")
    out = dict(ckpts[-1])
    out["model"] = {k: (torch.stack([c["model"][k] for c in ckpts]).mean(0) if ckpts[-1]["model"][k].is_floating_point()
                        else ckpts[-1]["model"][k]) for k in keys}
    out["averaged_from"] = [str(p) for p in paths]
    return out


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, images: Iterable[torch.Tensor]) -> int:
    """Re-estimate every BatchNorm's running mean/var from ``images`` batches; returns the count."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
    model.train()
    n = 0
    for x in images:
        model(x)
        n += 1
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()
    if n == 0:
        raise ValueError("recalibrate_batchnorm got no batches")
    return n
