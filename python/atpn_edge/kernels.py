"""Native preprocessing and heatmap kernels (formulas: docs/SPEC.md, Kernels), on numpy arrays.

``warp_crop`` / ``warp_crop_batch`` crop faces from a BGR uint8 frame with 2x3 affines in OpenCV's
convention (frame -> crop, bilinear, constant 0 border) and return float32 NCHW RGB tensors
normalised as ``(v/255 - mean[c]) / std[c]`` (mean and std in RGB order). ``render_heatmap``
renders ``max_k exp(-((x+0.5-W*lx)^2 + (y+0.5-H*ly)^2) / (2 sigma^2))`` for crop-normalised
landmarks. ``letterbox_area`` shrinks a frame into the detector's square input. All run in C++
with the GIL released.

Inputs are converted where that is safe (non-contiguous arrays are copied, float affines are
promoted to float64); ``out=`` buffers are never copied, so they must already be C-contiguous
float32 of the exact shape. Bad input raises ``TypeError`` (wrong dtype/type) or ``ValueError``.

The CUDA forms ``warp_crop_batch_cuda`` / ``render_heatmap_cuda`` (device buffers, streams) are
defined in :mod:`atpn_edge.cuda` and re-exported here; ``gpu_status()`` says whether they can run.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from . import _cpu
from .core.validate import MAX_HEATMAP_SIDE, check_affines as _affines, check_heatmap_size, \
    check_size as _size, check_triple as _triple
from .cuda import gpu_status, render_heatmap_cuda, warp_crop_batch_cuda

__all__ = ["warp_crop", "warp_crop_batch", "letterbox_area", "render_heatmap", "simd_level", "gpu_status",
           "warp_crop_batch_cuda", "render_heatmap_cuda"]

Triple = Sequence[float]


def warp_crop_batch(frame: np.ndarray, affines: np.ndarray, size: int, mean: Triple, std: Triple,
                    out: Optional[np.ndarray] = None) -> np.ndarray:
    """Crop N faces from one frame into one NCHW batch.

    Args:
        frame: uint8 [H, W, 3], BGR.
        affines: [N, 2, 3] frame->crop affines (as for ``cv2.warpAffine(frame, A, (size, size))``).
        size: crop side S in pixels.
        mean, std: per-channel normalisation in RGB order; std > 0.
        out: optional preallocated C-contiguous float32 [N, 3, S, S] to write into.

    Returns:
        float32 [N, 3, S, S] (``out`` when given).
    """
    # Per-call Python work costs as much as a crop, so arrays that are already right go straight
    # to the native module, which re-checks dtype, shape, layout, finiteness and singularity.
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a numpy array, got {type(frame).__name__}")
    if not frame.flags.c_contiguous:
        frame = np.ascontiguousarray(frame)
    if not (type(affines) is np.ndarray and affines.dtype == np.float64 and affines.ndim == 3
            and affines.flags.c_contiguous):
        affines = _affines(affines, batched=True)
    s = size if type(size) is int and size > 0 else _size(size)
    if out is None:
        out = np.empty((affines.shape[0], 3, s, s), np.float32)
    elif not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    _cpu.warp_crop_batch(frame, affines, s, _fast_triple(mean, "mean"), _fast_triple(std, "std"),
                         out)
    return out


def letterbox_area(frame: np.ndarray, out_w: int, out_h: int, x0: int, y0: int, size: int, mean: Triple,
                   std: Triple) -> np.ndarray:
    """Shrink a BGR uint8 frame [H, W, 3] by area averaging (each output pixel the mean of the
    frame area it covers, fractional edges weighted) to ``out_w`` x ``out_h`` <= the frame, placed
    at (``x0``, ``y0``) in a square of side ``size``: float32 [1, 3, size, size], RGB planes
    normalised as ``(v/255 - mean[c]) / std[c]``, the rest a black pixel's value (a letterbox)."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a numpy array, got {type(frame).__name__}")
    if not frame.flags.c_contiguous:
        frame = np.ascontiguousarray(frame)
    side = _size(size)
    out = np.empty((1, 3, side, side), np.float32)
    _cpu.letterbox_area(frame, int(out_w), int(out_h), int(x0), int(y0), _fast_triple(mean, "mean"),
                        _fast_triple(std, "std"), out)
    return out


def _fast_triple(v: Triple, name: str) -> Triple:
    return v if type(v) is tuple and len(v) == 3 else _triple(v, name)


def warp_crop(frame: np.ndarray, affine: np.ndarray, size: int, mean: Triple,
              std: Triple) -> np.ndarray:
    """Crop one face: like :func:`warp_crop_batch` with a single [2, 3] affine -> f32 [3, S, S]."""
    return warp_crop_batch(frame, _affines(affine, batched=False), size, mean, std)[0]


def render_heatmap(landmarks: np.ndarray, height: int, width: int, sigma: float,
                   out: Optional[np.ndarray] = None) -> np.ndarray:
    """Render one max-of-Gaussians heatmap per face.

    Args:
        landmarks: [N, K, 2] (x, y) in crop-normalised coordinates (0..1 spans the crop);
            float32 is used as is, other real dtypes are converted. NaN/inf are rejected.
        height, width: heatmap size (Hh, Wh).
        sigma: Gaussian sigma in heatmap pixels, > 0.
        out: optional preallocated C-contiguous float32 [N, 1, Hh, Wh].

    Returns:
        float32 [N, 1, Hh, Wh], within 1e-7 (absolute) plus float rounding of the SPEC formula.
    """
    lm = landmarks
    if not (type(lm) is np.ndarray and lm.dtype == np.float32 and lm.flags.c_contiguous):
        lm = np.asarray(lm)
        if lm.dtype.kind not in "fiu":
            raise TypeError(f"landmarks must be a real-valued array, got dtype {lm.dtype}")
        lm = np.ascontiguousarray(lm, dtype=np.float32)
    if lm.ndim != 3 or lm.shape[2] != 2:
        raise ValueError(f"landmarks must have shape (N, K, 2), got {lm.shape}")
    if (type(height) is int and type(width) is int and 0 < height <= MAX_HEATMAP_SIDE
            and 0 < width <= MAX_HEATMAP_SIDE):
        h, w = height, width
    else:
        h, w = check_heatmap_size(height, width)
    if isinstance(sigma, (bool, np.bool_)) or not isinstance(sigma, (int, float, np.number)):
        raise TypeError(f"sigma must be a number, got {type(sigma).__name__}")
    if not sigma > 0 or sigma == float("inf"):  # also catches NaN
        raise ValueError(f"sigma must be finite and > 0, got {sigma}")
    # NaN/inf landmarks are rejected by the native module (it scans them anyway).
    if out is None:
        out = np.empty((lm.shape[0], 1, h, w), np.float32)
    elif not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    elif out.shape[2:] != (h, w):  # the native module only sees out's own height and width
        raise ValueError(f"out must have shape {(lm.shape[0], 1, h, w)}, got {out.shape}")
    _cpu.render_heatmap(lm, float(sigma), out)
    return out


def simd_level() -> str:
    """Instruction set of the CPU warp here: 'avx512', 'avx2', 'neon' or 'scalar'."""
    return _cpu.warp_simd_level()

