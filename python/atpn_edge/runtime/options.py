"""Typed options of each backend, checked before anything is opened: an option meant for another
backend, an unknown name or a wrong value fails with a message that names the backend.

`create_pipeline(..., **options)` builds one of these from its keyword arguments; the fields are
the backend's constructor arguments (docs/RUNTIME.md describes them).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

ONNX_PRECISIONS = ("fp32", "int8")
TENSORRT_PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class OnnxRuntimeOptions:
    """ONNX Runtime (CPU or its CUDA provider)."""

    # None: the model's INT8 Q/DQ graphs where it ships them (stage1.int8.onnx, stage2.int8.onnx),
    # else fp32. "fp32" or "int8" ask for one.
    precision: str | None = None
    # Bind each stage's inputs and outputs to preallocated buffers (no copies between stages).
    io_binding: bool = True

    def __post_init__(self) -> None:
        if self.precision is not None and self.precision not in ONNX_PRECISIONS:
            raise ValueError(f"onnxruntime: unknown precision {self.precision!r}; choose {' or '.join(ONNX_PRECISIONS)}")
        if not isinstance(self.io_binding, bool):
            raise TypeError(f"onnxruntime: io_binding must be True or False, got {self.io_binding!r}")


@dataclass(frozen=True)
class TensorRTOptions:
    """TensorRT (engines built on the device; see runtime/tensorrt_backend.py)."""

    precision: str = "fp16"
    cuda_graph: bool = False
    cache_dir: Path | None = None
    calib_dir: Path | None = None
    workspace_mb: int = 256
    engine_max_batch: int | None = None
    # None: zero copy (mapped pinned frames) on integrated GPUs (Jetson), a cropped upload on discrete ones.
    zero_copy: bool | None = None

    def __post_init__(self) -> None:
        if self.precision not in TENSORRT_PRECISIONS:
            raise ValueError(f"tensorrt: unknown precision {self.precision!r}; choose one of {', '.join(TENSORRT_PRECISIONS)}")
        if not isinstance(self.cuda_graph, bool):
            raise TypeError(f"tensorrt: cuda_graph must be True or False, got {self.cuda_graph!r}")
        if self.zero_copy is not None and not isinstance(self.zero_copy, bool):
            raise TypeError(f"tensorrt: zero_copy must be True, False or None, got {self.zero_copy!r}")
        if isinstance(self.workspace_mb, bool) or not isinstance(self.workspace_mb, int) or self.workspace_mb < 1:
            raise ValueError(f"tensorrt: workspace_mb must be a positive int, got {self.workspace_mb!r}")


BACKEND_OPTIONS = {"onnxruntime": OnnxRuntimeOptions, "onnxruntime-cuda": OnnxRuntimeOptions,
                   "tensorrt": TensorRTOptions}
# Test doubles the TensorRT backend accepts beside its options (fake modules, a log sink).
TENSORRT_INJECTIONS = ("log", "trt", "cuda", "device_kernels")


def backend_options(backend: str, options: dict[str, object]) -> tuple[object, dict[str, object]]:
    """(typed options, injections) for ``backend``; raises naming the backend for a wrong name."""
    cls = BACKEND_OPTIONS[backend]
    names = {f.name for f in fields(cls)}
    extra = TENSORRT_INJECTIONS if backend == "tensorrt" else ()
    unknown = [k for k in options if k not in names and k not in extra]
    if unknown:
        others = [b for b, c in BACKEND_OPTIONS.items() if b != backend and any(k in {f.name for f in fields(c)} for k in unknown)]
        hint = f" (it is an option of {', '.join(dict.fromkeys(others))})" if others else ""
        raise ValueError(f"backend {backend!r} has no option {', '.join(map(repr, unknown))}{hint}; "
                         f"it takes {', '.join(sorted(names))}")
    typed = cls(**{k: v for k, v in options.items() if k in names})
    return typed, {k: v for k, v in options.items() if k in extra}
