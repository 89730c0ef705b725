"""TensorRT 10 pipeline: stage 1 and stage 2 engines, every buffer on the device, the CUDA crop
and heatmap kernels between them on one stream, and one small device->host copy at the end.

Per frame: frame -> pinned staging -> device (one H2D copy), crop kernel (its affines travel as
kernel arguments), stage 1, heatmap kernel, stage 2, one D2H copy of a block that holds
landmarks, pose and logit for up to max_faces faces. With ``cuda_graph=True`` everything after the
crop kernel is captured once per face count N and replayed with one launch; the crop kernel stays
outside because a graph would freeze its by-value affine arguments.

``trt``, ``cuda`` and ``device_kernels`` can be injected (tests pass fakes); by default they are
the `tensorrt` module, `cuda_device.Cuda` and `device_kernels.DeviceKernels`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..core.model_info import ModelInfo
from .engine_build import BuildSettings, stderr_log
from .engines import KINDS, ensure_engines, import_tensorrt
from .models import ModelFiles, check_io_names
from .pipeline import Pipeline, RawOutputs


DEFAULT_ENGINE_BATCH = 8  # `atpn-edge build`'s default, so pipelines with max_faces <= 8 share its engines


class EngineLoadError(ValueError):
    pass


def _aligned(floats: int) -> int:
    """``floats`` rounded up to a multiple of 64 (256 bytes)."""
    return -(-floats // 64) * 64


def deserialize(trt, runtime, data: bytes, source: str):
    engine = runtime.deserialize_cuda_engine(data)
    if engine is None:
        raise EngineLoadError(
            f"{source}: TensorRT {trt.__version__} could not deserialize this engine (corrupt, or built by another "
            "TensorRT version or for another GPU); rebuild it with `atpn-edge build --force`"
        )
    return engine


def engine_io(trt, engine) -> tuple[list[str], list[str]]:
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
    return inputs, [n for n in names if n not in inputs]


class TensorRTPipeline(Pipeline):
    backend = "tensorrt"

    def __init__(self, files: ModelFiles, info: ModelInfo, max_faces: int = 8, precision: str = "fp16",
                 cuda_graph: bool = False, cache_dir: Path | None = None, calib_dir: Path | None = None,
                 workspace_mb: int = 256, engine_max_batch: int | None = None,
                 log: Callable[[str], None] = stderr_log, trt=None, cuda=None, device_kernels=None) -> None:
        super().__init__(info, max_faces)
        self._trt = trt if trt is not None else import_tensorrt()
        if cuda is None:
            from .cuda_device import Cuda

            cuda = Cuda()
        if device_kernels is None:
            from .device_kernels import DeviceKernels

            device_kernels = DeviceKernels()
        self._cuda, self._k, self.cuda_graph = cuda, device_kernels, cuda_graph
        self.precision = precision
        engine_batch = engine_max_batch or max(max_faces, DEFAULT_ENGINE_BATCH)
        settings = BuildSettings(precision=precision, max_batch=engine_batch, workspace_bytes=workspace_mb << 20)
        paths = ensure_engines(self._trt, cuda, files, info, settings, cache_dir, calib_dir, log=log)
        self._logger = self._trt.Logger(self._trt.Logger.WARNING)
        self._runtime = self._trt.Runtime(self._logger)
        self._engines, self._contexts = {}, {}
        for kind in KINDS:
            self._engines[kind] = engine = deserialize(self._trt, self._runtime, paths[kind].read_bytes(), str(paths[kind]))
            inputs, outputs = engine_io(self._trt, engine)
            check_io_names(str(paths[kind]), kind, inputs, outputs)
            top = int(engine.get_tensor_profile_shape(inputs[0], 0)[2][0])
            if top < max_faces:
                raise EngineLoadError(f"{paths[kind]}: built for at most {top} faces, the pipeline needs {max_faces}")
            self._contexts[kind] = engine.create_execution_context()
        self._stream = cuda.stream_create()
        self._allocate()
        self._shape_n = 0
        self._graphs: dict[int, object] = {}
        self._event_list: list = []

    def _allocate(self) -> None:
        i, m, cuda = self.info, self.max_faces, self._cuda
        s, (hh, wh), k = i.input_size, i.heatmap_size, i.num_landmarks
        f32 = 4
        self._dev = {
            "image": cuda.malloc(m * 3 * s * s * f32),
            "features": cuda.malloc(m * i.feature_channels * hh * wh * f32),
            "heatmap": cuda.malloc(m * hh * wh * f32),
        }
        # One output block -> one D2H copy: [landmarks m*k*2 | pose m*3 | logit m], each part
        # starting on a 256-byte boundary (TensorRT's alignment for tensor addresses).
        self._off_pose = _aligned(m * k * 2)
        self._off_logit = self._off_pose + _aligned(m * 3)
        total = self._off_logit + m
        self._out_dev = cuda.malloc(total * f32)
        self._out_host, self._out_host_ptr = cuda.host_array((total,), np.float32)
        self._dev.update(landmarks=self._out_dev, pose=self._out_dev + self._off_pose * f32,
                         face_logit=self._out_dev + self._off_logit * f32)
        self._frame_dev, self._frame_bytes = 0, 0
        self._frame_host, self._frame_host_ptr = None, 0
        for kind, ctx in self._contexts.items():
            inputs, outputs = engine_io(self._trt, self._engines[kind])
            for name in inputs + outputs:
                ctx.set_tensor_address(name, self._dev[name])

    def _frame_buffers(self, frame: np.ndarray) -> None:
        """Device and pinned frame buffers, grown (never shrunk) to the largest frame seen."""
        if frame.nbytes > self._frame_bytes:
            if self._frame_dev:
                self._cuda.free(self._frame_dev)
                self._cuda.free_host(self._frame_host_ptr)
            self._frame_dev = self._cuda.malloc(frame.nbytes)
            self._frame_host, self._frame_host_ptr = self._cuda.host_array((frame.nbytes,), np.uint8)
            self._frame_bytes = frame.nbytes

    def _set_batch(self, n: int) -> None:
        if n == self._shape_n:
            return
        i = self.info
        s, (hh, wh) = i.input_size, i.heatmap_size
        c1, c2 = self._contexts["stage1"], self._contexts["stage2"]
        ok = c1.set_input_shape("image", (n, 3, s, s))
        ok = c2.set_input_shape("features", (n, i.feature_channels, hh, wh)) and ok
        ok = c2.set_input_shape("heatmap", (n, 1, hh, wh)) and ok
        if not ok:
            raise ValueError(f"the engines do not accept batch {n} (built for max batch {self.max_faces}?)")
        self._shape_n = n

    def _after_crop(self, n: int, mark: Callable[[], None] | None = None) -> None:
        """Stage 1 -> heatmap -> stage 2 -> one D2H copy, enqueued on the stream; ``mark`` records
        a CUDA event after each stage in timed runs."""
        i, st = self.info, self._stream
        if not self._contexts["stage1"].execute_async_v3(st):
            raise RuntimeError("TensorRT stage 1 failed to enqueue (see its messages above)")
        if mark:
            mark()
        self._k.render_heatmap(self._dev["landmarks"], n, i.num_landmarks, i.heatmap_size[0], i.heatmap_size[1],
                               i.heatmap_sigma, self._dev["heatmap"], st)
        if mark:
            mark()
        if not self._contexts["stage2"].execute_async_v3(st):
            raise RuntimeError("TensorRT stage 2 failed to enqueue (see its messages above)")
        self._cuda.dtoh_async(self._out_host_ptr, self._out_dev, self._out_host.nbytes, st)
        if mark:
            mark()

    def _infer(self, frame: np.ndarray, affines: np.ndarray, timings: dict[str, float] | None) -> RawOutputs:
        n, i, st = affines.shape[0], self.info, self._stream
        self._set_batch(n)
        self._frame_buffers(frame)
        np.copyto(self._frame_host[: frame.nbytes].reshape(frame.shape), frame)
        # Timed runs record CUDA events between stages: GPU time per stage, nothing synchronised
        # in between (so the stream runs as in untimed runs, minus the graph).
        events = self._events() if timings is not None else None
        used = iter(events or ())
        mark = (lambda: self._cuda.event_record(next(used), st)) if events else None
        if mark:
            mark()
        self._cuda.htod_async(self._frame_dev, self._frame_host_ptr, frame.nbytes, st)
        h, w = frame.shape[:2]
        self._k.warp_crop_batch(self._frame_dev, h, w, w * 3, affines, i.input_size, i.mean, i.std,
                                self._dev["image"], st)
        if mark:
            mark()
            self._after_crop(n, mark)  # timed runs go stage by stage, never through a graph
        elif self.cuda_graph:
            self._launch_graph(n)
        else:
            self._after_crop(n)
        self._cuda.synchronize(st)
        if events is not None:
            names = ("warp_crop", "stage1", "heatmap", "stage2")  # warp_crop includes the frame upload,
            for name, a, b in zip(names, events, events[1:]):  # stage2 the result download
                timings[name] = self._cuda.event_elapsed_ms(a, b) / 1e3
        m, k = self.max_faces, i.num_landmarks
        out = self._out_host
        return RawOutputs(
            landmarks_crop=out[: m * k * 2].reshape(m, k, 2)[:n],
            pose_crop=out[self._off_pose: self._off_pose + m * 3].reshape(m, 3)[:n],
            face_logit=out[self._off_logit: self._off_logit + m][:n],
        )

    def _events(self) -> list:
        if not self._event_list:
            self._event_list = [self._cuda.event_create() for _ in range(5)]
        return self._event_list

    def _launch_graph(self, n: int) -> None:
        graph = self._graphs.get(n)
        if graph is None:
            # TensorRT needs one plain enqueue after a shape change before it can be captured.
            self._after_crop(n)
            self._cuda.synchronize(self._stream)
            self._cuda.begin_capture(self._stream)
            try:
                self._after_crop(n)
            finally:
                graph = self._cuda.end_capture(self._stream)
            self._graphs[n] = graph
        self._cuda.graph_launch(graph, self._stream)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: CUDA may already be gone
            pass

    def close(self) -> None:
        cuda = getattr(self, "_cuda", None)
        if cuda is None or not hasattr(self, "_out_dev"):
            return
        cuda.synchronize(self._stream)
        for graph in self._graphs.values():
            cuda.graph_destroy(graph)
        self._graphs.clear()
        for event in self._event_list:
            cuda.event_destroy(event)
        self._event_list.clear()
        self._contexts.clear()
        self._engines.clear()
        for ptr in [*(p for n, p in self._dev.items() if n in ("image", "features", "heatmap")), self._out_dev]:
            cuda.free(ptr)
        cuda.free_host(self._out_host_ptr)
        if self._frame_dev:
            cuda.free(self._frame_dev)
            cuda.free_host(self._frame_host_ptr)
        cuda.stream_destroy(self._stream)
        del self._out_dev

