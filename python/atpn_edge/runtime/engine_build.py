"""ONNX -> serialized TensorRT engine with the TensorRT 10 builder API: explicit-batch network,
ONNX parser, one optimisation profile for batch 1..max_batch, a workspace limit, a timing cache
that later builds reuse (one per device and TensorRT version, checked when loaded, written
atomically), and progress output while it builds (builds take minutes on a Jetson).

``trt`` is the imported `tensorrt` module, passed in so that this module imports without it.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .engine_cache import atomic_write
from .models import GRAPH_IO, check_io_names

PRECISIONS = ("fp32", "fp16", "int8")


@dataclass
class BuildSettings:
    precision: str = "fp16"
    max_batch: int = 8
    opt_batch: int = 1  # tracking usually follows one face: tune the kernels for that
    workspace_bytes: int = 256 << 20  # Orin Nano has 8 GB shared with the CPU
    timing_cache: Path | None = None
    calibrator: object = None  # an IInt8EntropyCalibrator2 for precision "int8" without Q/DQ
    calib_batch: int = 8  # the batch the calibrator uploads (the calibration profile's OPT)


def apply_precision(trt, config, network, precision: str, calibrator: object = None) -> None:
    """The one place that knows how a precision is requested from the builder.

    TensorRT 10: builder flags, and for INT8 either explicit Q/DQ layers in the ONNX graph or an
    INT8 calibrator. TensorRT 11 drops the flags and calibrators (strongly typed networks only):
    there precision comes from the ONNX file itself, so anything but "fp32" (= as typed) is an
    error that says what to do instead.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return
    flags = getattr(trt, "BuilderFlag", None)
    if flags is None or not hasattr(flags, "FP16"):
        raise RuntimeError(
            f"TensorRT {trt.__version__} has no {precision.upper()} builder flag (strongly typed networks only): "
            "export an FP16 or Q/DQ INT8 ONNX model and build it with --precision fp32 (= as typed in the file)"
        )
    # FP16 also for INT8: layers without INT8 kernels (or outside Q/DQ pairs) then fall back to FP16.
    config.set_flag(flags.FP16)
    if precision == "int8":
        has_qdq = any(network.get_layer(i).type == trt.LayerType.QUANTIZE for i in range(network.num_layers))
        if not has_qdq and calibrator is None:
            raise ValueError("precision int8 needs a Q/DQ ONNX model or calibration images (--calib DIR)")
        config.set_flag(flags.INT8)
        if not has_qdq:
            config.int8_calibrator = calibrator


def _progress_monitor(trt, log: Callable[[str], None]):
    """A TensorRT IProgressMonitor (10.x) that logs phase starts; None where the API is absent."""
    base = getattr(trt, "IProgressMonitor", None)
    if base is None:
        return None

    class Monitor(base):
        def __init__(self) -> None:
            base.__init__(self)

        def phase_start(self, phase_name, parent_phase, num_steps):
            if parent_phase is None:
                log(f"  {phase_name} ({num_steps} steps)")

        def step_complete(self, phase_name, step):
            return True  # False would cancel the build

        def phase_finish(self, phase_name):
            pass

    return Monitor()


class _Heartbeat:
    """A line every ``every`` seconds while a build without a progress monitor runs."""

    def __init__(self, log: Callable[[str], None], every: float = 15.0) -> None:
        self._log, self._every, self._stop = log, every, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(self._every):
            self._log(f"  still building ({time.monotonic() - start:.0f} s)")

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_LOGGERS: dict[int, object] = {}


def trt_logger(trt):
    """The process's one TensorRT logger (per `tensorrt` module: tests pass fakes). TensorRT
    keeps the first logger it is given for the whole process, so builders, parsers and
    runtimes must share it."""
    logger = _LOGGERS.get(id(trt))
    if logger is None:
        logger = _LOGGERS[id(trt)] = trt.Logger(trt.Logger.WARNING)
    return logger


