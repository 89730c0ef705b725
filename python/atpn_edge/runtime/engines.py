"""The engines of a model on this device: from the cache when they match, else built (and
cached). Shared by `atpn-edge build`, the TensorRT pipeline (which builds on first use) and the
TensorRT runner of single-graph models such as the face detector.

``trt`` is the `tensorrt` module and ``cuda`` the CUDA layer (`atpn_edge.cuda.Cuda`); tests pass
fakes of both."""
from __future__ import annotations

import hashlib
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


def engine_key(trt, cuda, onnx_path: Path, kind: str, settings: BuildSettings, calibration_sha256: str = "") -> EngineKey:
    p = cuda.props
    return EngineKey(
        graph=kind,
        model_sha256=sha256_file(onnx_path),
        tensorrt_version=str(trt.__version__),
        gpu_name=p.name,
        compute_capability=p.compute_capability,
        multiprocessors=int(p.multiprocessors),
        memory_gib=int(round(p.total_memory / (1 << 30))),
        precision=settings.precision,
        max_batch=int(settings.max_batch),
        calibration_sha256=calibration_sha256,
    )


def timing_cache_path(base: Path, key: EngineKey) -> Path:
    """One timing cache per TensorRT version and device: TensorRT refuses a foreign one."""
    return base / f"timing.trt{key.tensorrt_version}.{key.device_tag()}.cache"


def ensure_engine(trt, cuda, onnx_path: Path, kind: str, settings: BuildSettings, base: Path,
                  force: bool = False, log: Callable[[str], None] = stderr_log,
                  calibrate: Callable[[EngineKey], object] | None = None,
                  calibration_sha256: str = "") -> tuple[Path, bytes]:
    """(path, bytes) of the engine for one ONNX graph, built when missing or stale. The bytes are
    the ones whose sha256 was checked: deserialise those, not a second read of the file.

    ``calibrate(key)`` returns an INT8 calibrator (with ``close()``) for a build that needs one."""
    key = engine_key(trt, cuda, onnx_path, kind, settings, calibration_sha256)
    path = base / key.filename()
    stage_settings = settings
    if settings.timing_cache is None:
        stage_settings = replace(settings, timing_cache=timing_cache_path(base, key))

    def build() -> bytes:
        if calibrate is None:
            return build_engine_bytes(trt, onnx_path, kind, stage_settings, log)
        calibrator = calibrate(key)
        try:
            return build_engine_bytes(trt, onnx_path, kind, replace(stage_settings, calibrator=calibrator), log)
        finally:
            calibrator.close()  # its device buffers are only needed during the build

    extra = {"workspace_bytes": settings.workspace_bytes, "opt_batch": settings.opt_batch}
    return path, get_or_build(path, key, build, log, force=force, extra=extra)


def load_engines(trt, cuda, files: ModelFiles, info: ModelInfo, settings: BuildSettings,
                 cache_dir: Path | None = None, calib_dir: Path | None = None, force: bool = False,
                 log: Callable[[str], None] = stderr_log) -> dict[str, tuple[Path, bytes]]:
    """Stage 1 and stage 2 engines as (path, checked bytes), building what is missing or stale."""
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir() / files.name
    digest = ""
    if settings.precision == "int8" and calib_dir is not None:
        from .calibrator import calibration_digest

        digest = calibration_digest(calib_dir)
    out: dict[str, tuple[Path, bytes]] = {}
    for kind in KINDS:
        onnx_path = getattr(files, kind)
        calibrate = None
        kind_digest = digest
        if digest:
            if kind == "stage2":  # calibrated on stage 1's outputs: they depend on stage 1 too
                kind_digest = hashlib.sha256((sha256_file(files.stage1) + digest).encode()).hexdigest()

            def calibrate(key: EngineKey, kind: str = kind):
                from .calibrator import CALIB_BATCH, calibration_inputs, load_crops, make_calibrator

                inputs = calibration_inputs(kind, files, info, load_crops(calib_dir, info))
                cache = base / (f"{kind}.{key.model_sha256[:12]}.trt{key.tensorrt_version}"
                                f".cal{key.calibration_sha256[:12]}.calib")
                return make_calibrator(trt, cuda, inputs, CALIB_BATCH, cache)

        out[kind] = ensure_engine(trt, cuda, onnx_path, kind, settings, base, force, log, calibrate, kind_digest)
    return out


def ensure_engines(trt, cuda, files: ModelFiles, info: ModelInfo, settings: BuildSettings,
                   cache_dir: Path | None = None, calib_dir: Path | None = None, force: bool = False,
                   log: Callable[[str], None] = stderr_log) -> dict[str, Path]:
    """Engine paths for stage 1 and stage 2, building what is missing or stale."""
    return {k: p for k, (p, _) in load_engines(trt, cuda, files, info, settings, cache_dir, calib_dir, force, log).items()}
