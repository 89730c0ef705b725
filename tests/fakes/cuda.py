"""A fake of `atpn_edge.runtime.cuda_device.Cuda` on host memory, plus fake CUDA kernels.

"Device" buffers are numpy arrays whose addresses serve as pointers, so a fake engine and the
fake kernels really read and write them. Work enqueued on a stream runs at once, except while the
stream is being captured: then it is recorded and a graph launch replays it, which is how a
captured CUDA graph behaves (same pointers, same arguments).
"""
from __future__ import annotations

import ctypes

import cv2
import numpy as np

_CAPTURING: dict[int, list] = {}


def enqueue(stream: int, fn) -> None:
    """Run ``fn`` now, or record it while ``stream`` is captured."""
    if stream in _CAPTURING:
        _CAPTURING[stream].append(fn)
    else:
        fn()


def view(ptr: int, nbytes: int, dtype=np.uint8) -> np.ndarray:
    raw = (ctypes.c_uint8 * nbytes).from_address(ptr)
    return np.frombuffer(raw, dtype=dtype)


class FakeCuda:
    def __init__(self, name: str = "Orin (fake)", cc: tuple[int, int] = (8, 7)) -> None:
        self.name, self.cc = name, cc
        self.buffers: dict[int, np.ndarray] = {}
        self.host: dict[int, np.ndarray] = {}
        self.streams: set[int] = set()
        self.captures = 0
        self.launches = 0
        self._next_stream = 100

    def device_name(self) -> str:
        return self.name

    def compute_capability(self) -> tuple[int, int]:
        return self.cc

    def malloc(self, nbytes: int) -> int:
        # cudaMalloc returns 256-byte aligned memory; so does this.
        raw = np.zeros(max(int(nbytes), 1) + 256, np.uint8)
        start = -raw.ctypes.data % 256
        arr = raw[start:start + max(int(nbytes), 1)]
        self.buffers[arr.ctypes.data] = arr
        return arr.ctypes.data

    def free(self, ptr: int) -> None:
        if ptr not in self.buffers:
            raise RuntimeError(f"cudaFree of unknown pointer {ptr:#x}")
        del self.buffers[ptr]

    def host_array(self, shape, dtype):
        arr = np.zeros(shape, dtype)
        self.host[arr.ctypes.data] = arr
        return arr, arr.ctypes.data

    def free_host(self, ptr: int) -> None:
        if ptr not in self.host:
            raise RuntimeError(f"cudaFreeHost of unknown pointer {ptr:#x}")
        del self.host[ptr]

    def stream_create(self) -> int:
        self._next_stream += 1
        self.streams.add(self._next_stream)
        return self._next_stream

    def stream_destroy(self, stream: int) -> None:
        self.streams.remove(stream)

    def synchronize(self, stream: int) -> None:
        if stream in _CAPTURING:
            raise RuntimeError("cudaStreamSynchronize during capture is illegal")

    def _copy(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        enqueue(stream, lambda: ctypes.memmove(dst, src, nbytes))

    htod_async = dtoh_async = _copy

    def event_create(self) -> dict:
        self.events = getattr(self, "events", 0) + 1
        return {"t": None}

    def event_record(self, event: dict, stream: int) -> None:
        import time

        enqueue(stream, lambda: event.__setitem__("t", time.perf_counter()))

    def event_elapsed_ms(self, start: dict, end: dict) -> float:
        if start["t"] is None or end["t"] is None:
            raise RuntimeError("cudaEventElapsedTime on an event that has not completed")
        return (end["t"] - start["t"]) * 1e3

    def event_destroy(self, event: dict) -> None:
        self.events -= 1

    def begin_capture(self, stream: int) -> None:
        _CAPTURING[stream] = []

    def end_capture(self, stream: int) -> list:
        self.captures += 1
        return _CAPTURING.pop(stream)

    def graph_launch(self, graph: list, stream: int) -> None:
        self.launches += 1
        for fn in graph:
            enqueue(stream, fn)

    def graph_destroy(self, graph: list) -> None:
        pass


class FakeDeviceKernels:
    """The CUDA crop and heatmap kernels, computed on the fake device buffers."""

    def warp_crop_batch(self, frame, height, width, stride, affines, size, mean, std, out, stream):
        aff = np.array(affines, np.float64).reshape(-1, 2, 3)  # copied now: a kernel's arguments are by value
        n = aff.shape[0]
        scale = 1.0 / (255.0 * np.asarray(std, np.float32))
        bias = -np.asarray(mean, np.float32) / np.asarray(std, np.float32)

        def run():
            img = view(frame, height * stride).reshape(height, width, 3)
            dst = view(out, n * 3 * size * size * 4, np.float32).reshape(n, 3, size, size)
            for i in range(n):
                crop = cv2.warpAffine(img, aff[i], (size, size), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                rgb = crop[:, :, ::-1].astype(np.float32)
                dst[i] = (rgb * scale + bias).transpose(2, 0, 1)

        enqueue(stream, run)

    def render_heatmap(self, landmarks, n, k, height, width, sigma, out, stream):
        def run():
            lm = view(landmarks, n * k * 2 * 4, np.float32).reshape(n, k, 2).astype(np.float64)
            xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5
            dx = xs[None, None, None, :] - width * lm[:, :, 0, None, None]
            dy = ys[None, None, :, None] - height * lm[:, :, 1, None, None]
            heat = np.exp(-(dx**2 + dy**2) / (2 * sigma**2)).max(axis=1, keepdims=True)
            view(out, n * height * width * 4, np.float32)[:] = heat.astype(np.float32).reshape(-1)

        enqueue(stream, run)
