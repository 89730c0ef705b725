"""Backend "auto": TensorRT where the `tensorrt` module imports and the package's CUDA module
runs on a GPU, else ONNX Runtime's CUDA provider where a session really activates it (the GPU
build lists it and silently falls back to the CPU, so the check opens a session), else ONNX
Runtime on the CPU. Every choice carries the reasons the faster backends were not used, so a
fallback is never silent: the pipeline keeps them (``backend_reason``), the CLI prints them in
its JSON summary, and a TensorRT that is installed but unusable is logged as a warning."""
from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass

BACKENDS = ("auto", "tensorrt", "onnxruntime-cuda", "onnxruntime")
log = logging.getLogger("atpn_edge.runtime")


@dataclass(frozen=True)
class BackendChoice:
    backend: str
    reason: str  # why this backend: for "auto", why each faster one was not used


def tensorrt_status() -> tuple[bool, str]:
    """(usable, reason): TensorRT imports and the CUDA kernels run on a GPU, or why not."""
    if importlib.util.find_spec("tensorrt") is None:
        return False, ("the tensorrt module is not installed (on a Jetson it comes with JetPack: "
                       "create the venv with --system-site-packages)")
    try:
        trt = importlib.import_module("tensorrt")
    except Exception as exc:  # a broken install raises anything from ImportError to OSError
        return False, f"import tensorrt failed: {type(exc).__name__}: {exc}"
    from ..cuda import gpu_status

    ok, why = gpu_status()
    if not ok:
        return False, f"TensorRT {getattr(trt, '__version__', '?')} is installed but {why}"
    return True, f"TensorRT {getattr(trt, '__version__', '?')} on {why}"


def tensorrt_available() -> bool:
    return tensorrt_status()[0]


def onnxruntime_cuda_status(onnx_path: str) -> tuple[bool, str]:
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False, "this ONNX Runtime build has no CUDA provider"
    try:
        sess = ort.InferenceSession(onnx_path, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    except Exception as exc:  # a missing CUDA library surfaces here on some builds
        return False, f"ONNX Runtime's CUDA provider failed to start ({exc})"
    if sess.get_providers()[0] != "CUDAExecutionProvider":
        return False, "ONNX Runtime's CUDA provider did not activate (no usable GPU or CUDA libraries)"
    return True, "ONNX Runtime's CUDA provider is active"


def onnxruntime_cuda_active(onnx_path: str) -> bool:
    return onnxruntime_cuda_status(onnx_path)[0]


def select_backend(requested: str, onnx_path: str) -> BackendChoice:
    """The backend for ``requested`` (one of BACKENDS) and why; raises for an unknown name."""
    if requested not in BACKENDS:
        raise ValueError(f"unknown backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    if requested != "auto":
        return BackendChoice(requested, "requested")
    ok, trt_why = tensorrt_status()
    if ok:
        return BackendChoice("tensorrt", trt_why)
    # Installed but unusable is the surprising case (a mismatched driver, a CPU-only build of
    # this package): say it loudly. Not installed at all is the normal CPU machine.
    (log.warning if importlib.util.find_spec("tensorrt") is not None else log.info)(
        "backend auto: TensorRT not used: %s", trt_why)
    ok, ort_why = onnxruntime_cuda_status(onnx_path)
    if ok:
        return BackendChoice("onnxruntime-cuda", f"TensorRT not used: {trt_why}")
    return BackendChoice("onnxruntime", f"TensorRT not used: {trt_why}; CUDA provider not used: {ort_why}")


def choose_backend(requested: str, onnx_path: str) -> str:
    """The backend name only (see `select_backend` for the reason)."""
    return select_backend(requested, onnx_path).backend
