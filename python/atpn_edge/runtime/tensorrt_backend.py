"""TensorRT 10 pipeline: stage 1 and stage 2 engines, every buffer on the device, the CUDA crop
and heatmap kernels between them on one non-blocking stream, and one small device->host copy.

Per frame: the pixels the crops need reach the GPU (zero copy from mapped memory on Jetson, one
rectangle copy on a discrete GPU: cuda/frame_upload.py), crop kernel (its affines travel as
kernel arguments), stage 1, heatmap kernel, stage 2, one D2H copy of a block that holds
landmarks, pose and logit for up to max_faces faces.

Execution contexts: one pair (stage 1, stage 2) per face count N, each shaped once, all sharing
one scratch allocation (``ExecutionContextAllocationStrategy.USER_MANAGED``; they never run at
the same time, being on one stream). A context is never re-shaped, so a CUDA graph captured on it
stays valid: TensorRT requires a recapture after any shape change of the captured context.

With ``cuda_graph=True`` everything after the crop kernel is captured once per N and replayed
with one launch (the crop kernel stays outside: a graph would freeze its by-value affines). A
capture that fails (an enqueue returns False, or the capture is invalidated) is ended, the CUDA
error cleared, logged once, and the pipeline enqueues plainly from then on, as trtexec does.

``trt``, ``cuda`` and ``device_kernels`` can be injected (tests pass fakes); by default they are
the `tensorrt` module, `atpn_edge.cuda.Cuda` and `atpn_edge.cuda.DeviceKernels`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..core.model_info import ModelInfo
from .engine_build import BuildSettings, stderr_log, trt_logger
from .engines import import_tensorrt, load_engines
from .models import ModelFiles, check_io_names
from .pipeline import Pipeline, RawOutputs
from .trt_engine import EngineLoadError, SharedScratch, create_context, deserialize, engine_io

DEFAULT_ENGINE_BATCH = 8  # `atpn-edge build`'s default, so pipelines with max_faces <= 8 share its engines

__all__ = ["TensorRTPipeline", "EngineLoadError", "deserialize", "engine_io", "DEFAULT_ENGINE_BATCH"]


def _aligned(floats: int) -> int:
    """``floats`` rounded up to a multiple of 64 (256 bytes)."""
    return -(-floats // 64) * 64


class TensorRTPipeline(Pipeline):
    backend = "tensorrt"

    def __init__(self, files: ModelFiles, info: ModelInfo, max_faces: int = 8, precision: str = "fp16",
                 cuda_graph: bool = False, cache_dir: Path | None = None, calib_dir: Path | None = None,
                 workspace_mb: int = 256, engine_max_batch: int | None = None, zero_copy: bool | None = None,
                 log: Callable[[str], None] = stderr_log, trt=None, cuda=None, device_kernels=None) -> None:
        super().__init__(info, max_faces)
        self._trt = trt if trt is not None else import_tensorrt()
        if cuda is None or device_kernels is None:
            from ..cuda import Cuda, DeviceKernels

            cuda = cuda if cuda is not None else Cuda()
            device_kernels = device_kernels if device_kernels is not None else DeviceKernels()
        self._cuda, self._k, self.cuda_graph, self._log = cuda, device_kernels, cuda_graph, log
        self.precision = precision
        engine_batch = engine_max_batch or max(max_faces, DEFAULT_ENGINE_BATCH)
        settings = BuildSettings(precision=precision, max_batch=engine_batch, workspace_bytes=workspace_mb << 20)
        loaded = load_engines(self._trt, cuda, files, info, settings, cache_dir, calib_dir, log=log)
        self._runtime = self._trt.Runtime(trt_logger(self._trt))
        self._engines, self._io = {}, {}
        for kind, (path, data) in loaded.items():
            self._engines[kind] = engine = deserialize(self._trt, self._runtime, data, str(path))
            self._io[kind] = inputs, outputs = engine_io(self._trt, engine)
            check_io_names(str(path), kind, inputs, outputs)
            top = int(engine.get_tensor_profile_shape(inputs[0], 0)[2][0])
            if top < max_faces:
                raise EngineLoadError(f"{path}: built for at most {top} faces, the pipeline needs {max_faces}")
        self._scratch = SharedScratch(self._trt, cuda, list(self._engines.values()))
        self._stream = cuda.stream_create()
        self._contexts: dict[int, dict[str, object]] = {}
        self._graphs: dict[int, object] = {}
        self._graphs_failed = False
        self._event_list: list = []
        self._allocate()
        from ..cuda.frame_upload import FrameStaging

        self._frames = FrameStaging(cuda, zero_copy)

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

    def _contexts_for(self, n: int) -> dict[str, object]:
        """The context pair for N faces: created, shaped and bound on first use, never re-shaped."""
        pair = self._contexts.get(n)
        if pair is not None:
            return pair
        i = self.info
        s, (hh, wh) = i.input_size, i.heatmap_size
        shapes = {"image": (n, 3, s, s), "features": (n, i.feature_channels, hh, wh), "heatmap": (n, 1, hh, wh)}
        pair = {}
        for kind, engine in self._engines.items():
            ctx = create_context(self._trt, self._cuda, engine, kind, self._scratch)
            inputs, outputs = self._io[kind]
            for name in inputs:
                if not ctx.set_input_shape(name, shapes[name]):
                    raise ValueError(f"the {kind} engine does not accept {name} of shape {shapes[name]}")
            for name in inputs + outputs:
                ctx.set_tensor_address(name, self._dev[name])
            pair[kind] = ctx
        self._contexts[n] = pair
        return pair

    def _after_crop(self, n: int, mark: Callable[[], None] | None = None) -> bool:
        """Stage 1 -> heatmap -> stage 2 -> one D2H copy, enqueued on the stream; ``mark``
        records a CUDA event after each stage in timed runs. False when TensorRT refused an
        enqueue (it has logged why)."""
        i, st, ctx = self.info, self._stream, self._contexts_for(n)
        if not ctx["stage1"].execute_async_v3(st):
            return False
        if mark:
            mark()
        self._k.render_heatmap(self._dev["landmarks"], n, i.num_landmarks, i.heatmap_size[0], i.heatmap_size[1],
                               i.heatmap_sigma, self._dev["heatmap"], st)
        if mark:
            mark()
        if not ctx["stage2"].execute_async_v3(st):
            return False
        self._cuda.dtoh_async(self._out_host_ptr, self._out_dev, self._out_host.nbytes, st)
        if mark:
            mark()
        return True

    def _enqueue(self, n: int, mark: Callable[[], None] | None = None) -> None:
        if not self._after_crop(n, mark):
            raise RuntimeError("TensorRT failed to enqueue an engine (see its messages above)")

    def _infer(self, frame: np.ndarray, affines: np.ndarray, timings: dict[str, float] | None) -> RawOutputs:
        n, i, st = affines.shape[0], self.info, self._stream
        self._contexts_for(n)
        # Timed runs record CUDA events between stages: GPU time per stage, nothing synchronised
        # in between (so the stream runs as in untimed runs, minus the graph).
        events = self._events() if timings is not None else None
        used = iter(events or ())
        mark = (lambda: self._cuda.event_record(next(used), st)) if events else None
        if mark:
            mark()
        ptr, stride, origin = self._frames.stage(frame, affines, i.input_size, st)
        h, w = frame.shape[:2]
        self._k.warp_crop_batch(ptr, h, w, stride, affines, i.input_size, i.mean, i.std, self._dev["image"], st,
                                origin if origin != (0, 0) else None)
        if mark:
            mark()
            self._enqueue(n, mark)  # timed runs go stage by stage, never through a graph
        elif self.cuda_graph and not self._graphs_failed:
            self._launch_graph(n)
        else:
            self._enqueue(n)
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
            # A context must run once plainly before it can be captured (TensorRT sets up its
            # shape-dependent state on the first enqueue); that run also produces this frame.
            self._enqueue(n)
            self._cuda.synchronize(self._stream)
            graph = self._capture(n)
            if graph is None:
                return  # this frame's results came from the plain run
            self._graphs[n] = graph
        self._cuda.graph_launch(graph, self._stream)

    def _capture(self, n: int):
        """The graph of stage 1 -> stage 2 for N faces, or None (logged once) when TensorRT or
        CUDA cannot capture it; then graphs are off for this pipeline."""
        from ..cuda import CudaError

        cuda, st = self._cuda, self._stream
        enqueued, why, graph = False, "TensorRT refused to enqueue while capturing", None
        cuda.begin_capture(st)
        try:
            enqueued = self._after_crop(n)
        except CudaError as exc:  # a kernel launch refused during capture
            why = str(exc)
        finally:
            try:
                graph = cuda.end_capture(st)  # always ends the capture
            except CudaError as exc:
                why = why if not enqueued else str(exc)
        if enqueued and graph is not None:
            return graph
        if graph is not None:
            cuda.graph_destroy(graph)
        cuda.clear_error()  # the capture's error must not surface in a later call
        self._graphs_failed = True
        self._log(f"CUDA graph capture failed for {n} face(s) ({why}): running without CUDA graphs from now on")
        return None

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
        self._contexts.clear()  # contexts before the engines and the scratch they use
        self._engines.clear()
        self._scratch.close()
        for ptr in [*(p for n, p in self._dev.items() if n in ("image", "features", "heatmap")), self._out_dev]:
            cuda.free(ptr)
        cuda.free_host(self._out_host_ptr)
        self._frames.close()
        cuda.stream_destroy(self._stream)
        del self._out_dev
