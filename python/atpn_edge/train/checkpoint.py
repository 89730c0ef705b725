"""Checkpoint files of the training loop, read without running code from them.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (weights, optimiser
state, configs as dicts, metrics), so ``torch.load(..., weights_only=True)`` reads it: a file from
elsewhere cannot execute code while it loads. Anything else in a file is refused with its name.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch


def read_checkpoint(path: str | Path, need: tuple[str, ...] = ("model",)) -> dict:
    """The checkpoint dict of ``path``; ``need`` are keys it must have."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(f"{path}: holds objects other than tensors and plain values; refusing to "
                         f"unpickle them ({str(exc).splitlines()[0]})") from None
    except (RuntimeError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable torch checkpoint ({exc})") from None
    if not isinstance(ckpt, dict):
        raise ValueError(f"{path}: not an atpn-edge training checkpoint (a {type(ckpt).__name__}, not a dict)")
    missing = [k for k in need if k not in ckpt]
    if missing:
        raise ValueError(f"{path}: not an atpn-edge training checkpoint (no {', '.join(map(repr, missing))})")
    return ckpt


def write_checkpoint(ckpt: dict, path: str | Path) -> None:
    """Save ``ckpt`` through a temporary file, so an interrupted save never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(ckpt, tmp)
    tmp.replace(path)
