"""GPU availability and the CUDA forms of the kernels.

``gpu_status()`` says whether the CUDA kernels can run here and, if not, why (package built
without CUDA, no driver, no device, no kernel image for this GPU). The CUDA module links the CUDA
runtime statically, so importing it never fails for lack of a driver.

Device memory is passed around as integers (raw pointers) or any object with
``__cuda_array_interface__`` (CuPy, PyTorch, Numba, cuda-python, :class:`DeviceBuffer`), and
streams as integers or objects with ``cuda_stream`` / ``ptr`` / ``handle`` (PyTorch, CuPy). The
kernels only enqueue work: synchronise the stream before reading results on the host.
"""
from __future__ import annotations

import functools
from typing import Any, Optional, Sequence, Tuple

import numpy as np

__all__ = ["gpu_status", "cuda_module", "DeviceBuffer", "device_ptr", "stream_handle",
           "warp_crop_batch_cuda", "render_heatmap_cuda"]


def cuda_module():
    """The ``atpn_edge._cuda`` extension, or ImportError with the reason it is missing."""
    try:
        from . import _cuda
    except ImportError as e:
        raise ImportError("atpn_edge was built without its CUDA module (ATPN_CUDA=OFF, or no nvcc "
                          f"at build time): {e}") from e
    return _cuda


@functools.lru_cache(maxsize=1)
def gpu_status() -> Tuple[bool, str]:
    """(available, reason): whether the CUDA kernels run on this machine, and why not."""
    try:
        cu = cuda_module()
    except ImportError as e:
        return False, str(e)
    try:
        count = cu.device_count()
    except cu.CudaError as e:
        hint = {35: "no NVIDIA driver is loaded, or it is older than the CUDA runtime built in",
                100: "no CUDA-capable device is visible"}.get(_code(e), "the CUDA runtime failed")
        return False, f"no usable GPU: {hint} ({e})"
    if count == 0:
        return False, "no CUDA device found"
    try:
        name, major, minor = cu.device_info()
        # An empty heatmap launch proves the module carries code this GPU can run (the default
        # architectures target Jetson; other GPUs need CMAKE_CUDA_ARCHITECTURES at build time).
        buf = cu.malloc(4)
        try:
            cu.render_heatmap(buf, 1, 0, 1, 1, 1.0, buf, 0)
            cu.device_synchronize()
        finally:
            cu.free(buf)
    except cu.CudaError as e:
        return False, f"CUDA device present but unusable: {e}"
    return True, f"{name} (compute capability {major}.{minor}, {count} device(s))"


def _code(err: Exception) -> int:
    """CUDA error number from a CudaError message ('... (CUDA error 35)')."""
    text = str(err)
    try:
        return int(text.rsplit("CUDA error ", 1)[1].rstrip(")"))
    except (IndexError, ValueError):
        return -1


def device_ptr(obj: Any) -> int:
    """Device address of an int or a ``__cuda_array_interface__`` object."""
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return int(obj)
    cai = getattr(obj, "__cuda_array_interface__", None)
    if cai is None:
        raise TypeError(f"expected a device pointer (int) or an object with "
                        f"__cuda_array_interface__, got {type(obj).__name__}")
    return int(cai["data"][0])


def _check_device_array(obj: Any, name: str, typestr: str, shape: Tuple[int, ...]) -> None:
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
        self._cu = cuda_module()
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


