"""The CUDA crop and heatmap kernels: a checked form for callers with their own device arrays
(``warp_crop_batch_cuda``, ``render_heatmap_cuda``: same semantics as ``atpn_edge.kernels``) and
the raw form the TensorRT pipeline calls every frame (`DeviceKernels`: pointers and a stream as
ints, inputs validated once at the pipeline's boundary). The kernels only enqueue work:
synchronise the stream before reading results on the host."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np

from ..core.validate import check_affines, check_frame, check_heatmap_size, check_size, check_triple
from .arrays import DeviceBuffer, check_device_array, device_ptr, stream_handle
from .probe import native


class DeviceKernels:
    """The kernels as the TensorRT pipeline calls them; a fake stands in for it in tests
    (tests/fakes/cuda.py)."""

    def __init__(self) -> None:
        try:
            self._m = native()
        except ImportError as exc:
            raise RuntimeError(f"the CUDA kernels are not built: reinstall with nvcc on PATH (`pip "
                               f"install .` on the Jetson, docs/JETSON.md) ({exc})") from None

    def warp_crop_batch(self, frame: int, height: int, width: int, stride: int, affines: np.ndarray,
                        size: int, mean: tuple[float, float, float], std: tuple[float, float, float],
                        out: int, stream: int, origin: tuple[int, int] | None = None) -> None:
        """Crops for frame->crop ``affines`` [N, 2, 3] (host); they become kernel arguments.
        ``frame`` holds pixel (0, 0) of a whole frame, or pixel ``origin`` of the rectangle the
        crops read (frame_upload.py), rows ``stride`` bytes apart."""
        self._m.warp_crop_batch(frame, height, width, stride, affines, size, mean, std, out, stream,
                                None if origin is None else tuple(origin))

    def render_heatmap(self, landmarks: int, n: int, k: int, height: int, width: int, sigma: float,
                       out: int, stream: int) -> None:
        """Non-finite landmarks draw nothing (device data is not checked)."""
        self._m.render_heatmap(landmarks, n, k, height, width, float(sigma), out, stream)


def _leading_dims(array: Any, name: str, typestr: str, last: int, layout: str,
                  raw_dims: Optional[Tuple[int, int]], raw_option: str) -> Tuple[int, int]:
    """The first two sides of a device array [A, B, last]: from its ``__cuda_array_interface__``
    (shape and dtype checked), or ``raw_dims`` for a raw device pointer."""
    if hasattr(array, "__cuda_array_interface__"):
        shape = tuple(array.__cuda_array_interface__["shape"])
        if len(shape) != 3 or shape[2] != last:
            raise ValueError(f"{name} must have shape {layout}, got {shape}")
        check_device_array(array, name, typestr, shape)
        return int(shape[0]), int(shape[1])
    if raw_dims is None:
        raise ValueError(f"{raw_option} is required with a raw {name} pointer")
    a, b = (int(v) for v in raw_dims)
    return a, b


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
    cu = native()
    a = check_affines(affines, batched=True)
    s = check_size(size)
    m, sd = check_triple(mean, "mean"), check_triple(std, "std")
    st = stream_handle(stream)
    temp = None
    if isinstance(frame, np.ndarray):
        host = check_frame(frame)
        if staging is None:
            staging = temp = DeviceBuffer(host.shape, np.uint8)
        if staging.shape != host.shape or staging.dtype != np.uint8:
            raise ValueError(f"staging must be uint8 {host.shape}, got {staging.dtype} {staging.shape}")
        staging.upload(host, st)
        frame, (h, w) = staging, host.shape[:2]
    else:
        h, w = _leading_dims(frame, "frame", "|u1", 3, "(H, W, 3)", frame_shape, "frame_shape=(H, W)")
    if h <= 0 or w <= 0:
        raise ValueError(f"frame is empty: {h}x{w}")
    check_device_array(out, "out", "<f4", (a.shape[0], 3, s, s))
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
    synchronisation). Device landmarks are not checked: non-finite points draw nothing.
    """
    cu = native()
    h, w = check_heatmap_size(height, width)
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
    else:
        n, k = _leading_dims(landmarks, "landmarks", "<f4", 2, "(N, K, 2)", shape, "shape=(N, K)")
    check_device_array(out, "out", "<f4", (n, 1, h, w))
    try:
        cu.render_heatmap(device_ptr(landmarks), n, k, h, w, float(sigma), device_ptr(out), st)
    finally:
        if temp is not None:
            cu.stream_synchronize(st)
            temp.close()
