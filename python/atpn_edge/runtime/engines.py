"""The engines of a model on this device: from the cache when they match, else built (and cached).
Shared by `atpn-edge build` and by the TensorRT pipeline (which builds on first use)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..core.model_info import ModelInfo
from .engine_build import BuildSettings, build_engine_bytes, stderr_log
from .engine_cache import EngineKey, default_cache_dir, get_or_build, sha256_file
from .models import ModelFiles

KINDS = ("stage1", "stage2")


def import_tensorrt():
    try:
        import tensorrt as trt
    except ImportError:
        raise RuntimeError(
            "TensorRT is not importable: on a Jetson it comes with JetPack (python3-libnvinfer); create the venv "
            "with --system-site-packages (docs/JETSON.md). Elsewhere use --backend onnxruntime"
        ) from None
    return trt


def engine_key(trt, cuda, onnx_path: Path, kind: str, settings: BuildSettings) -> EngineKey:
    major, minor = cuda.compute_capability()
    return EngineKey(
        graph=kind,
        model_sha256=sha256_file(onnx_path),
        tensorrt_version=str(trt.__version__),
        gpu_name=cuda.device_name(),
        compute_capability=f"{major}.{minor}",
        precision=settings.precision,
        max_batch=int(settings.max_batch),
    )


def ensure_engines(trt, cuda, files: ModelFiles, info: ModelInfo, settings: BuildSettings,
                   cache_dir: Path | None = None, calib_dir: Path | None = None, force: bool = False,
                   log: Callable[[str], None] = stderr_log) -> dict[str, Path]:
    """Engine paths for stage 1 and stage 2, building what is missing or stale."""
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir() / files.name
    if settings.timing_cache is None:
        settings = replace(settings, timing_cache=base / "timing.cache")
    paths: dict[str, Path] = {}
    for kind in KINDS:
        onnx_path = getattr(files, kind)
        key = engine_key(trt, cuda, onnx_path, kind, settings)
        path = base / key.filename()

        def build(kind: str = kind, onnx_path: Path = onnx_path) -> bytes:
            stage_settings = settings
            if settings.precision == "int8" and calib_dir is not None:
                from .calibrator import calibration_inputs, load_crops, make_calibrator

                inputs = calibration_inputs(kind, files, info, load_crops(calib_dir, info))
                cache = base / f"{kind}.{key.model_sha256[:12]}.calib"
                stage_settings = replace(settings, calibrator=make_calibrator(trt, cuda, inputs, 8, cache))
            return build_engine_bytes(trt, onnx_path, kind, stage_settings, log)

        extra = {"workspace_bytes": settings.workspace_bytes, "opt_batch": settings.opt_batch}
        get_or_build(path, key, build, log, force=force, extra=extra)
        paths[kind] = path
    return paths
