"""The heatmap kernel's shared per-pixel function with NaN landmarks (device data is never
checked: a NaN draws nothing instead of poisoning the face's heatmap), bit-exact agreement of the
vectorised CPU loops with the scalar arithmetic they implement, bounded scratch, absurd sizes."""
from __future__ import annotations

import numpy as np
import pytest

_cpu = pytest.importorskip("atpn_edge._cpu", reason="native kernels not built")
from atpn_edge import kernels  # noqa: E402
from kernel_refs import fresh_rng  # noqa: E402

F = np.float32
CUTOFF = F(5.6777)  # kHeatCutoffSigmas in pixel_math.h


def exp_neg_f32(x: np.ndarray) -> np.ndarray:
    """pixel_math.h's exp_neg, one float32 operation at a time (numpy rounds each to float32)."""
    x = np.maximum(x.astype(F), F(-87.0))
    n = (x * F(1.44269504088896341) - F(0.5)).astype(np.int32).astype(F)
    r = x + -(n * F(0.693359375))
    r = r + n * F(2.12194440e-4)
    p = F(1.9875691500e-4)
    for c in (1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1):
        p = p * r + F(c)
    p = (p * (r * r) + r) + F(1.0)
    scale = ((n.astype(np.int32) + 127) << 23).astype(np.int32).view(F)
    return (p * scale).astype(F)


def gauss_1d_f32(i: np.ndarray, centre: F, inv: F, radius: F) -> np.ndarray:
    d = (i.astype(F) + F(0.5)) + -centre
    g = exp_neg_f32(-((d * d) * inv))
    return g * np.where(np.abs(d) <= radius, F(1.0), F(0.0))


def heatmap_scalar(lm: np.ndarray, h: int, w: int, sigma: float) -> np.ndarray:
    """The kernels' arithmetic spelled out in float32 (heat_centre maps NaN to +inf)."""
    s32 = float(F(sigma))  # the binding takes sigma as a float32, then works in double
    inv = F(1.0 / (2.0 * s32 * s32))
    radius = CUTOFF * F(sigma)
    out = np.zeros((lm.shape[0], 1, h, w), F)
    with np.errstate(invalid="ignore", over="ignore"):
        for n in range(lm.shape[0]):
            for k in range(lm.shape[1]):
                cx, cy = lm[n, k, 0] * F(w), lm[n, k, 1] * F(h)
                cx, cy = (F(np.inf) if np.isnan(c) else c for c in (cx, cy))
                gx = gauss_1d_f32(np.arange(w), cx, inv, radius)
                gy = gauss_1d_f32(np.arange(h), cy, inv, radius)
                out[n, 0] = np.maximum(out[n, 0], gy[:, None] * gx[None, :])
    return out


@pytest.mark.parametrize("hw", [(28, 28), (64, 48), (13, 7)])
def test_vectorised_cpu_heatmap_is_bit_exact_with_the_scalar_arithmetic(hw):
    rng, seed = fresh_rng()
    lm = rng.uniform(-0.2, 1.2, (2, 17, 2)).astype(F)
    sigma = float(rng.uniform(0.6, 3.0))
    got = kernels.render_heatmap(lm, *hw, sigma)
    np.testing.assert_array_equal(got, heatmap_scalar(lm, *hw, sigma), err_msg=f"seed {seed}")


def test_shared_per_pixel_function_gives_zero_for_nan_and_inf():
    """The function the CUDA kernel evaluates per table entry: NaN * 0 would be NaN."""
    for l in (np.nan, np.inf, -np.inf, 1e38):
        assert [_cpu.heat_1d(i, l, 28, 1.5) for i in (0, 13, 27)] == [0.0, 0.0, 0.0]
    assert abs(_cpu.heat_1d(14, 0.5, 28, 1.5) - np.exp(-0.25 / (2 * 1.5 ** 2))) < 1e-6


def test_a_nan_landmark_draws_nothing():
    rng, seed = fresh_rng()
    lm = rng.uniform(0.1, 0.9, (2, 68, 2)).astype(F)
    bad = lm.copy()
    bad[0, 5, 0] = np.nan  # one coordinate of one point of face 0
    bad[1, 7] = [np.inf, -np.inf]
    out = np.empty((2, 1, 28, 28), F)
    _cpu.render_heatmap(bad, 1.5, out, "skip")
    assert np.isfinite(out).all()
    want0 = kernels.render_heatmap(np.delete(lm[:1], 5, axis=1), 28, 28, 1.5)
    want1 = kernels.render_heatmap(np.delete(lm[1:], 7, axis=1), 28, 28, 1.5)
    np.testing.assert_array_equal(out[:1], want0, err_msg=f"seed {seed}")
    np.testing.assert_array_equal(out[1:], want1, err_msg=f"seed {seed}")
    np.testing.assert_array_equal(out, heatmap_scalar(bad, 28, 28, 1.5))
    with pytest.raises(ValueError, match="NaN or inf"):  # the public CPU form still refuses them
        kernels.render_heatmap(bad, 28, 28, 1.5)
    with pytest.raises(ValueError, match="'raise' or 'skip'"):
        _cpu.render_heatmap(bad, 1.5, out, "ignore")


def test_scratch_is_not_kept_after_a_huge_call():
    lm = np.full((1, 4, 2), 0.5, F)
    kernels.render_heatmap(lm, 64, 64, 2.0)
    small = _cpu.heatmap_scratch_bytes()
    assert 0 < small <= 1 << 20
    kernels.render_heatmap(lm, 2048, 2048, 2.0)  # 16 MiB of scratch while it runs
    assert _cpu.heatmap_scratch_bytes() == small  # ... none of it kept
    kernels.render_heatmap(lm, 28, 28, 2.0)
    assert _cpu.heatmap_scratch_bytes() <= 1 << 20


@pytest.mark.parametrize("h, w", [(100_000, 28), (28, 4097), (1 << 31, 1 << 31)])
def test_absurd_heatmap_sizes_are_refused_before_allocating(h, w):
    lm = np.full((1, 4, 2), 0.5, F)
    with pytest.raises(ValueError, match="too large"):
        kernels.render_heatmap(lm, h, w, 1.5)
    with pytest.raises(ValueError, match="too large"):
        _cpu.render_heatmap(lm, 1.5, np.empty((1, 1, min(h, 5000), min(w, 5000)), F)) if h * w < 1 << 26 \
            else kernels.render_heatmap(lm, h, w, 1.5)
    from atpn_edge.cuda import render_heatmap_cuda

    try:
        render_heatmap_cuda(lm, h, w, 1.5, 0)
    except ImportError:
        pass  # CPU-only build
    except ValueError as exc:
        assert "too large" in str(exc)
    else:
        raise AssertionError("render_heatmap_cuda accepted an absurd size")
