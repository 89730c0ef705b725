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
