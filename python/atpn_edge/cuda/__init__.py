"""The package's one CUDA layer: the GPU probe (`gpu_status`), the error type (`CudaError`), the
runtime calls of the TensorRT path (`Cuda`: memory, stream, events, graphs), device arrays, the
CUDA kernels, and the frame upload (zero copy on Jetson, the crops' rectangle elsewhere).

Everything goes through the native module ``atpn_edge._cuda`` (cpp/bindings/cuda_module.cpp),
built with the device's nvcc; device.py says why not cuda-python. Nothing here imports the
native module at import time, so ``import atpn_edge.cuda`` works in a CPU-only build.
"""
from __future__ import annotations

from .arrays import DeviceBuffer, check_device_array, device_ptr, stream_handle
from .device import Cuda, DeviceProps
from .errors import CudaError
from .kernels import DeviceKernels, render_heatmap_cuda, warp_crop_batch_cuda
from .probe import gpu_status, native

__all__ = ["CudaError", "Cuda", "DeviceProps", "DeviceBuffer", "DeviceKernels", "check_device_array",
           "device_ptr", "gpu_status", "native", "render_heatmap_cuda", "stream_handle",
           "warp_crop_batch_cuda"]
