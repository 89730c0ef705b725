"""Backend "auto": TensorRT where the `tensorrt` module and a CUDA GPU are present, else ONNX
Runtime's CUDA provider where a session really activates it (the GPU build lists it and silently
falls back to the CPU, so the check opens a session), else ONNX Runtime on the CPU."""
from __future__ import annotations

import importlib.util

BACKENDS = ("auto", "tensorrt", "onnxruntime-cuda", "onnxruntime")


def cuda_device_count() -> int:
    """Number of usable CUDA GPUs through cuda-python (0 without the module, a driver or a GPU)."""
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        try:
            from cuda import cudart  # cuda-python < 12.6 layout
        except ImportError:
            return 0
    err, count = cudart.cudaGetDeviceCount()
    return int(count) if int(err) == 0 else 0


def tensorrt_available() -> bool:
    return importlib.util.find_spec("tensorrt") is not None and cuda_device_count() > 0


def onnxruntime_cuda_active(onnx_path: str) -> bool:
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False
    try:
        sess = ort.InferenceSession(onnx_path, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    except Exception:  # a missing CUDA library surfaces here on some builds
        return False
    return sess.get_providers()[0] == "CUDAExecutionProvider"


def choose_backend(requested: str, onnx_path: str) -> str:
    """The backend to use for ``requested`` (one of BACKENDS); raises for an unknown name."""
    if requested not in BACKENDS:
        raise ValueError(f"unknown backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    if requested != "auto":
        return requested
    if tensorrt_available():
        return "tensorrt"
    if onnxruntime_cuda_active(onnx_path):
        return "onnxruntime-cuda"
    return "onnxruntime"
