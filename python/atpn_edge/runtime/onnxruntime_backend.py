"""CPU (and ONNX Runtime CUDA provider) pipeline: native crop kernel -> stage 1 -> native heatmap
kernel -> stage 2, all through buffers preallocated per batch size.

IO binding binds each stage's inputs and outputs to those numpy buffers, so stage 1 writes its
features where stage 2 reads them and nothing is copied between stages (measured in
BENCHMARKS.md against plain ``session.run``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.model_info import ModelInfo
from .models import ModelFiles, check_io_names
from .pipeline import Pipeline, RawOutputs

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def session_options(threads: int = 1):
    """Options for small CNNs on a shared CPU: few threads, no spinning (measured: spinning fights
    OpenCV's pool and other processes), one sequential graph, all graph optimisations."""
    import onnxruntime as ort

    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


def open_session(path: Path, kind: str, threads: int = 1, providers: tuple[str, ...] = (CPU,)):
    """An ONNX Runtime session for one graph, checked for the SPEC tensor names and for the
    providers that are really active (the GPU build silently falls back to the CPU)."""
    import onnxruntime as ort

    try:
        sess = ort.InferenceSession(str(path), sess_options=session_options(threads), providers=list(providers))
    except Exception as exc:  # ORT has its own exception types for unreadable files
        raise ValueError(f"{path}: not a readable ONNX model ({exc})") from None
    check_io_names(str(path), kind, [i.name for i in sess.get_inputs()], [o.name for o in sess.get_outputs()])
    if providers[0] != CPU and sess.get_providers()[0] != providers[0]:
        raise RuntimeError(f"{path}: ONNX Runtime did not activate {providers[0]} (active: {sess.get_providers()})")
    return sess


def check_shapes(s1, s2, info: ModelInfo, source: str) -> None:
    """The graphs' static dims must match what the metadata says (buffers are sized from it)."""
    hh, wh = info.heatmap_size
    want = {
        "landmarks": [info.num_landmarks, 2],
        "features": [info.feature_channels, hh, wh],
        "image": [3, info.input_size, info.input_size],
        "heatmap": [1, hh, wh],
        "pose": [3],
        "face_logit": [1],
    }
    for arg in [*s1.get_inputs(), *s1.get_outputs(), *s2.get_inputs(), *s2.get_outputs()]:
        dims = list(arg.shape)[1:]
        expected = want.get(arg.name)
        if expected is not None and all(isinstance(d, int) for d in dims) and dims != expected:
            raise ValueError(f"{source}: {arg.name!r} has shape [N, {', '.join(map(str, dims))}] but the metadata "
                             f"implies [N, {', '.join(map(str, expected))}]")


@dataclass
class _Buffers:
    """Everything one batch size needs, allocated once."""

    image: np.ndarray
    landmarks: np.ndarray
    features: np.ndarray
    heatmap: np.ndarray
    pose: np.ndarray
    face_logit: np.ndarray
    bind1: object = None
    bind2: object = None


class OnnxRuntimePipeline(Pipeline):
    def __init__(
        self,
        files: ModelFiles,
        info: ModelInfo,
        threads: int = 1,
        max_faces: int = 8,
        providers: tuple[str, ...] = (CPU,),
        io_binding: bool = True,
        precision: str | None = None,
    ) -> None:
        super().__init__(info, max_faces)
        try:
            from .. import _cpu
        except ImportError as exc:
            raise RuntimeError(f"the native kernels are not built ({exc}): `pip install .`, or "
                               "scripts/dev_build.sh in a source checkout") from None
        self._native = _cpu  # called without re-checking: Pipeline.run validated the inputs
        if precision is None:
            precision = files.default_precision()
        self.threads = int(threads)
        self.backend = "onnxruntime" if providers[0] == CPU else "onnxruntime-cuda"
        self.providers = providers
        self.io_binding = io_binding
        self.precision = precision
        self._s1 = open_session(files.graph("stage1", precision), "stage1", threads, providers)
        self._s2 = open_session(files.graph("stage2", precision), "stage2", threads, providers)
        check_shapes(self._s1, self._s2, info, str(files.directory))
        self._mean = tuple(float(v) for v in info.mean)
        self._std = tuple(float(v) for v in info.std)
        self._buffers: dict[int, _Buffers] = {}
        if info.channel_order != "RGB":
            raise ValueError(f"model expects channel order {info.channel_order!r}; the crop kernel writes RGB")

    def _buffers_for(self, n: int) -> _Buffers:
        buf = self._buffers.get(n)
        if buf is None:
            i = self.info
            hh, wh = i.heatmap_size
            s = i.input_size
            buf = _Buffers(
                image=np.zeros((n, 3, s, s), np.float32),
                landmarks=np.zeros((n, i.num_landmarks, 2), np.float32),
                features=np.zeros((n, i.feature_channels, hh, wh), np.float32),
                heatmap=np.zeros((n, 1, hh, wh), np.float32),
                pose=np.zeros((n, 3), np.float32),
                face_logit=np.zeros((n, 1), np.float32),
            )
            if self.io_binding:
                buf.bind1 = self._bind(self._s1, {"image": buf.image}, {"landmarks": buf.landmarks, "features": buf.features})
                buf.bind2 = self._bind(
                    self._s2, {"features": buf.features, "heatmap": buf.heatmap}, {"pose": buf.pose, "face_logit": buf.face_logit}
                )
            self._buffers[n] = buf
        return buf

    @staticmethod
    def _bind(sess, inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]):
        binding = sess.io_binding()
        for name, arr in inputs.items():
            binding.bind_input(name, "cpu", 0, arr.dtype, list(arr.shape), arr.ctypes.data)
        for name, arr in outputs.items():
            binding.bind_output(name, "cpu", 0, arr.dtype, list(arr.shape), arr.ctypes.data)
        return binding

    def _run_stage(self, sess, binding, inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> None:
        if binding is not None:
            sess.run_with_iobinding(binding)
            return
        results = sess.run(list(outputs), inputs)
        for (name, dst), src in zip(outputs.items(), results):
            if src.shape != dst.shape:
                raise ValueError(f"{name}: graph returned shape {list(src.shape)}, metadata implies {list(dst.shape)}")
            dst[...] = src

    def _infer(self, frame: np.ndarray, affines: np.ndarray, timings: dict[str, float] | None) -> RawOutputs:
        i = self.info
        b = self._buffers_for(affines.shape[0])
        clock = time.perf_counter
        t0 = clock()
        self._native.warp_crop_batch(frame, affines, i.input_size, self._mean, self._std, b.image)
        t1 = clock()
        self._run_stage(self._s1, b.bind1, {"image": b.image}, {"landmarks": b.landmarks, "features": b.features})
        t2 = clock()
        self._native.render_heatmap(b.landmarks, i.heatmap_sigma, b.heatmap)
        t3 = clock()
        self._run_stage(
            self._s2, b.bind2, {"features": b.features, "heatmap": b.heatmap}, {"pose": b.pose, "face_logit": b.face_logit}
        )
        if timings is not None:
            t4 = clock()
            timings.update(warp_crop=t1 - t0, stage1=t2 - t1, heatmap=t3 - t2, stage2=t4 - t3)
        return RawOutputs(b.landmarks, b.pose, b.face_logit)

    def close(self) -> None:
        self._buffers.clear()
        self._s1 = self._s2 = None
