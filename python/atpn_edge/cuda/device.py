"""The CUDA runtime calls the TensorRT pipeline, the engine builder and the INT8 calibrator need
(device facts, device/pinned/mapped memory, a non-blocking stream, async copies, timing events,
graph capture), through the package's own native module.

Why the native module and not cuda-python: it is compiled on the device by the device's own nvcc,
so its CUDA runtime always matches the driver (a cuda-python wheel links its runtime statically
and must be pinned to the JetPack line, or it fails with error 35); it adds no dependency; and
the kernels, the memory and the stream are then one runtime, tested by one set of tests. Streams,
events and graphs are driver objects, so TensorRT (its own runtime) uses them as they are.

Pointers and handles are plain ints, as TensorRT's Python API takes them. Tests substitute a fake
with the same methods (tests/fakes/cuda.py).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import numpy as np

from .probe import native


@dataclass(frozen=True)
class DeviceProps:
    name: str
    major: int
    minor: int
    multiprocessors: int
    integrated: bool  # Jetson: the GPU shares the host's memory
    can_map_host_memory: bool
    total_memory: int  # bytes

    @property
    def compute_capability(self) -> str:
        return f"{self.major}.{self.minor}"


def host_view(ptr: int, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A numpy array over host memory at ``ptr`` (pinned memory this layer allocated)."""
    count = int(np.prod(shape))
    nbytes = max(count * np.dtype(dtype).itemsize, 1)
    raw = (ctypes.c_uint8 * nbytes).from_address(ptr)
    return np.frombuffer(raw, dtype=dtype, count=count).reshape(shape)


class Cuda:
    """The current CUDA device through ``atpn_edge._cuda``; every call raises CudaError naming
    the failed runtime call and its message."""

    def __init__(self) -> None:
        self._cu = native()
        p = self._cu.device_props()
        self.props = DeviceProps(str(p["name"]).strip(), int(p["major"]), int(p["minor"]),
                                 int(p["multiprocessors"]), bool(p["integrated"]),
                                 bool(p["can_map_host_memory"]), int(p["total_memory"]))

    # -- device facts (engine cache key, upload strategy) --
    def device_name(self) -> str:
        return self.props.name

    def compute_capability(self) -> tuple[int, int]:
        return self.props.major, self.props.minor

    def mem_info(self) -> tuple[int, int]:
        """(free, total) device memory in bytes."""
        free, total = self._cu.mem_get_info()
        return int(free), int(total)

    # -- memory --
    def malloc(self, nbytes: int) -> int:
        return int(self._cu.malloc(max(int(nbytes), 1)))

    def free(self, ptr: int) -> None:
        self._cu.free(ptr)

    def host_array(self, shape: tuple[int, ...], dtype: Any) -> tuple[np.ndarray, int]:
        """A numpy array in pinned host memory (async copies need it) and its pointer."""
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        ptr = int(self._cu.malloc_host(max(nbytes, 1)))
        return host_view(ptr, shape, dtype), ptr

    def mapped_array(self, shape: tuple[int, ...], dtype: Any) -> tuple[np.ndarray, int, int]:
        """Pinned host memory mapped for the device: (array, host pointer, device pointer).
        On an integrated GPU kernels read it in place; free it with ``free_host(host pointer)``."""
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        host, dev = self._cu.host_alloc_mapped(max(nbytes, 1))
        return host_view(int(host), shape, dtype), int(host), int(dev)

    def free_host(self, ptr: int) -> None:
        self._cu.free_host(ptr)

    # -- stream and copies --
    def stream_create(self) -> int:
        """A non-blocking stream: it never waits for work on the legacy default stream."""
        return int(self._cu.stream_create())

    def stream_flags(self, stream: int) -> int:
        return int(self._cu.stream_flags(stream))

    def stream_destroy(self, stream: int) -> None:
        self._cu.stream_destroy(stream)

    def synchronize(self, stream: int) -> None:
        self._cu.stream_synchronize(stream)

    def htod_async(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        self._cu.memcpy_h2d_ptr_async(dst, src, nbytes, stream)

    def dtoh_async(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        self._cu.memcpy_d2h_ptr_async(dst, src, nbytes, stream)

    def htod2d_async(self, dst: int, dpitch: int, src: int, spitch: int, width: int, height: int,
                     stream: int) -> None:
        """Copy ``height`` rows of ``width`` bytes (a rectangle of a pinned frame)."""
        self._cu.memcpy2d_h2d_async(dst, dpitch, src, spitch, width, height, stream)

    def clear_error(self) -> int:
        """Return and clear this thread's last CUDA error (after a failed capture)."""
        return int(self._cu.get_last_error())

    # -- events: GPU time between two points of the stream --
    def event_create(self) -> int:
        return int(self._cu.event_create())

    def event_record(self, event: int, stream: int) -> None:
        self._cu.event_record(event, stream)

    def event_elapsed_ms(self, start: int, end: int) -> float:
        return float(self._cu.event_elapsed_ms(start, end))

    def event_destroy(self, event: int) -> None:
        self._cu.event_destroy(event)

    # -- graphs: capture one per-frame sequence, replay it with one launch --
    def begin_capture(self, stream: int) -> None:
        self._cu.begin_capture(stream)

    def end_capture(self, stream: int) -> int:
        """Ends the capture in every case; raises CudaError when it cannot become a graph."""
        return int(self._cu.end_capture(stream))

    def graph_launch(self, graph: int, stream: int) -> None:
        self._cu.graph_launch(graph, stream)

    def graph_destroy(self, graph: int) -> None:
        self._cu.graph_destroy(graph)
