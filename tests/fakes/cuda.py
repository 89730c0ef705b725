"""A fake of the CUDA layer (`atpn_edge.cuda.Cuda`) on host memory, plus fake CUDA kernels.

"Device" buffers are numpy arrays whose addresses serve as pointers, so a fake engine and the
fake kernels really read and write them. New device memory holds garbage (0xA5), as cudaMalloc's
does, and the fake crop kernel reads the frame tap by tap through the allocation table: a tap
outside every allocation raises, so an upload that misses pixels the crops need cannot pass.

Work enqueued on a stream runs at once, except while the stream is being captured: then it is
recorded and a graph launch replays it, which is how a captured CUDA graph behaves (same
pointers, same arguments). A capture can be invalidated (as an illegal call during capture
does); ending it then raises CudaError and leaves an error for ``clear_error``.
"""
from __future__ import annotations

import bisect
import ctypes
import time

import numpy as np

from atpn_edge.cuda.device import DeviceProps
from atpn_edge.cuda.errors import CudaError

CAPTURE_INVALIDATED = 901  # cudaErrorStreamCaptureInvalidated

_CAPTURING: dict[int, list] = {}
_INVALIDATED: set[int] = set()
_ALLOCS: dict[int, np.ndarray] = {}  # start address -> allocation (device, pinned, mapped)


def enqueue(stream: int, fn) -> None:
    """Run ``fn`` now, or record it while ``stream`` is captured."""
    if stream in _CAPTURING:
        _CAPTURING[stream].append(fn)
    else:
        fn()


def capturing(stream: int) -> bool:
    return int(stream) in _CAPTURING


def invalidate_capture(stream: int) -> None:
    """What CUDA does to a capture when something on the stream cannot be captured."""
    _INVALIDATED.add(int(stream))


def view(ptr: int, nbytes: int, dtype=np.uint8) -> np.ndarray:
    raw = (ctypes.c_uint8 * nbytes).from_address(ptr)
    return np.frombuffer(raw, dtype=dtype)


def allocation(addr_lo: int, addr_hi: int) -> tuple[int, np.ndarray]:
    """(start, array) of the allocation holding bytes [addr_lo, addr_hi), or RuntimeError."""
    starts = sorted(_ALLOCS)
    i = bisect.bisect_right(starts, addr_lo) - 1
    if i >= 0:
        start = starts[i]
        arr = _ALLOCS[start]
        if addr_hi <= start + arr.nbytes:
            return start, arr
    raise RuntimeError(f"fake CUDA: a kernel read [{addr_lo:#x}, {addr_hi:#x}) outside every allocation")


def _aligned_bytes(nbytes: int, fill: int) -> np.ndarray:
    raw = np.full(max(int(nbytes), 1) + 256, fill, np.uint8)
    start = -raw.ctypes.data % 256  # cudaMalloc returns 256-byte aligned memory; so does this
    return raw[start:start + max(int(nbytes), 1)]