def warp_crop_batch_cuda(frame: Any, affines: np.ndarray, size: int, mean: Sequence[float],
                         std: Sequence[float], out: Any, stream: Any = 0, *,
                         frame_shape: Optional[Tuple[int, int]] = None,
                         staging: Optional[DeviceBuffer] = None) -> None:
    """Enqueue the batched crop on ``stream``, writing f32 [N,3,S,S] at device ``out``.

    ``frame`` is a host numpy BGR u8 [H,W,3] (copied to ``staging``, or to a temporary buffer
    that costs a stream synchronisation), a device array with ``__cuda_array_interface__``, or a
    raw device pointer together with ``frame_shape=(H, W)`` (C-contiguous). ``affines`` stay on
    the host (they travel as kernel arguments). Same semantics as ``kernels.warp_crop_batch``.
    """
    from .core.validate import check_affines as _affines, check_size as _size, check_triple as _triple

    cu = cuda_module()
    a = _affines(affines, batched=True)
    s = _size(size)
    m, sd = _triple(mean, "mean"), _triple(std, "std")
    st = stream_handle(stream)
    temp = None
    if isinstance(frame, np.ndarray):
        from .core.validate import check_frame as _frame
        host = _frame(frame)
        if staging is None:
            staging = temp = DeviceBuffer(host.shape, np.uint8)
        if staging.shape != host.shape or staging.dtype != np.uint8:
            raise ValueError(f"staging must be uint8 {host.shape}, got {staging.dtype} {staging.shape}")
        staging.upload(host, st)
        frame, (h, w) = staging, host.shape[:2]
    elif hasattr(frame, "__cuda_array_interface__"):
        shape = tuple(frame.__cuda_array_interface__["shape"])
        if len(shape) != 3 or shape[2] != 3:
            raise ValueError(f"frame must have shape (H, W, 3), got {shape}")
        _check_device_array(frame, "frame", "|u1", shape)
        h, w = shape[:2]
    else:
        if frame_shape is None:
            raise ValueError("frame_shape=(H, W) is required with a raw device pointer")
        h, w = (int(v) for v in frame_shape)
    if h <= 0 or w <= 0:
        raise ValueError(f"frame is empty: {h}x{w}")
    _check_device_array(out, "out", "<f4", (a.shape[0], 3, s, s))
    try:
        cu.warp_crop_batch(device_ptr(frame), h, w, 3 * w, a, s, m, sd, device_ptr(out), st)
    finally:
        if temp is not None:
            cu.stream_synchronize(st)
            temp.close()


def render_heatmap_cuda(landmarks: Any, height: int, width: int, sigma: float, out: Any,
                        stream: Any = 0, *, shape: Optional[Tuple[int, int]] = None) -> None:
    """Enqueue heatmap rendering on ``stream``, writing f32 [N,1,H,W] at device ``out``.

    ``landmarks``: a device f32 [N,K,2] (``__cuda_array_interface__``, or a raw pointer with
    ``shape=(N, K)``), or a host array (validated like the CPU form, uploaded with a stream
    synchronisation). Device landmarks are not checked for NaN: non-finite points draw nothing.
    """
    from .core.validate import check_size as _size

    cu = cuda_module()
    h, w = _size(height), _size(width)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be finite and > 0, got {sigma}")
    st = stream_handle(stream)
    temp = None
    if isinstance(landmarks, np.ndarray):
        lm = np.ascontiguousarray(landmarks, dtype=np.float32)
        if lm.ndim != 3 or lm.shape[2] != 2:
            raise ValueError(f"landmarks must have shape (N, K, 2), got {lm.shape}")
        if not np.isfinite(lm).all():
            raise ValueError("landmarks contain NaN or inf")
        n, k = lm.shape[:2]
        landmarks = temp = DeviceBuffer(lm.shape, np.float32).upload(lm, st)
    elif hasattr(landmarks, "__cuda_array_interface__"):
        lshape = tuple(landmarks.__cuda_array_interface__["shape"])
        if len(lshape) != 3 or lshape[2] != 2:
            raise ValueError(f"landmarks must have shape (N, K, 2), got {lshape}")
        _check_device_array(landmarks, "landmarks", "<f4", lshape)
        n, k = lshape[:2]
    else:
        if shape is None:
            raise ValueError("shape=(N, K) is required with a raw landmarks pointer")
        n, k = (int(v) for v in shape)
    _check_device_array(out, "out", "<f4", (n, 1, h, w))
    try:
        cu.render_heatmap(device_ptr(landmarks), n, k, h, w, float(sigma), device_ptr(out), st)
    finally:
        if temp is not None:
            cu.stream_synchronize(st)
            temp.close()
