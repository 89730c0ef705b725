"""Input checks for the public entry points, in one place: a wrong type or dtype is a ``TypeError``,
a wrong shape or value a ``ValueError``, with the same message wherever the same input arrives.
Inner code (the native kernels, the pipeline's hot path) trusts what passed these."""
from __future__ import annotations

from typing import Sequence

import numpy as np

Triple = Sequence[float]


def check_frame_array(frame: object) -> np.ndarray:
    """A uint8 array with at least one pixel (any channel layout): the checks every frame passes."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise TypeError(f"frame must be uint8 (BGR), got dtype {frame.dtype}; convert it first")
    if frame.size == 0:
        raise ValueError(f"frame is empty: shape {frame.shape}")
    if frame.ndim not in (2, 3):
        raise ValueError(f"frame must have shape (H, W, 3) (BGR), got {frame.shape}")
    return frame


def check_frame(frame: object) -> np.ndarray:
    """A BGR uint8 (H, W, 3) frame, C-contiguous (copied only when it was not)."""
    check_frame_array(frame)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must have shape (H, W, 3) (BGR), got {frame.shape}; convert grey "
                         "(cv2.COLOR_GRAY2BGR) or BGRA (cv2.COLOR_BGRA2BGR) frames first")
    return np.ascontiguousarray(frame)


def check_affines(affines: np.ndarray, batched: bool) -> np.ndarray:
    a = np.asarray(affines)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"affine must be a real-valued array, got dtype {a.dtype}")
    want = (-1, 2, 3) if batched else (2, 3)
    if a.ndim != len(want) or a.shape[-2:] != (2, 3):
        raise ValueError(f"affine{'s' if batched else ''} must have shape "
                         f"{'(N, 2, 3)' if batched else '(2, 3)'}, got {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float64).reshape(-1, 2, 3)
    if not np.isfinite(a).all():
        raise ValueError("affine contains NaN or inf")
    return a


def check_size(size: int) -> int:
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an int, got {type(size).__name__}")
    if size <= 0:
        raise ValueError(f"size must be > 0, got {size}")
    return int(size)


def check_triple(v: Triple, name: str) -> tuple[float, float, float]:
    t = np.asarray(v, dtype=np.float64).reshape(-1)
    if t.shape != (3,):
        raise ValueError(f"{name} must have 3 values (R, G, B), got {np.shape(v)}")
    if not np.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf: {tuple(t)}")
    if name == "std" and not (t > 0).all():
        raise ValueError(f"std must be > 0, got {tuple(t)}")
    return (float(t[0]), float(t[1]), float(t[2]))


def check_out(out: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    if out.dtype != np.float32:
        raise TypeError(f"out must be float32, got dtype {out.dtype}")
    if out.shape != shape:
        raise ValueError(f"out must have shape {shape}, got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous (it is written in place, never copied)")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return out


def check_int_option(value: object, name: str, low: int | None = None) -> int:
    """An integer option (``bool`` is not one): TypeError for another type, ValueError below ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_number_option(value: object, name: str, low: float = -np.inf, high: float = np.inf, *,
                        low_open: bool = False, high_open: bool = False) -> float:
    """A finite real option in [low, high] (an end is left out when ``*_open``): TypeError for
    another type, ValueError for NaN, inf or a value outside."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    inside = np.isfinite(v) and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not inside:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        where = (f"in {lo}{low:g}, {high:g}{hi}" if np.isfinite(low) and np.isfinite(high)
                 else f"{'>' if low_open else '>='} {low:g}" if np.isfinite(low)
                 else f"{'<' if high_open else '<='} {high:g}" if np.isfinite(high) else "finite")
        raise ValueError(f"{name} must be a finite number {where}, got {value!r}")
    return v


MAX_HEATMAP_SIDE = 4096  # the native kernels' limit (cpp/include/atpn/pixel_math.h)


def check_heatmap_size(height: int, width: int) -> tuple[int, int]:
    """Heatmap sides as ints in 1..MAX_HEATMAP_SIDE: a larger one is refused before anything is
    allocated (heatmaps are 28-64 pixels a side)."""
    h, w = check_size(height), check_size(width)
    if h > MAX_HEATMAP_SIDE or w > MAX_HEATMAP_SIDE:
        raise ValueError(f"heatmap {h}x{w} is too large (at most {MAX_HEATMAP_SIDE} a side)")
    return h, w
