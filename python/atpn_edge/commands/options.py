"""Options several commands share, declared once: the model, the backend and the CPU threads.

Values are checked when the command line is parsed, so a bad one stops the command before a
model is loaded, with argparse's usual one-line error naming the option.
"""
from __future__ import annotations

import argparse

from ..runtime.select import BACKENDS
from .arg_types import non_negative_int, open_unit_interval, positive_int  # noqa: F401  (re-exported)

open_unit_float = open_unit_interval  # the name other commands used


MODEL_HELP = "model directory or name (default: the shipped atpn68s; atpn68: the larger network)"


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
