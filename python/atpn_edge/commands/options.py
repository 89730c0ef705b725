"""Options several commands share, declared once: the model, the backend and the CPU threads.

Values are checked when the command line is parsed, so a bad one stops the command before a
model is loaded, with argparse's usual one-line error naming the option.
"""
from __future__ import annotations

import argparse
import math

from ..runtime.select import BACKENDS


MODEL_HELP = "model directory or name (default: the shipped atpn68)"


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (0 usually means "no limit" / "off")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def open_unit_float(text: str) -> float:
    """argparse type: a number strictly between 0 and 1 (a score threshold)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return value


def add_model_options(p: argparse.ArgumentParser, model: bool = True, backend: bool = True, threads: bool = True) -> None:
    """--model, --backend and --threads (each unless turned off)."""
    if model:
        p.add_argument("--model", default=None, help=MODEL_HELP)
    if backend:
        p.add_argument("--backend", default="auto", choices=BACKENDS,
                       help="auto (TensorRT, else ONNX Runtime CUDA, else CPU), tensorrt, onnxruntime-cuda, "
                            "onnxruntime (default: auto)")
    if threads:
        p.add_argument("--threads", type=positive_int, default=1, metavar="N",
                       help="CPU threads for ONNX Runtime (default: 1)")
