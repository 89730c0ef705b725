"""The few CUDA runtime calls the TensorRT pipeline needs (device and pinned buffers, one stream,
async copies, graph capture), through cuda-python's ``cudart``. Every call checks its error code
and raises `CudaError` with the call's name, so a failure says what failed.

Device pointers and stream handles are plain ints here, as TensorRT's Python API takes them.
Tests substitute a fake with the same methods (tests/fakes/cuda.py).
"""
from __future__ import annotations

import ctypes

import numpy as np


class CudaError(RuntimeError):
    pass


def _cudart():
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        try:
            from cuda import cudart  # cuda-python < 12.6
        except ImportError:
            raise CudaError("the TensorRT backend needs cuda-python: pip install 'atpn-edge[cuda]'") from None
    return cudart


class Cuda:
    def __init__(self, device: int = 0) -> None:
        self._rt = _cudart()
        self.device = device
        self._check("cudaSetDevice", self._rt.cudaSetDevice(device))

    def _check(self, name: str, result):
        err, *values = result if isinstance(result, tuple) else (result,)
        if int(err) != 0:
            _, text = self._rt.cudaGetErrorString(err)
            msg = text.decode() if isinstance(text, bytes) else str(text)
            raise CudaError(f"{name} failed: {msg} (error {int(err)})")
        return values[0] if len(values) == 1 else values

    # -- device facts (engine cache key) --
    def device_name(self) -> str:
        prop = self._check("cudaGetDeviceProperties", self._rt.cudaGetDeviceProperties(self.device))
        name = prop.name
        return (name.split(b"\0")[0].decode() if isinstance(name, bytes) else str(name)).strip()

    def compute_capability(self) -> tuple[int, int]:
        prop = self._check("cudaGetDeviceProperties", self._rt.cudaGetDeviceProperties(self.device))
        return int(prop.major), int(prop.minor)

    # -- memory --
    def malloc(self, nbytes: int) -> int:
        return int(self._check("cudaMalloc", self._rt.cudaMalloc(max(int(nbytes), 1))))

    def free(self, ptr: int) -> None:
        self._check("cudaFree", self._rt.cudaFree(ptr))

    def host_array(self, shape: tuple[int, ...], dtype) -> tuple[np.ndarray, int]:
        """A numpy array in pinned host memory (async copies need it) and its pointer."""
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        ptr = int(self._check("cudaMallocHost", self._rt.cudaMallocHost(max(nbytes, 1))))
        raw = (ctypes.c_uint8 * max(nbytes, 1)).from_address(ptr)
        return np.frombuffer(raw, dtype=dtype, count=int(np.prod(shape))).reshape(shape), ptr

    def free_host(self, ptr: int) -> None:
        self._check("cudaFreeHost", self._rt.cudaFreeHost(ptr))

    # -- stream and copies --
    def stream_create(self) -> int:
        return int(self._check("cudaStreamCreate", self._rt.cudaStreamCreate()))

    def stream_destroy(self, stream: int) -> None:
        self._check("cudaStreamDestroy", self._rt.cudaStreamDestroy(stream))

    def synchronize(self, stream: int) -> None:
        self._check("cudaStreamSynchronize", self._rt.cudaStreamSynchronize(stream))

    def htod_async(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._check("cudaMemcpyAsync(H2D)", self._rt.cudaMemcpyAsync(dst, src, nbytes, kind, stream))

    def dtoh_async(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self._check("cudaMemcpyAsync(D2H)", self._rt.cudaMemcpyAsync(dst, src, nbytes, kind, stream))

    # -- events: GPU time between two points of the stream --
    def event_create(self) -> object:
        return self._check("cudaEventCreate", self._rt.cudaEventCreate())

    def event_record(self, event: object, stream: int) -> None:
        self._check("cudaEventRecord", self._rt.cudaEventRecord(event, stream))

    def event_elapsed_ms(self, start: object, end: object) -> float:
        return float(self._check("cudaEventElapsedTime", self._rt.cudaEventElapsedTime(start, end)))

    def event_destroy(self, event: object) -> None:
        self._check("cudaEventDestroy", self._rt.cudaEventDestroy(event))

    # -- graphs: capture one per-frame sequence, replay it with one launch --
    def begin_capture(self, stream: int) -> None:
        mode = self._rt.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal
        self._check("cudaStreamBeginCapture", self._rt.cudaStreamBeginCapture(stream, mode))

    def end_capture(self, stream: int) -> object:
        graph = self._check("cudaStreamEndCapture", self._rt.cudaStreamEndCapture(stream))
        exec_ = self._check("cudaGraphInstantiate", self._rt.cudaGraphInstantiate(graph, 0))
        self._check("cudaGraphDestroy", self._rt.cudaGraphDestroy(graph))
        return exec_

    def graph_launch(self, graph_exec: object, stream: int) -> None:
        self._check("cudaGraphLaunch", self._rt.cudaGraphLaunch(graph_exec, stream))

    def graph_destroy(self, graph_exec: object) -> None:
        self._check("cudaGraphExecDestroy", self._rt.cudaGraphExecDestroy(graph_exec))
