"""One Euro smoothing: less flicker at rest, little lag in motion, same behaviour at any face size."""
from __future__ import annotations

import numpy as np
import pytest

from atpn_edge.core.crop import invert_affine
from atpn_edge.tracking.smoothing import FaceSmoother, OneEuro, SmoothingConfig
from tracker_fakes import SceneFace, face_at, make_tracker

FPS = 30.0


def run(shape, offsets, noise, seed=0, cfg=SmoothingConfig()):
    rng = np.random.default_rng(seed)
    sm = FaceSmoother(cfg)
    return np.array([sm(shape + o + rng.normal(0, noise, shape.shape), np.zeros(3), i / FPS)[0] - shape
                     for i, o in enumerate(offsets)])


@pytest.mark.parametrize("size", [40.0, 400.0])
def test_flicker_at_rest_is_cut_at_least_threefold(size):
    shape = face_at(0, 0, size)
    out = run(shape, np.zeros((150, 2)), noise=0.01 * size)[30:]
    assert np.sqrt(np.mean(out ** 2)) / size < 0.01 / 3


@pytest.mark.parametrize("size", [40.0, 400.0])
def test_fast_motion_lags_less_than_half_a_frame(size):
    shape = face_at(0, 0, size)
    v = 0.1 * size  # a tenth of the face per frame
    offsets = np.zeros((80, 2))
    offsets[20:, 0] = np.arange(60) * v
    out = run(shape, offsets, noise=0.01 * size)
    lag = (offsets[40:, 0][:, None] - out[40:, :, 0]).mean() / v
    assert 0 <= lag < 0.5


def test_same_settings_behave_the_same_at_any_resolution():
    results = []
    for size in (30.0, 300.0, 3000.0):
        shape = face_at(0, 0, size)
        offsets = np.zeros((60, 2))
        offsets[20:, 1] = np.arange(40) * 0.02 * size
        results.append(run(shape, offsets, noise=0.005 * size) / size)
    np.testing.assert_allclose(results[0], results[1], atol=1e-9)
    np.testing.assert_allclose(results[1], results[2], atol=1e-9)


def test_first_value_passes_through_and_bad_timestamps_do_not_divide_by_zero():
    f = OneEuro(1.0, 1.0, 1.0)
    x = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(f(x, 0.0), x)
    np.testing.assert_array_equal(f(x + 5, 0.0), x)  # same timestamp: state kept
    assert np.all(np.isfinite(f(x + 5, 0.1)))
    with pytest.raises(ValueError):
        OneEuro(0.0, 1.0, 1.0)


def test_tracker_smooths_and_restarts_the_filter_for_a_new_track():
    tracker, pipe, det = make_tracker(detect_every=0, noise_px=2.0)
    face = face_at(160, 120, 80)
    pipe.scene = [SceneFace(face)]
    outs = [tracker.track(np.zeros((240, 320, 3), np.uint8))[0].landmarks for _ in range(60)]
    smoothed = np.std(np.diff(np.array(outs[20:]), axis=0))
    raw_tracker, raw_pipe, _ = make_tracker(detect_every=0, noise_px=2.0, smooth=False)
    raw_pipe.scene = [SceneFace(face)]
    raw = [raw_tracker.track(np.zeros((240, 320, 3), np.uint8))[0].landmarks for _ in range(60)]
    assert smoothed < 0.5 * np.std(np.diff(np.array(raw[20:]), axis=0))
    # A new track starts from its own first measurement, not from the old face's filter state.
    pipe.scene = []
    tracker.track(np.zeros((240, 320, 3), np.uint8))
    pipe.noise_px = 0.0
    far = face_at(60, 60, 50)
    pipe.scene = [SceneFace(far)]
    first = tracker.track(np.zeros((240, 320, 3), np.uint8))
    assert first[0].id == 2
    np.testing.assert_allclose(first[0].landmarks, far, atol=0.5)


def _crop_wobble(from_smoothed: bool) -> float:
    tracker, pipe, det = make_tracker(detect_every=0, noise_px=2.0, crop_from_smoothed=from_smoothed)
    pipe.scene = [SceneFace(face_at(160, 120, 80))]
    centres = []
    real_run = pipe.run

    def spy(frame, affines):
        inv = invert_affine(np.asarray(affines, np.float64)[0])
        centres.append(inv @ np.array([55.5, 55.5, 1.0]))  # the crop's centre in the frame
        return real_run(frame, affines)

    pipe.run = spy
    for _ in range(60):
        tracker.track(np.zeros((240, 320, 3), np.uint8))
    return float(np.std(np.diff(np.array(centres[20:]), axis=0)))


def test_crops_follow_the_smoothed_landmarks_so_flicker_is_not_fed_back():
    assert _crop_wobble(True) < 0.4 * _crop_wobble(False)


def test_the_closed_form_motion_norm_is_lstsq_and_the_spectral_norm():
    """The smoother's speed: the 2x2 closed form equals lstsq + norm(L, 2), degenerate sets too."""
    from atpn_edge.tracking.smoothing import linear_motion_norm

    rng = np.random.default_rng(3)
    cases = []
    for _ in range(200):
        c = rng.normal(size=(68, 2)) * rng.uniform(0.1, 100, 2)
        cases.append((c - c.mean(0), rng.normal(size=(68, 2)) * rng.uniform(0.01, 50)))
    line = np.stack([np.linspace(-1, 1, 68), np.linspace(-2, 2, 68)], 1)
    cases += [(line, rng.normal(size=(68, 2))), (np.zeros((68, 2)), rng.normal(size=(68, 2)))]
    for c, v in cases:
        v = v - v.mean(0)
        linear, *_ = np.linalg.lstsq(c, v, rcond=None)
        assert linear_motion_norm(c, v) == pytest.approx(float(np.linalg.norm(linear, 2)), rel=1e-9, abs=1e-12)
