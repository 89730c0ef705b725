"""The same wrong input raises the same exception type at every public entry point (the checks
live in atpn_edge.core.validate): a wrong type or dtype is a TypeError, a wrong shape or value
(an empty frame, a wrong channel count, a NaN affine) a ValueError."""
from __future__ import annotations

import numpy as np
import pytest

kernels = pytest.importorskip("atpn_edge.kernels", reason="native kernels not built (scripts/dev_build.sh)")

from atpn_edge.core.crop import CropParams, crop_affine  # noqa: E402
from atpn_edge.core.frames import as_bgr  # noqa: E402

AFFINE = crop_affine(CropParams(center=(32.0, 24.0), side=40.0, angle=0.0), 112)

BAD_FRAMES = [
    ("list", [[0, 0, 0]], TypeError),
    ("float32", np.zeros((48, 64, 3), np.float32), TypeError),
    ("uint16", np.zeros((48, 64, 3), np.uint16), TypeError),
    ("0x0", np.zeros((0, 0, 3), np.uint8), ValueError),
    ("0 wide", np.zeros((48, 0, 3), np.uint8), ValueError),
    ("2 channels", np.zeros((48, 64, 2), np.uint8), ValueError),
    ("4-d", np.zeros((2, 48, 64, 3), np.uint8), ValueError),
]
BAD_AFFINES = [
    ("NaN", np.full((2, 3), np.nan), ValueError),
    ("3x3", np.eye(3), ValueError),
    ("strings", np.array([["a", "b", "c"], ["d", "e", "f"]]), TypeError),
]


@pytest.fixture(scope="module")
def pipeline():
    from atpn_edge.runtime import create_pipeline

    with create_pipeline(None, backend="onnxruntime", max_faces=2) as p:  # the shipped model
        yield p


@pytest.fixture(scope="module")
def tracker(pipeline):
    from atpn_edge.tracking.tracker import Tracker

    return Tracker(pipeline)


def _entry_points(pipeline, tracker):
    info = pipeline.info
    return {
        "kernels.warp_crop": lambda f, a=AFFINE: kernels.warp_crop(f, a, info.input_size, info.mean, info.std),
        "kernels.warp_crop_batch": lambda f, a=AFFINE: kernels.warp_crop_batch(f, np.asarray(a)[None] if np.ndim(a) == 2 else a,
                                                                               info.input_size, info.mean, info.std),
        "Pipeline.run": lambda f, a=AFFINE: pipeline.run(f, np.asarray(a)[None] if np.ndim(a) == 2 else a),
        "Tracker.track": lambda f, a=None: tracker.track(f),
        "core.frames.as_bgr": lambda f, a=None: as_bgr(f),
    }


@pytest.mark.parametrize("name,frame,error", BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
def test_bad_frame_same_error_everywhere(pipeline, tracker, name, frame, error):
    for entry, call in _entry_points(pipeline, tracker).items():
        with pytest.raises(Exception) as exc:
            call(frame)
        assert type(exc.value) is error, f"{entry} raised {type(exc.value).__name__} ({exc.value}) for a {name} frame"
        assert "frame" in str(exc.value), f"{entry}: the message does not name the frame: {exc.value}"


@pytest.mark.parametrize("name,affine,error", BAD_AFFINES, ids=[b[0] for b in BAD_AFFINES])
def test_bad_affine_same_error_everywhere(pipeline, tracker, name, affine, error):
    frame = np.zeros((48, 64, 3), np.uint8)
    for entry, call in _entry_points(pipeline, tracker).items():
        if entry in ("Tracker.track", "core.frames.as_bgr"):
            continue  # they take no affine
        with pytest.raises(Exception) as exc:
            call(frame, affine)
        assert type(exc.value) is error, f"{entry} raised {type(exc.value).__name__} ({exc.value}) for a {name} affine"


def test_good_input_passes_everywhere(pipeline, tracker):
    frame = np.zeros((48, 64, 3), np.uint8)
    for entry, call in _entry_points(pipeline, tracker).items():
        call(frame)


@pytest.mark.parametrize("kwargs,error,name", [
    ({"threads": 0}, ValueError, "threads"), ({"threads": "2"}, TypeError, "threads"), ({"threads": 1.5}, TypeError, "threads"),
    ({"max_faces": 0}, ValueError, "max_faces"), ({"max_faces": True}, TypeError, "max_faces"),
])
def test_bad_pipeline_options_fail_before_a_model_loads(kwargs, error, name):
    from atpn_edge.runtime import create_pipeline

    with pytest.raises(error, match=name):
        create_pipeline("no-such-model-dir", backend="onnxruntime", **kwargs)


@pytest.mark.parametrize("option,value,error", [
    ("score_threshold", "0.5", TypeError), ("score_threshold", float("nan"), ValueError),
    ("max_faces", "4", TypeError), ("max_faces", 0, ValueError), ("fps", None, TypeError),
])
def test_tracker_options_same_error_types(option, value, error):
    from atpn_edge.tracking.config import TrackerConfig

    with pytest.raises(error, match=f"TrackerConfig.{option}"):
        TrackerConfig(**{option: value})


def test_option_checks():
    from atpn_edge.core.validate import check_int_option, check_number_option

    assert check_int_option(np.int64(3), "n", 1) == 3
    assert check_number_option(0.5, "p", 0, 1, low_open=True, high_open=True) == 0.5
    with pytest.raises(ValueError, match=r"p must be a finite number in \(0, 1\), got 1"):
        check_number_option(1, "p", 0, 1, low_open=True, high_open=True)
    with pytest.raises(ValueError, match="fps must be a finite number > 0"):
        check_number_option(0.0, "fps", 0.0, low_open=True)
    with pytest.raises(TypeError, match="flag"):
        check_number_option(True, "flag")
