"""Kernel benchmark: our kernels against the best OpenCV / numpy way to do the same job, timed
side by side in one process (calls interleaved, so both see the same machine load).

Cases (1280x720 BGR frame, 112x112 crops, 68 landmarks):
- ``warp_crop``: ``kernels.warp_crop_batch`` (N=1, into a preallocated buffer) against
  ``cv2.warpAffine`` + ``cv2.dnn.blobFromImageWithParams`` (per-channel scale folds the std in,
  so OpenCV does the whole normalise + NCHW in one call; the fastest OpenCV path we found).
- ``warp_crop_n8``: 8 crops, against 8 such OpenCV calls.
- ``warp_crop[avx2]`` / ``warp_crop[scalar]``: our lower instruction sets (fewer runs).
- ``heatmap_28`` / ``heatmap_56``: ``kernels.render_heatmap`` against a float32 numpy broadcast.
- CUDA cases when a GPU is usable (time per launch over back-to-back launches on one stream,
  data already on the device).

Goals on the CI CPU: warp_crop <= 0.5x the OpenCV path; heatmap 68 points at 28x28 <= 10 us.
"""
from __future__ import annotations

import datetime
import platform
import time
from typing import Any, Callable, Dict, List, Optional

import cv2
import numpy as np

from .. import kernels

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
GOAL_WARP_RATIO = 0.5
GOAL_HEATMAP_28_MS = 0.010


def _stats(seconds: List[float]) -> Dict[str, float]:
    a = np.asarray(seconds) * 1e3
    return {"median_ms": float(np.median(a)), "p90_ms": float(np.percentile(a, 90))}


