"""CPU kernels against cv2.warpAffine + numpy and the SPEC heatmap formula in float64.

Inputs are fresh random draws each run (the seed is printed, pytest shows it on failure;
ATPN_TEST_SEED=N replays a run).
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from atpn_edge import _cpu, kernels
from kernel_refs import (MEAN, STD, case_affines, crop_affine, fresh_rng, heatmap_reference,
                         opencv_crop, warp_reference)

STD_ARR = np.asarray(STD)[:, None, None]

# Frame sizes: HD, VGA, odd small ones and degenerate 1- and 2-pixel frames (no SIMD interior).
FRAMES = [(720, 1280), (480, 640), (37, 53), (2, 5), (1, 1)]


def run_all_paths(frame, affines, size):
    """Every SIMD level this CPU has and the scalar path (the math the CUDA kernel runs)."""
    outs = {}
    for level in _cpu.warp_simd_levels():
        out = np.full((len(affines), 3, size, size), np.nan, np.float32)
        _cpu.warp_crop_batch(frame, np.ascontiguousarray(affines, np.float64), size, MEAN, STD,
                             out, level)
        outs[level] = out
    return outs


@pytest.mark.parametrize("hw", FRAMES)
@pytest.mark.parametrize("n", [1, 8])
def test_warp_matches_float64_reference(hw, n):
    rng, _ = fresh_rng()
    frame = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
    size = int(rng.choice([112, 64, 37]))
    affines = case_affines(rng, *hw, size, n)
    outs = run_all_paths(frame, affines, size)
    scalar = outs["scalar"]
    # All paths run the same float operations in the same order (explicit FMAs, no contraction).
    for level, out in outs.items():
        np.testing.assert_array_equal(out, scalar, err_msg=f"{level} differs from scalar")
    simd = outs[_cpu.warp_simd_level()]
    ref = warp_reference(frame, affines, size)
    # Grey levels: float32 source coordinates are off by up to ~3 roundings of values < 2048
    # (<= 4e-4 px); on noise frames (slope <= 255 per px per axis) that is <= 0.2 levels.
    err = np.abs(simd - ref) * 255.0 * STD_ARR
    assert err.max() <= 0.2, f"max error {err.max():.4f} grey levels"
    assert np.isfinite(simd).all()


def test_warp_matches_opencv():
    rng, _ = fresh_rng()
    h, w, size = 720, 1280, 112
    noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    smooth = cv2.GaussianBlur(noise, (0, 0), 4.0)  # gentle slopes, like real images
    affines = case_affines(rng, h, w, size, 12)
    for frame in (noise, smooth):
        ours = kernels.warp_crop_batch(frame, affines, size, MEAN, STD)
        levels = (ours * STD_ARR + np.asarray(MEAN)[:, None, None]) * 255.0
        ref = np.stack([opencv_crop(frame, a, size) for a in affines])
        diff = np.abs(levels - ref)
        # OpenCV rounds coordinates to 1/32 px (error <= 1/64 px per axis) and its result to
        # uint8 (<= 0.5): the bound is 0.5 + (|dv/dx| + |dv/dy|) / 64 with the frame's steepest
        # slope, which includes the step to the 0 border (255) at the frame edges.
        # Bilinear slopes are differences of neighbouring pixels.
        f = frame.astype(np.float64)
        interior_slope = np.abs(np.diff(f, axis=1)).max() + np.abs(np.diff(f, axis=0)).max()
        assert diff.max() <= 0.5 + 2 * 255 / 64 + 0.05
        # Pixels whose 2x2 footprint is at least 2 px inside the frame: only interior slopes.
        inv = [cv2.invertAffineTransform(a) for a in affines]
        ys, xs = np.mgrid[0:size, 0:size]
        for i, m in enumerate(inv):
            sx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
            sy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
            inner = (sx >= 2) & (sx <= w - 3) & (sy >= 2) & (sy <= h - 3)
            if inner.any():
                d = diff[i][:, inner]
                assert d.max() <= 0.5 + interior_slope / 64 + 0.05
        if frame is smooth:
            assert diff.mean() < 0.5


def test_single_equals_batch_and_shapes():
    rng, _ = fresh_rng()
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    affines = case_affines(rng, 240, 320, 112, 3)
    batch = kernels.warp_crop_batch(frame, affines, 112, MEAN, STD)
    assert batch.shape == (3, 3, 112, 112) and batch.dtype == np.float32
    for i in range(3):
        one = kernels.warp_crop(frame, affines[i], 112, MEAN, STD)
        assert one.shape == (3, 112, 112)
        np.testing.assert_array_equal(one, batch[i])


def test_identity_crop_is_exact():
    rng, _ = fresh_rng()
    frame = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    a = np.array([[1.0, 0, -5], [0, 1.0, -7]])  # crop starts at frame pixel (5, 7)
    out = kernels.warp_crop(frame, a, 32, (0, 0, 0), (1, 1, 1))
    want = frame[7:39, 5:37, ::-1].transpose(2, 0, 1) / 255.0
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-7)


def test_empty_batches():
    out = kernels.warp_crop_batch(GOOD_FRAME, np.zeros((0, 2, 3)), 16, MEAN, STD)
    assert out.shape == (0, 3, 16, 16)
    assert kernels.render_heatmap(np.zeros((0, 68, 2), np.float32), 28, 28, 1.5).shape == (0, 1, 28, 28)


def test_out_is_written_in_place():
    rng, _ = fresh_rng()
    frame = rng.integers(0, 256, (100, 120, 3), dtype=np.uint8)
    affines = case_affines(rng, 100, 120, 48, 2)
    out = np.full((2, 3, 48, 48), np.nan, np.float32)
    ret = kernels.warp_crop_batch(frame, affines, 48, MEAN, STD, out=out)
    assert ret is out
    np.testing.assert_array_equal(out, kernels.warp_crop_batch(frame, affines, 48, MEAN, STD))


def test_noncontiguous_inputs_are_copied_not_misread():
    rng, _ = fresh_rng()
    big = rng.integers(0, 256, (90, 240, 3), dtype=np.uint8)
    view = big[::2, ::-2]  # strided and reversed: 45 x 120
    affines = case_affines(rng, 45, 120, 40, 2)
    f_affines = np.asfortranarray(affines.astype(np.float32))
    got = kernels.warp_crop_batch(view, f_affines, 40, MEAN, STD)
    want = kernels.warp_crop_batch(np.ascontiguousarray(view), affines.astype(np.float32)
                                   .astype(np.float64), 40, MEAN, STD)
    np.testing.assert_array_equal(got, want)
    # The raw module never copies: it must refuse instead of reading strided memory.
    out = np.empty((2, 3, 40, 40), np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.warp_crop_batch(view, affines, 40, MEAN, STD, out)


GOOD_FRAME = np.zeros((20, 30, 3), np.uint8)
GOOD_A = crop_affine(15, 10, 10, 0, 16)


@pytest.mark.parametrize("frame, affine, size, mean, std, exc, msg", [
    (GOOD_FRAME.astype(np.float32), GOOD_A, 16, MEAN, STD, TypeError, "uint8"),
    (GOOD_FRAME[..., 0], GOOD_A, 16, MEAN, STD, ValueError, "shape"),
    (np.zeros((20, 30, 4), np.uint8), GOOD_A, 16, MEAN, STD, ValueError, "shape"),
    (np.zeros((0, 30, 3), np.uint8), GOOD_A, 16, MEAN, STD, ValueError, "empty"),
    ([[0]], GOOD_A, 16, MEAN, STD, TypeError, "numpy"),
    (GOOD_FRAME, np.eye(3), 16, MEAN, STD, ValueError, "shape"),
    (GOOD_FRAME, np.where(np.eye(2, 3) > 0, np.nan, 0.0), 16, MEAN, STD, ValueError, "NaN"),
    (GOOD_FRAME, np.where(np.eye(2, 3) > 0, np.inf, GOOD_A), 16, MEAN, STD, ValueError, "NaN or inf"),
    (GOOD_FRAME, np.array([[1.0, 2.0, 0], [2.0, 4.0, 0]]), 16, MEAN, STD, ValueError, "singular"),
    (GOOD_FRAME, np.zeros((2, 3)), 16, MEAN, STD, ValueError, "singular"),
    (GOOD_FRAME, GOOD_A.astype(str), 16, MEAN, STD, TypeError, "real"),
    (GOOD_FRAME, GOOD_A, 0, MEAN, STD, ValueError, "size"),
    (GOOD_FRAME, GOOD_A, -3, MEAN, STD, ValueError, "size"),
    (GOOD_FRAME, GOOD_A, 16.0, MEAN, STD, TypeError, "size"),
    (GOOD_FRAME, GOOD_A, 16, (0.5, 0.5), STD, ValueError, "mean"),
    (GOOD_FRAME, GOOD_A, 16, MEAN, (0.2, 0.0, 0.2), ValueError, "std"),
    (GOOD_FRAME, GOOD_A, 16, (np.nan, 0, 0), STD, ValueError, "mean"),
])
def test_warp_bad_inputs(frame, affine, size, mean, std, exc, msg):
    with pytest.raises(exc, match=msg):
        kernels.warp_crop(frame, affine, size, mean, std)


@pytest.mark.parametrize("out, exc, msg", [
    (np.empty((2, 3, 16, 16), np.float64), TypeError, "float32"),
    (np.empty((1, 3, 16, 16), np.float32), ValueError, "shape"),
    (np.empty((2, 3, 16, 32), np.float32)[..., ::2], ValueError, "C-contiguous"),
    ([0.0], TypeError, "numpy"),
])
def test_warp_bad_out(out, exc, msg):
    with pytest.raises(exc, match=msg):
        kernels.warp_crop_batch(GOOD_FRAME, np.stack([GOOD_A, GOOD_A]), 16, MEAN, STD, out=out)


def test_simd_levels():
    levels = _cpu.warp_simd_levels()
    assert levels[0] == "scalar" and _cpu.warp_simd_level() == levels[-1] == kernels.simd_level()
    out = np.empty((1, 3, 16, 16), np.float32)
    with pytest.raises(ValueError, match="simd must be"):
        _cpu.warp_crop_batch(GOOD_FRAME, GOOD_A[None], 16, MEAN, STD, out, "sse9")


def test_raw_module_rejects_wrong_dtypes():
    out = np.empty((1, 3, 16, 16), np.float32)
    with pytest.raises(TypeError, match="float64"):
        _cpu.warp_crop_batch(GOOD_FRAME, GOOD_A[None].astype(np.float32), 16, MEAN, STD, out)
    with pytest.raises(ValueError, match="shape"):
        _cpu.warp_crop_batch(GOOD_FRAME, GOOD_A[None], 16, MEAN, STD, out[:, :2].copy())


# ------------------------------------------------------------------------------------ heatmap

@pytest.mark.parametrize("n", [1, 8])
@pytest.mark.parametrize("k", [68, 98])
@pytest.mark.parametrize("hw", [(28, 28), (56, 56), (28, 40)])
@pytest.mark.parametrize("sigma", [0.6, 1.5, 4.0])
def test_heatmap_matches_formula(n, k, hw, sigma):
    rng, _ = fresh_rng()
    # Some points fall outside the map (crops can cut faces); they still spill onto it.
    lm = rng.uniform(-0.2, 1.2, (n, k, 2)).astype(np.float32)
    got = kernels.render_heatmap(lm, *hw, sigma)
    ref = heatmap_reference(lm, *hw, sigma)
    assert got.shape == (n, 1, *hw) and got.dtype == np.float32
    # Values lie in [0, 1]. Error sources: the centre W*l rounded to float32 (<= 4e-6 px for
    # W*l < 64) moves a Gaussian whose slope is <= 0.61/sigma; the kernels' exp (<= 2 ulp),
    # float products (a few 6e-8); skipped tails (< 1e-7).
    tol = 2e-7 + 4e-6 * 0.61 / sigma + 3e-7
    err = np.abs(got - ref).max()
    assert err <= tol, f"max error {err:.3g} > {tol:.3g}"


def test_heatmap_peak_and_out():
    lm = np.array([[[10.5 / 28, 3.5 / 28]]], np.float32)  # exactly on pixel (10, 3)
    out = np.full((1, 1, 28, 28), np.nan, np.float32)
    ret = kernels.render_heatmap(lm, 28, 28, 1.0, out=out)
    assert ret is out and out[0, 0, 3, 10] == 1.0
    assert np.unravel_index(np.argmax(out), out.shape) == (0, 0, 3, 10)
    assert out[0, 0, 3, 11] == pytest.approx(np.exp(-0.5), rel=1e-6)


def test_heatmap_far_points_and_zero_landmarks():
    far = np.array([[[50.0, 50.0], [-40.0, 0.5]]], np.float32)
    np.testing.assert_array_equal(kernels.render_heatmap(far, 28, 28, 1.5), 0.0)
    empty = kernels.render_heatmap(np.zeros((2, 0, 2), np.float32), 28, 28, 1.5)
    np.testing.assert_array_equal(empty, 0.0)


def test_kernel_exp_accuracy():
    x = np.concatenate([np.linspace(-87.0, 0.0, 20001), -np.abs(fresh_rng()[0].normal(0, 3, 5000))])
    x = x.astype(np.float32)
    got = np.array([_cpu.exp_neg(float(v)) for v in x], np.float64)
    ref = np.exp(x.astype(np.float64))
    ulp = np.spacing(ref.astype(np.float32)).astype(np.float64)
    assert (np.abs(got - ref) / ulp).max() <= 2.5


LM = np.full((1, 68, 2), 0.5, np.float32)


@pytest.mark.parametrize("lm, h, w, sigma, out, exc, msg", [
    (LM.astype(np.complex64), 28, 28, 1.0, None, TypeError, "real"),
    (LM[..., :1], 28, 28, 1.0, None, ValueError, "shape"),
    (LM[0], 28, 28, 1.0, None, ValueError, "shape"),
    (np.where(np.arange(2) == 0, np.nan, 0.5) * LM, 28, 28, 1.0, None, ValueError, "NaN"),
    (LM * np.inf, 28, 28, 1.0, None, ValueError, "NaN or inf"),
    (LM, 28, 28, 0.0, None, ValueError, "sigma"),
    (LM, 28, 28, -1.0, None, ValueError, "sigma"),
    (LM, 28, 28, float("nan"), None, ValueError, "sigma"),
    (LM, 0, 28, 1.0, None, ValueError, "size"),
    (LM, 28, -1, 1.0, None, ValueError, "size"),
    (LM, 28, 28, 1.0, np.empty((1, 1, 28, 27), np.float32), ValueError, "shape"),
    (LM, 28, 28, 1.0, np.empty((1, 1, 28, 28), np.float16), TypeError, "float32"),
    (LM, 28, 28, 1.0, np.empty((1, 1, 28, 56), np.float32)[..., ::2], ValueError, "C-contiguous"),
])
def test_heatmap_bad_inputs(lm, h, w, sigma, out, exc, msg):
    with pytest.raises(exc, match=msg):
        kernels.render_heatmap(lm, h, w, sigma, out=out)


def test_heatmap_raw_module_checks():
    out = np.empty((1, 1, 28, 28), np.float32)
    with pytest.raises(ValueError, match="NaN"):
        _cpu.render_heatmap(np.full((1, 2, 2), np.nan, np.float32), 1.0, out)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.render_heatmap(np.zeros((1, 4, 2), np.float32)[:, ::2], 1.0, out)
    with pytest.raises(TypeError, match="float32"):
        _cpu.render_heatmap(np.zeros((1, 2, 2), np.float64), 1.0, out)
