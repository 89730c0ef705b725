"""Getting a host frame to the crop kernel with as little copying as the GPU allows.

- Integrated GPU (Jetson: ``cudaDeviceProp.integrated``): the frame goes into mapped pinned
  memory, which the kernel reads in place; no device copy at all.
- Discrete GPU: only the rectangle of the frame that the crops sample is copied (one 2D copy),
  instead of the whole frame; for a face in a 1080p frame that is a few percent of it.

In both cases only that rectangle is copied on the host too. The kernel receives a pointer that
addresses pixel (0, 0) of the full frame, rows ``stride`` bytes apart, and the full frame's size,
so its coordinates, border tests and results are exactly those of a whole-frame upload: the
rectangle holds every pixel a bilinear tap inside the frame can touch (taps outside the frame
read nothing), with a margin for float rounding, so no other address is ever read. (On a discrete
GPU the kernel gets the rectangle's origin and addresses pixel (x, y) at
``rect + (y - y0) * pitch + 3 (x - x0)``.)
"""
from __future__ import annotations

from typing import Any

import numpy as np

RECT_MARGIN = 2  # pixels around the sampled area: covers float32 rounding of the coordinates


def crop_source_rect(affines: np.ndarray, size: int, height: int, width: int,
                     margin: int = RECT_MARGIN) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), end exclusive: the frame pixels the crops' bilinear taps can read
    (empty, x1 <= x0, when no crop overlaps the frame). ``affines``: frame -> crop, [N, 2, 3]."""
    a = np.asarray(affines, np.float64).reshape(-1, 2, 3)
    m = np.zeros((a.shape[0], 3, 3))
    m[:, :2], m[:, 2, 2] = a, 1.0
    inv = np.linalg.inv(m)[:, :2]  # crop -> frame; the affine maps the crop grid's corners
    s = float(size - 1)
    corners = np.array([[0.0, 0.0, 1.0], [s, 0.0, 1.0], [0.0, s, 1.0], [s, s, 1.0]])
    pts = np.einsum("nij,kj->nki", inv, corners).reshape(-1, 2)
    if not np.isfinite(pts).all():
        return 0, 0, width, height
    lo = np.floor(pts.min(axis=0)) - margin
    hi = np.floor(pts.max(axis=0)) + 2 + margin  # the right/bottom tap is floor + 1; exclusive end
    x0, y0 = (int(max(0.0, min(v, n))) for v, n in zip(lo, (width, height)))
    x1, y1 = (int(max(0.0, min(v, n))) for v, n in zip(hi, (width, height)))
    return x0, y0, x1, y1


class FrameStaging:
    """Frame buffers of one pipeline, grown (never shrunk) to the largest frame seen.

    ``cuda`` is the CUDA layer (`atpn_edge.cuda.Cuda` or the tests' fake). ``zero_copy``
    defaults to the device's ``integrated`` and ``can_map_host_memory``."""

    def __init__(self, cuda: Any, zero_copy: bool | None = None) -> None:
        self._cuda = cuda
        props = cuda.props
        self.zero_copy = bool(props.integrated and props.can_map_host_memory) if zero_copy is None else zero_copy
        self._capacity = 0
        self._host: np.ndarray | None = None
        self._host_ptr = 0
        self._dev = 0
        self.bytes_copied = 0  # host bytes copied for the last frame (benchmarks, tests)

    def _reserve(self, nbytes: int) -> None:
        if nbytes <= self._capacity:
            return
        self.close()
        if self.zero_copy:
            self._host, self._host_ptr, self._dev = self._cuda.mapped_array((nbytes,), np.uint8)
        else:
            self._host, self._host_ptr = self._cuda.host_array((nbytes,), np.uint8)
            self._dev = self._cuda.malloc(nbytes)
        self._capacity = nbytes

    def stage(self, frame: np.ndarray, affines: np.ndarray, size: int,
              stream: int) -> tuple[int, int, tuple[int, int]]:
        """Enqueue what the crops of ``frame`` need; returns (address, row pitch, origin) for the
        crop kernel: the address holds frame pixel ``origin`` = (x0, y0). The host buffer is
        reused: synchronise ``stream`` before the next call (the pipeline does, every frame)."""
        h, w = frame.shape[:2]
        row = 3 * w
        self._reserve(frame.nbytes)
        x0, y0, x1, y1 = crop_source_rect(affines, size, h, w)
        if x1 <= x0 or y1 <= y0:  # no crop touches the frame: the kernel reads nothing
            self.bytes_copied = 0
            return self._dev, row, (0, 0)
        host = self._host[: frame.nbytes].reshape(h, w, 3)
        np.copyto(host[y0:y1, x0:x1], frame[y0:y1, x0:x1])
        self.bytes_copied = (y1 - y0) * (x1 - x0) * 3
        if self.zero_copy:
            return self._dev, row, (0, 0)  # the GPU reads the mapped host memory in place
        rw = 3 * (x1 - x0)
        src = self._host_ptr + y0 * row + 3 * x0
        self._cuda.htod2d_async(self._dev, rw, src, row, rw, y1 - y0, stream)
        return self._dev, rw, (x0, y0)  # the rectangle, packed, rows rw bytes apart

    def close(self) -> None:
        if self._host_ptr:
            self._cuda.free_host(self._host_ptr)
        if self._dev and not self.zero_copy:
            self._cuda.free(self._dev)
        self._host, self._host_ptr, self._dev, self._capacity = None, 0, 0, 0
