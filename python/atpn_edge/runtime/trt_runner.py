"""Any ONNX graph with static float32 inputs (the face detector, for instance) as a TensorRT
engine: built into the engine cache with the same rules as the landmark engines (key, sidecar,
lock, atomic files, timing cache), then ``run(inputs) -> outputs`` on host numpy arrays through
pinned buffers and one non-blocking stream.

``trt`` and ``cuda`` can be injected (tests pass fakes)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .engine_build import BuildSettings, stderr_log, trt_logger
from .engine_cache import default_cache_dir
from .engines import ensure_engine, import_tensorrt
from .trt_engine import create_context, deserialize, engine_io


class TensorRTRunner:
    backend = "tensorrt"

    def __init__(self, onnx_path: str | Path, name: str | None = None, precision: str = "fp16",
                 cache_dir: Path | None = None, workspace_mb: int = 64, force: bool = False,
                 log: Callable[[str], None] = stderr_log, trt=None, cuda=None) -> None:
        onnx_path = Path(onnx_path)
        if not onnx_path.is_file():
            raise FileNotFoundError(f"ONNX model not found: {onnx_path}")
        self._trt = trt if trt is not None else import_tensorrt()
        if cuda is None:
            from ..cuda import Cuda

            cuda = Cuda()
        self._cuda = cuda
        self.name = name or onnx_path.stem
        base = Path(cache_dir) if cache_dir is not None else default_cache_dir() / onnx_path.parent.name
        settings = BuildSettings(precision=precision, max_batch=1, opt_batch=1, workspace_bytes=workspace_mb << 20)
        self.engine_path, data = ensure_engine(self._trt, cuda, onnx_path, self.name, settings, base, force, log)
        runtime = self._trt.Runtime(trt_logger(self._trt))
        self._engine = deserialize(self._trt, runtime, data, str(self.engine_path))
        self.inputs, self.outputs = engine_io(self._trt, self._engine)
        self.shapes: dict[str, tuple[int, ...]] = {}
        float32 = self._trt.DataType.FLOAT
        for n in self.inputs + self.outputs:
            shape = tuple(int(d) for d in self._engine.get_tensor_shape(n))
            if any(d < 0 for d in shape):
                raise ValueError(f"{onnx_path}: tensor {n!r} has a dynamic shape {shape}; this runner takes static shapes")
            if self._engine.get_tensor_dtype(n) != float32:
                raise ValueError(f"{onnx_path}: tensor {n!r} is {self._engine.get_tensor_dtype(n)}, not float32")
            self.shapes[n] = shape
        self._ctx = create_context(self._trt, cuda, self._engine, self.name)
        self._stream = cuda.stream_create()
        self._dev, self._host = {}, {}
        for n in self.inputs + self.outputs:
            nbytes = int(np.prod(self.shapes[n])) * 4
            self._dev[n] = cuda.malloc(nbytes)
            self._host[n] = cuda.host_array(self.shapes[n], np.float32)
            self._ctx.set_tensor_address(n, self._dev[n])

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Input name -> f32 array of the engine's shape; returns output name -> new f32 array."""
        missing = [n for n in self.inputs if n not in feeds]
        if missing:
            raise ValueError(f"{self.name}: missing input(s) {missing} (inputs: {self.inputs})")
        cuda, st = self._cuda, self._stream
        for n in self.inputs:
            a = np.asarray(feeds[n])
            if a.shape != self.shapes[n]:
                raise ValueError(f"{self.name}: input {n!r} must have shape {self.shapes[n]}, got {a.shape}")
            host, ptr = self._host[n]
            np.copyto(host, a, casting="same_kind")
            cuda.htod_async(self._dev[n], ptr, host.nbytes, st)
        if not self._ctx.execute_async_v3(st):
            raise RuntimeError(f"TensorRT failed to enqueue {self.name} (see its messages above)")
        for n in self.outputs:
            host, ptr = self._host[n]
            cuda.dtoh_async(ptr, self._dev[n], host.nbytes, st)
        cuda.synchronize(st)
        return {n: self._host[n][0].copy() for n in self.outputs}

    def close(self) -> None:
        cuda = getattr(self, "_cuda", None)
        if cuda is None or not getattr(self, "_dev", None):
            return
        cuda.synchronize(self._stream)
        self._ctx = None
        for ptr in self._dev.values():
            cuda.free(ptr)
        for _, ptr in self._host.values():
            cuda.free_host(ptr)
        self._dev, self._host = {}, {}
        cuda.stream_destroy(self._stream)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: CUDA may already be gone
            pass