def _attach_timing_cache(trt, config, path: Path | None, log: Callable[[str], None]):
    """Load the timing cache at ``path`` into ``config``; a cache TensorRT refuses (another
    device or version, corrupt) is replaced by an empty one, never a failed build."""
    if path is None:
        return None
    data = b""
    with contextlib.suppress(OSError):
        data = path.read_bytes()
    try:
        cache = config.create_timing_cache(data)
        accepted = cache is not None and config.set_timing_cache(cache, False)  # False: refuse a foreign cache
    except (RuntimeError, TypeError, ValueError):
        accepted = False
    if accepted:
        return cache
    if data:
        log(f"timing cache {path.name} was refused (another device or TensorRT version, or corrupt): starting a new one")
    cache = config.create_timing_cache(b"")
    if cache is None or not config.set_timing_cache(cache, False):
        log("TensorRT refused an empty timing cache: building without one")
        return None
    return cache


def _save_timing_cache(config, path: Path | None, log: Callable[[str], None]) -> None:
    if path is None:
        return
    cache = config.get_timing_cache()
    if cache is None:
        log(f"timing cache not saved: TensorRT has none for this build ({path.name})")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, bytes(cache.serialize()))


def build_engine_bytes(trt, onnx_path: Path, kind: str, settings: BuildSettings,
                       log: Callable[[str], None] = stderr_log) -> bytes:
    """Build one graph ("stage1", "stage2", or any ONNX model such as a detector) into a
    serialized engine. Inputs with a dynamic batch get the profile 1..max_batch (tuned for
    opt_batch); static inputs are built as they are."""
    if not 1 <= settings.opt_batch <= settings.max_batch:
        raise ValueError(f"need 1 <= opt_batch <= max_batch, got {settings.opt_batch}, {settings.max_batch}")
    logger = trt_logger(trt)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ValueError(f"{onnx_path}: TensorRT's ONNX parser failed: {errors}")
    inputs = [network.get_input(i) for i in range(network.num_inputs)]
    outputs = [network.get_output(i).name for i in range(network.num_outputs)]
    if kind in GRAPH_IO:
        check_io_names(str(onnx_path), kind, [t.name for t in inputs], outputs)

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(settings.workspace_bytes))
    dynamic = []
    for tensor in inputs:
        dims = tuple(int(d) for d in tensor.shape)
        if any(d < 0 for d in dims[1:]):
            raise ValueError(f"{onnx_path}: input {tensor.name!r} has dynamic dims besides the batch: {dims}")
        if dims and dims[0] < 0:
            dynamic.append((tensor.name, dims[1:]))
    if dynamic:
        profile = builder.create_optimization_profile()
        for name, rest in dynamic:
            profile.set_shape(name, (1, *rest), (settings.opt_batch, *rest), (settings.max_batch, *rest))
        config.add_optimization_profile(profile)
    apply_precision(trt, config, network, settings.precision, settings.calibrator)
    if settings.calibrator is not None and settings.precision == "int8" and dynamic:
        # TensorRT 10 calibrates at the calibration profile's OPT shape: it must be the batch the
        # calibrator uploads, or most of every batch is never seen.
        calib = builder.create_optimization_profile()
        b = int(settings.calib_batch)
        for name, rest in dynamic:
            calib.set_shape(name, (b, *rest), (b, *rest), (b, *rest))
        config.set_calibration_profile(calib)

    _attach_timing_cache(trt, config, settings.timing_cache, log)
    monitor = _progress_monitor(trt, log)
    start = time.monotonic()
    batch = f"batch 1..{settings.max_batch}" if dynamic else "static shapes"
    log(f"building {kind} from {onnx_path} ({settings.precision}, {batch})")
    if monitor is not None:
        config.progress_monitor = monitor
        serialized = builder.build_serialized_network(network, config)
    else:
        with _Heartbeat(log):
            serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT could not build {onnx_path} (see its messages above)")
    log(f"built {kind} in {time.monotonic() - start:.1f} s")
    _save_timing_cache(config, settings.timing_cache, log)
    return bytes(serialized)


__all__ = ["BuildSettings", "PRECISIONS", "GRAPH_IO", "apply_precision", "build_engine_bytes", "trt_logger"]