def _side_by_side(fns: Dict[str, Callable[[], Any]], repeats: int, warmup: int) -> Dict[str, Dict]:
    """Times each function `repeats` times, interleaved call by call."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: Dict[str, List[float]] = {k: [] for k in fns}
    clock = time.perf_counter
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = clock()
            fn()
            times[name].append(clock() - t0)
    return {k: _stats(v) for k, v in times.items()}


def _case(ours: Dict, baseline: Dict, baseline_name: str) -> Dict[str, Any]:
    return {"ours": ours, "baseline": baseline, "baseline_name": baseline_name,
            "ratio_median": ours["median_ms"] / baseline["median_ms"],
            "ratio_p90": ours["p90_ms"] / baseline["p90_ms"]}


def _affines(n: int, size: int) -> np.ndarray:
    """Face-sized crops spread over a 1280x720 frame, mildly rotated (a tracking workload)."""
    out = []
    for i in range(n):
        cx, cy, side, ang = 300 + 90 * i, 330 + 10 * (i % 3), 260.0, -15 + 4 * i
        a = cv2.getRotationMatrix2D((cx, cy), ang, size / side)
        a[:, 2] += (size / 2 - cx, size / 2 - cy)
        out.append(a)
    return np.stack(out)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_kernel_bench(threads: int = 1, repeats: int = 1000, warmup: int = 50, size: int = 112,
                     frame: Optional[np.ndarray] = None, cuda: Optional[bool] = None) -> Dict[str, Any]:
    """Runs every case and returns a JSON-able dict (per case ``ours``/``baseline`` with
    ``median_ms``/``p90_ms``, ``ratio_median``/``ratio_p90``; ``goals``; ``machine``).

    threads: OpenCV's thread count during the run (restored after); our CPU kernels use one.
    frame: BGR u8 frame (default: seeded random 1280x720). cuda: None = when a GPU is usable.
    """
    if frame is None:
        frame = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    old_threads = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        cases: Dict[str, Any] = {}
        params = cv2.dnn.Image2BlobParams(
            scalefactor=tuple(1.0 / (255.0 * s) for s in STD), size=(size, size),
            mean=tuple(255.0 * m for m in MEAN), swapRB=True, ddepth=cv2.CV_32F)

        def opencv_crops(affs: np.ndarray) -> List[np.ndarray]:
            return [cv2.dnn.blobFromImageWithParams(
                cv2.warpAffine(frame, a, (size, size), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT), params) for a in affs]

        for name, n in (("warp_crop", 1), ("warp_crop_n8", 8)):
            affs = _affines(n, size)
            out = np.empty((n, 3, size, size), np.float32)
            # Same job, same answer (up to OpenCV's 1/32 px rounding): checked before timing.
            ref = np.concatenate(opencv_crops(affs))
            ours_out = kernels.warp_crop_batch(frame, affs, size, MEAN, STD, out=out)
            assert np.abs(ours_out - ref).max() < 0.2, "warp_crop disagrees with OpenCV"
            t = _side_by_side({
                "ours": lambda: kernels.warp_crop_batch(frame, affs, size, MEAN, STD, out=out),
                "opencv": lambda: opencv_crops(affs)}, repeats, warmup)
            cases[name] = _case(t["ours"], t["opencv"],
                                "cv2.warpAffine + cv2.dnn.blobFromImageWithParams")

        # Lower instruction sets of our warp (what a CPU without AVX-512 / AVX2 gets), against
        # the same OpenCV path, for the record.
        from .. import _cpu
        affs = _affines(1, size)
        out = np.empty((1, 3, size, size), np.float32)
        for level in _cpu.warp_simd_levels()[:-1]:
            t = _side_by_side({
                "ours": lambda: _cpu.warp_crop_batch(frame, affs, size, MEAN, STD, out, level),
                "opencv": lambda: opencv_crops(affs)}, max(repeats // 4, 20), warmup)
            cases[f"warp_crop[{level}]"] = _case(
                t["ours"], t["opencv"], "cv2.warpAffine + cv2.dnn.blobFromImageWithParams")

        lm = np.random.default_rng(1).uniform(0.1, 0.9, (1, 68, 2)).astype(np.float32)
        sigma = 1.5
        for hw in (28, 56):
            out = np.empty((1, 1, hw, hw), np.float32)
            grid = (np.arange(hw, dtype=np.float32) + 0.5)
            inv = np.float32(1.0 / (2 * sigma * sigma))

            def numpy_heat(hw: int = hw, grid: np.ndarray = grid, inv: np.float32 = inv) -> np.ndarray:
                dx = grid[None, None, :] - hw * lm[0, :, 0, None, None]
                dy = grid[None, :, None] - hw * lm[0, :, 1, None, None]
                return np.exp(-(dx * dx + dy * dy) * inv).max(axis=0)

            assert np.abs(kernels.render_heatmap(lm, hw, hw, sigma, out=out)[0, 0]
                          - numpy_heat()).max() < 1e-5
            t = _side_by_side({"ours": lambda: kernels.render_heatmap(lm, hw, hw, sigma, out=out),
                               "numpy": numpy_heat}, repeats, warmup)
            cases[f"heatmap_{hw}"] = _case(t["ours"], t["numpy"], "numpy float32 broadcast")

        gpu_ok, gpu_reason = kernels.gpu_status()
        if cuda is None:
            cuda = gpu_ok
        if cuda:
            cases.update(_cuda_cases(frame, size, lm, sigma, repeats))
    finally:
        cv2.setNumThreads(old_threads)

    warp, heat = cases["warp_crop"], cases["heatmap_28"]
    goals = {
        "warp_crop_ratio_median<=0.5": warp["ratio_median"] <= GOAL_WARP_RATIO,
        "heatmap_28_median<=0.010ms": heat["ours"]["median_ms"] <= GOAL_HEATMAP_28_MS,
    }
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu": _cpu_model(), "arch": platform.machine(),
                    "python": platform.python_version(), "opencv": cv2.__version__,
                    "numpy": np.__version__, "simd": kernels.simd_level(), "gpu": gpu_reason},
        "threads": threads, "repeats": repeats, "size": size,
        "frame": f"{frame.shape[1]}x{frame.shape[0]}", "cases": cases, "goals": goals,
    }


def _cuda_cases(frame: np.ndarray, size: int, lm: np.ndarray, sigma: float,
                repeats: int) -> Dict[str, Any]:
    """Per-launch time of the CUDA kernels with everything on the device (launch + kernel,
    averaged over `repeats` back-to-back launches per sample, 20 samples)."""
    from .. import cuda as gpu

    cu = gpu.native()
    stream = cu.stream_create()
    out: Dict[str, Any] = {}
    try:
        dframe = gpu.DeviceBuffer(frame.shape, np.uint8).upload(frame, stream)
        for name, n in (("cuda_warp_crop", 1), ("cuda_warp_crop_n8", 8)):
            affs = _affines(n, size)
            dout = gpu.DeviceBuffer((n, 3, size, size), np.float32)
            run = lambda: gpu.warp_crop_batch_cuda(dframe, affs, size, MEAN, STD, dout, stream)  # noqa: E731
            out[name] = {"ours": _cuda_time(cu, stream, run, repeats), "baseline": None,
                         "baseline_name": None}
            dout.close()
        for hw in (28, 56):
            dlm = gpu.DeviceBuffer(lm.shape, np.float32).upload(lm, stream)
            dheat = gpu.DeviceBuffer((1, 1, hw, hw), np.float32)
            run = lambda: gpu.render_heatmap_cuda(dlm, hw, hw, sigma, dheat, stream)  # noqa: E731
            out[f"cuda_heatmap_{hw}"] = {"ours": _cuda_time(cu, stream, run, repeats),
                                         "baseline": None, "baseline_name": None}
        cu.stream_synchronize(stream)
    finally:
        cu.stream_destroy(stream)
    return out


def _cuda_time(cu: Any, stream: int, run: Callable[[], None], repeats: int) -> Dict[str, float]:
    per = max(1, repeats // 20)
    for _ in range(per):
        run()
    cu.stream_synchronize(stream)
    samples = []
    for _ in range(20):
        t0 = time.perf_counter()
        for _ in range(per):
            run()
        cu.stream_synchronize(stream)
        samples.append((time.perf_counter() - t0) / per)
    return _stats(samples)


def format_kernel_bench(result: Dict[str, Any]) -> str:
    """Human-readable table of a run_kernel_bench() result."""
    m = result["machine"]
    lines = [f"kernels: {m['cpu']} ({m['arch']}, {m['simd']}), OpenCV {m['opencv']}, "
             f"{result['threads']} thread(s), {result['repeats']} runs, {result['date']}",
             f"GPU: {m['gpu']}",
             f"{'case':<20}{'ours med/p90 (us)':>22}{'baseline med/p90 (us)':>26}{'ratio':>8}  baseline"]
    for name, c in result["cases"].items():
        o = c["ours"]
        ours = f"{o['median_ms'] * 1e3:9.1f} /{o['p90_ms'] * 1e3:8.1f}"
        if c["baseline"] is None:
            lines.append(f"{name:<20}{ours:>22}")
            continue
        b = c["baseline"]
        base = f"{b['median_ms'] * 1e3:9.1f} /{b['p90_ms'] * 1e3:8.1f}"
        lines.append(f"{name:<20}{ours:>22}{base:>26}{c['ratio_median']:8.2f}  {c['baseline_name']}")
    lines.append("goals: " + ", ".join(f"{k}: {'met' if v else 'NOT met'}"
                                       for k, v in result["goals"].items()))
    return "\n".join(lines)


def run_and_print(threads: int, runs: int, warmup: int, cuda: Optional[bool] = None,
                  json_path: Optional[str] = None) -> Dict[str, Any]:
    """The kernel benchmark as `atpn-edge bench --kernels`
    run it: prints the table, optionally writes the JSON, returns the result."""
    import json

    result = run_kernel_bench(threads=threads, repeats=runs, warmup=warmup, cuda=cuda)
    print(format_kernel_bench(result))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=2)
    return result
