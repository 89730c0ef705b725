"""Device memory as the CUDA kernels take it: raw pointers (ints) or any object with
``__cuda_array_interface__`` (CuPy, PyTorch, Numba, :class:`DeviceBuffer`); streams as ints or
objects with ``cuda_stream`` / ``ptr`` / ``handle`` (PyTorch, CuPy, cuda-python's handles)."""
from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

from .probe import native


def device_ptr(obj: Any) -> int:
    """Device address of an int or a ``__cuda_array_interface__`` object."""
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return int(obj)
    cai = getattr(obj, "__cuda_array_interface__", None)
    if cai is None:
        raise TypeError(f"expected a device pointer (int) or an object with "
                        f"__cuda_array_interface__, got {type(obj).__name__}")
    return int(cai["data"][0])


def check_device_array(obj: Any, name: str, typestr: str, shape: Tuple[int, ...]) -> None:
    """Shape/dtype/contiguity checks for interface objects (raw ints cannot be checked)."""
    cai = getattr(obj, "__cuda_array_interface__", None)
    if cai is None:
        return
    if np.dtype(cai["typestr"]) != np.dtype(typestr):
        raise TypeError(f"{name} must have dtype {np.dtype(typestr)}, got {np.dtype(cai['typestr'])}")
    if tuple(cai["shape"]) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(cai['shape'])}")
    strides = cai.get("strides")
    if strides is not None:
        itemsize = np.dtype(typestr).itemsize
        want = tuple(int(np.prod(shape[i + 1:])) * itemsize for i in range(len(shape)))
        if tuple(strides) != want:
            raise ValueError(f"{name} must be C-contiguous on the device")


def stream_handle(stream: Any) -> int:
    """cudaStream_t of an int (0 = default stream), a PyTorch or a CuPy stream."""
    if stream is None:
        return 0
    if isinstance(stream, (int, np.integer)) and not isinstance(stream, bool):
        return int(stream)
    for attr in ("cuda_stream", "ptr", "handle"):
        if hasattr(stream, attr):
            return int(getattr(stream, attr))
    return int(stream)  # cuda-python's CUstream / cudaStream_t support int()


class DeviceBuffer:
    """Owned device allocation with ``__cuda_array_interface__`` (freed by ``close()`` or GC)."""

    def __init__(self, shape: Sequence[int], dtype: Any = np.float32) -> None:
        self._cu = native()
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.nbytes = int(np.prod(self.shape)) * self.dtype.itemsize
        self.ptr = self._cu.malloc(max(self.nbytes, 1))

    @property
    def __cuda_array_interface__(self) -> dict:
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.ptr, False),
                "version": 3, "strides": None}

    def upload(self, host: np.ndarray, stream: Any = 0) -> "DeviceBuffer":
        host = np.ascontiguousarray(host, dtype=self.dtype)
        if host.shape != self.shape:
            raise ValueError(f"upload: expected shape {self.shape}, got {host.shape}")
        self._cu.memcpy_h2d_async(self.ptr, host, self.nbytes, stream_handle(stream))
        return self

    def download(self, stream: Any = 0) -> np.ndarray:
        """Copy to a new host array and synchronise the stream."""
        out = np.empty(self.shape, self.dtype)
        s = stream_handle(stream)
        self._cu.memcpy_d2h_async(out, self.ptr, self.nbytes, s)
        self._cu.stream_synchronize(s)
        return out

    def close(self) -> None:
        if getattr(self, "ptr", 0):
            self._cu.free(self.ptr)
            self.ptr = 0

    def __enter__(self) -> "DeviceBuffer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the runtime may be gone already
            pass
