"""Timing the pipeline: per-stage medians and p90 from timed runs, and the whole tracking step
(what the tracker calls per frame: `Pipeline.run` including input checks and postprocessing) from
untimed runs, for N faces on one frame."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..runtime import STAGES, Pipeline
from ..core.crop import CropParams, crop_affine

VIDEO = Path("videos") / "d3.mp4"


def default_video() -> Path:
    """d3.mp4 of the shared data: $ATPN_SHARED_DATA, beside the source checkout, or ../shared/data."""
    roots = [os.environ.get("ATPN_SHARED_DATA"), Path(__file__).resolve().parents[3].parent / "shared" / "data",
             Path.cwd().parent / "shared" / "data"]
    for root in roots:
        if root and (Path(root) / VIDEO).is_file():
            return Path(root) / VIDEO
    return Path("shared") / VIDEO  # absent: the caller falls back to a synthetic frame


def bench_frame(video: str | os.PathLike | None = None) -> tuple[np.ndarray, str]:
    """The first frame of ``video`` (default: the shared d3.mp4), else a synthetic 1280x720 frame."""
    import cv2

    path = Path(video) if video else default_video()
    if path.is_file():
        cap = cv2.VideoCapture(str(path))
        ok, frame = cap.read()
        cap.release()
        if ok:
            return frame, f"first frame of {path.name} ({frame.shape[1]}x{frame.shape[0]})"
    elif video:
        raise FileNotFoundError(f"benchmark video not found: {path}")
    rng = np.random.default_rng(0)
    frame = cv2.resize(rng.integers(0, 256, (72, 128, 3), dtype=np.uint8), (1280, 720), interpolation=cv2.INTER_CUBIC)
    return frame, "synthetic 1280x720 (no video found)"


def bench_affines(frame: np.ndarray, n: int, size: int) -> np.ndarray:
    """N face-sized, slightly rotated crops spread over the frame (timing does not depend on
    where the faces are, only on N and the crop size)."""
    h, w = frame.shape[:2]
    side = min(h, w) / 2.5
    params = [CropParams((w * (i + 1) / (n + 1), h / 2), side, 0.1 * (i % 3 - 1)) for i in range(n)]
    return np.stack([crop_affine(p, size) for p in params])


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1e3
    return {"median_ms": round(float(np.median(ms)), 4), "p90_ms": round(float(np.percentile(ms, 90)), 4)}


def time_pipeline(pipeline: Pipeline, frame: np.ndarray, n: int, runs: int = 500, warmup: int = 50) -> dict:
    """{"stages": name -> {median_ms, p90_ms}, "step": {median_ms, p90_ms}} for N faces."""
    affines = bench_affines(frame, n, pipeline.info.input_size)
    for _ in range(warmup):
        pipeline.run(frame, affines)
    step = []
    clock = time.perf_counter
    # Interleave untimed and timed runs, so both see the same machine load.
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    for _ in range(runs):
        t = clock()
        pipeline.run(frame, affines)
        step.append(clock() - t)
        timings = pipeline.run(frame, affines, timed=True).timings
        for name in STAGES:
            per_stage[name].append(timings[name])
    return {"stages": {s: _summary(v) for s, v in per_stage.items()}, "step": _summary(step)}


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _run(cmd: list[str]) -> str | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def jetson_info() -> dict | None:
    """JetPack/L4T release, power mode and whether jetson_clocks pinned the GPU clock (it sets the
    GPU's devfreq min_freq to max_freq); None off a Jetson."""
    release = _read("/etc/nv_tegra_release")
    if release is None:
        return None
    from ..cuda.tegra import gpu_clocks  # finds the GPU's devfreq node on JetPack 5 and 6

    gpu = gpu_clocks()
    return {"l4t_release": release.splitlines()[0], "nvpmodel": _run(["nvpmodel", "-q"]),
            "jetson_clocks": gpu["pinned"] if gpu else None, "gpu_clock": gpu}


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name") or line.startswith("Model"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(), "python": sys.version.split()[0]}


def versions(backend: str) -> dict:
    import cv2
    import onnxruntime

    from .. import __version__

    out = {"atpn_edge": __version__, "numpy": np.__version__, "opencv": cv2.__version__, "onnxruntime": onnxruntime.__version__}
    if backend == "tensorrt":
        import tensorrt

        out["tensorrt"] = tensorrt.__version__
    return out
