"""The inference runtime: `create_pipeline` returns a `Pipeline` (frame + crop affines ->
landmarks, pose, face score) on the best available backend. See docs/CONTRIBUTING_INTERNAL.md."""
from __future__ import annotations

import os

from .pipeline import STAGES, Pipeline, PipelineResult


def create_pipeline(
    model: str | os.PathLike | None = None,
    backend: str = "auto",
    threads: int = 1,
    max_faces: int = 8,
    **options: object,
) -> Pipeline:
    """A pipeline for ``model`` (a model directory or name; None = the shipped default).

    ``backend``: "auto", "tensorrt", "onnxruntime-cuda" or "onnxruntime" (CPU). ``threads`` is
    the CPU thread count of ONNX Runtime. ``options`` are the chosen backend's
    (`options.OnnxRuntimeOptions`: ``precision``, ``io_binding``; `options.TensorRTOptions`:
    ``precision``, ``cuda_graph``, ``cache_dir``, ...); one the backend does not have raises a
    ValueError naming the backend.
    """
    from dataclasses import asdict

    from ..core.validate import check_int_option
    from .models import load_info, resolve_model
    from .options import backend_options
    from .select import select_backend

    check_int_option(threads, "threads", 1)  # before a model loads, named as the caller named it
    check_int_option(max_faces, "max_faces", 1)

    files = resolve_model(model)
    info = load_info(files)
    choice = select_backend(backend, str(files.stage1))
    typed, injected = backend_options(choice.backend, options)
    if choice.backend == "tensorrt":
        from .tensorrt_backend import TensorRTPipeline

        pipeline: Pipeline = TensorRTPipeline(files, info, max_faces=max_faces, **asdict(typed), **injected)
    else:
        from .onnxruntime_backend import CPU, CUDA, OnnxRuntimePipeline

        providers = (CUDA, CPU) if choice.backend == "onnxruntime-cuda" else (CPU,)
        pipeline = OnnxRuntimePipeline(files, info, threads=threads, max_faces=max_faces, providers=providers,
                                       **asdict(typed))
    pipeline.backend_reason = choice.reason  # why this backend (for "auto": why not a faster one)
    return pipeline


__all__ = ["create_pipeline", "Pipeline", "PipelineResult", "STAGES"]