class FakeCuda:
    def __init__(self, name: str = "Orin (fake)", cc: tuple[int, int] = (8, 7), multiprocessors: int = 16,
                 total_memory: int = 61 << 30, integrated: bool = False) -> None:
        self.props = DeviceProps(name, cc[0], cc[1], multiprocessors, integrated, True, total_memory)
        self.buffers: dict[int, np.ndarray] = {}
        self.host: dict[int, np.ndarray] = {}
        self.streams: set[int] = set()
        self.stream_flags_: dict[int, int] = {}
        self.captures = 0  # successful captures
        self.capture_attempts = 0
        self.launches = 0
        self.events = 0
        self.last_error = 0
        self.htod_bytes = 0  # host -> device bytes copied, all copies
        self._next_stream = 100

    def device_name(self) -> str:
        return self.props.name

    def compute_capability(self) -> tuple[int, int]:
        return self.props.major, self.props.minor

    def mem_info(self) -> tuple[int, int]:
        return 123 << 20, self.props.total_memory

    def malloc(self, nbytes: int) -> int:
        arr = _aligned_bytes(nbytes, 0xA5)
        self.buffers[arr.ctypes.data] = _ALLOCS[arr.ctypes.data] = arr
        return arr.ctypes.data

    def free(self, ptr: int) -> None:
        if ptr not in self.buffers:
            raise RuntimeError(f"cudaFree of unknown pointer {ptr:#x}")
        del self.buffers[ptr], _ALLOCS[ptr]

    def host_array(self, shape, dtype):
        arr = np.zeros(shape, dtype)
        self.host[arr.ctypes.data] = arr
        _ALLOCS[arr.ctypes.data] = arr.reshape(-1).view(np.uint8)
        return arr, arr.ctypes.data

    def mapped_array(self, shape, dtype):
        arr, ptr = self.host_array(shape, dtype)
        return arr, ptr, ptr  # one address for host and device, as on Jetson (unified addressing)

    def free_host(self, ptr: int) -> None:
        if ptr not in self.host:
            raise RuntimeError(f"cudaFreeHost of unknown pointer {ptr:#x}")
        del self.host[ptr], _ALLOCS[ptr]

    def stream_create(self) -> int:
        self._next_stream += 1
        self.streams.add(self._next_stream)
        self.stream_flags_[self._next_stream] = 1  # cudaStreamNonBlocking, as the real layer
        return self._next_stream

    def stream_flags(self, stream: int) -> int:
        return self.stream_flags_[stream]

    def stream_destroy(self, stream: int) -> None:
        self.streams.remove(stream)

    def synchronize(self, stream: int) -> None:
        if stream in _CAPTURING:
            raise RuntimeError("cudaStreamSynchronize during capture is illegal")

    def htod_async(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        self.htod_bytes += nbytes
        enqueue(stream, lambda: ctypes.memmove(dst, src, nbytes))

    def dtoh_async(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        enqueue(stream, lambda: ctypes.memmove(dst, src, nbytes))

    def htod2d_async(self, dst, dpitch, src, spitch, width, height, stream) -> None:
        if width > dpitch or width > spitch:
            raise ValueError("memcpy2d: width exceeds a pitch")
        self.htod_bytes += width * height

        def run():
            for r in range(height):
                ctypes.memmove(dst + r * dpitch, src + r * spitch, width)

        enqueue(stream, run)

    def clear_error(self) -> int:
        err, self.last_error = self.last_error, 0
        return err

    def event_create(self) -> dict:
        self.events += 1
        return {"t": None}

    def event_record(self, event: dict, stream: int) -> None:
        enqueue(stream, lambda: event.__setitem__("t", time.perf_counter()))

    def event_elapsed_ms(self, start: dict, end: dict) -> float:
        if start["t"] is None or end["t"] is None:
            raise RuntimeError("cudaEventElapsedTime on an event that has not completed")
        return (end["t"] - start["t"]) * 1e3

    def event_destroy(self, event: dict) -> None:
        self.events -= 1

    def begin_capture(self, stream: int) -> None:
        if stream in _CAPTURING:
            raise CudaError("cudaStreamBeginCapture failed: already capturing", 900)
        self.capture_attempts += 1
        _CAPTURING[stream] = []

    def end_capture(self, stream: int) -> list:
        work = _CAPTURING.pop(stream)
        if stream in _INVALIDATED:
            _INVALIDATED.discard(stream)
            self.last_error = CAPTURE_INVALIDATED
            raise CudaError("cudaStreamEndCapture failed: operation not permitted when stream is capturing "
                            f"(CUDA error {CAPTURE_INVALIDATED})", CAPTURE_INVALIDATED)
        self.captures += 1
        return work

    def graph_launch(self, graph: list, stream: int) -> None:
        self.launches += 1
        for fn in graph:
            enqueue(stream, fn)

    def graph_destroy(self, graph: list) -> None:
        pass


def _gather(base: int, stride: int, xt: np.ndarray, yt: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """BGR bytes at (xt, yt) where ``ok`` (zeros elsewhere), read through the allocation table."""
    out = np.zeros(xt.shape + (3,), np.float64)
    if not ok.any():
        return out
    addr = base + yt[ok].astype(np.int64) * stride + xt[ok].astype(np.int64) * 3
    start, arr = allocation(int(addr.min()), int(addr.max()) + 3)
    off = addr - start
    out[ok] = np.stack([arr[off + c] for c in range(3)], axis=-1)
    return out


class FakeDeviceKernels:
    """The CUDA crop and heatmap kernels, computed on the fake device buffers with the kernels'
    semantics (float64 here: the real kernels' float32 rounding is not modelled)."""

    def warp_crop_batch(self, frame, height, width, stride, affines, size, mean, std, out, stream, origin=None):
        aff = np.array(affines, np.float64).reshape(-1, 2, 3)  # copied now: a kernel's arguments are by value
        n = aff.shape[0]
        x0, y0 = origin if origin is not None else (0, 0)
        if origin is None and stride < 3 * width:
            raise ValueError("stride must be >= 3 * width")
        base = frame - (y0 * stride + 3 * x0)
        m = np.zeros((n, 3, 3))
        m[:, :2], m[:, 2, 2] = aff, 1.0
        inv = np.linalg.inv(m)
        scale = 1.0 / (255.0 * np.asarray(std, np.float64))
        bias = -np.asarray(mean, np.float64) / np.asarray(std, np.float64)

        def run():
            ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
            dst = view(out, n * 3 * size * size * 4, np.float32).reshape(n, 3, size, size)
            for i in range(n):
                sx = inv[i, 0, 0] * xs + inv[i, 0, 1] * ys + inv[i, 0, 2]
                sy = inv[i, 1, 0] * xs + inv[i, 1, 1] * ys + inv[i, 1, 2]
                inside = (sx > -1) & (sx < width) & (sy > -1) & (sy < height)
                fx0, fy0 = np.floor(np.where(inside, sx, 0)), np.floor(np.where(inside, sy, 0))
                fx, fy = (sx - fx0)[..., None], (sy - fy0)[..., None]
                taps = []
                for dy in (0, 1):
                    for dx in (0, 1):
                        xt, yt = fx0 + dx, fy0 + dy
                        ok = inside & (xt >= 0) & (xt < width) & (yt >= 0) & (yt < height)
                        taps.append(_gather(base, stride, xt, yt, ok))
                top = taps[0] + fx * (taps[1] - taps[0])
                bot = taps[2] + fx * (taps[3] - taps[2])
                bgr = np.where(inside[..., None], top + fy * (bot - top), 0.0)
                rgb = bgr[..., ::-1]
                dst[i] = (rgb * scale + bias).transpose(2, 0, 1).astype(np.float32)

        enqueue(stream, run)

    def render_heatmap(self, landmarks, n, k, height, width, sigma, out, stream):
        def run():
            lm = view(landmarks, n * k * 2 * 4, np.float32).reshape(n, k, 2).astype(np.float64)
            lm = np.where(np.isfinite(lm), lm, np.inf)  # non-finite landmarks draw nothing
            xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5
            dx = xs[None, None, None, :] - width * lm[:, :, 0, None, None]
            dy = ys[None, None, :, None] - height * lm[:, :, 1, None, None]
            with np.errstate(invalid="ignore", over="ignore"):
                heat = np.nan_to_num(np.exp(-(dx**2 + dy**2) / (2 * sigma**2)), nan=0.0).max(axis=1, keepdims=True)
            view(out, n * height * width * 4, np.float32)[:] = heat.astype(np.float32).reshape(-1)

        enqueue(stream, run)
