"""How a detector network is run, apart from what its outputs mean.

A runner takes the letterboxed input blob and returns the raw outputs; anchors, decoding and NMS
(blazeface.py) are the same whatever runs the network. ``create_runner`` picks the runner for a
backend name, so another backend (a TensorRT engine on a Jetson) is one more branch here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

BACKENDS = ("onnxruntime", "tensorrt")
INPUT_NAME = "input"
OUTPUT_NAMES = ("regressors", "classificators")


@runtime_checkable
class DetectorRunner(Protocol):
    input_size: int  # S of the [1, 3, S, S] input
    num_anchors: int  # N of the outputs
    backend: str

    def run(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """blob f32 [1, 3, S, S] (RGB in [-1, 1]) -> (regressors f32 [N, 16], logits f32 [N])."""
        ...


def create_runner(model_path: "str | Path", backend: str = "onnxruntime", threads: int = 1) -> DetectorRunner:
    """A runner for the detector graph at ``model_path`` (an .onnx file in the shipped layout:
    input ``input`` [1, 3, S, S], outputs ``regressors`` [1, N, 16] and ``classificators`` [1, N, 1])."""
    if backend == "onnxruntime":
        from .onnxruntime_runner import OnnxRuntimeRunner

        return OnnxRuntimeRunner(Path(model_path), threads=threads)
    if backend == "tensorrt":  # a cached engine, built on first use (tensorrt_runner.py)
        from .tensorrt_runner import TensorRTDetectorRunner

        return TensorRTDetectorRunner(Path(model_path))
    raise ValueError(f"unknown detector backend {backend!r}; choose one of {', '.join(BACKENDS)}")
