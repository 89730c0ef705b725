"""The native area-averaging letterbox (the detector's input) against OpenCV's INTER_AREA, and its
checks of bad input."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

kernels = pytest.importorskip("atpn_edge.kernels", reason="native kernels not built (scripts/dev_build.sh)")

HALF = (0.5, 0.5, 0.5)  # (v/255 - 0.5) / 0.5: BlazeFace's [-1, 1]


@pytest.mark.parametrize("w,h,out_w,out_h", [(1280, 720, 128, 72), (1000, 700, 128, 90), (641, 479, 128, 96),
                                             (300, 300, 128, 128), (128, 40, 128, 40), (4000, 30, 128, 1),
                                             (257, 2, 3, 1)])
def test_matches_opencv_area_averaging(w, h, out_w, out_h):
    frame = np.random.default_rng(w + h).integers(0, 256, (h, w, 3), dtype=np.uint8)
    x0, y0 = (128 - out_w) // 2, (128 - out_h) // 2
    blob = kernels.letterbox_area(frame, out_w, out_h, x0, y0, 128, HALF, HALF)
    assert blob.shape == (1, 3, 128, 128) and blob.dtype == np.float32
    want = cv2.resize(frame, (out_w, out_h), interpolation=cv2.INTER_AREA)[:, :, ::-1].transpose(2, 0, 1)
    got = (blob[0, :, y0:y0 + out_h, x0:x0 + out_w] + 1.0) * 127.5
    # OpenCV rounds its result to uint8; ours stays float
    np.testing.assert_allclose(got, want.astype(np.float32), atol=0.51)
    border = np.ones((128, 128), bool)
    border[y0:y0 + out_h, x0:x0 + out_w] = False
    assert np.all(blob[0][:, border] == -1.0)


def test_a_white_frame_stays_exactly_white_and_channels_are_rgb():
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[..., 0] = 255  # blue
    blob = kernels.letterbox_area(frame, 128, 72, 0, 28, 128, HALF, HALF)
    assert blob[0, 2, 28:100].min() == 1.0 and blob[0, 2].max() == 1.0  # the blue plane is the last
    assert blob[0, 0].max() == -1.0 and blob[0, 1].max() == -1.0
    # normalisation: (v/255 - mean) / std per channel, RGB order
    blob = kernels.letterbox_area(np.full((10, 10, 3), 51, np.uint8), 5, 5, 0, 0, 5, (0.0, 0.1, 0.2), (1.0, 0.5, 0.25))
    np.testing.assert_allclose(blob[0, :, 0, 0], [0.2, (0.2 - 0.1) / 0.5, (0.2 - 0.2) / 0.25], atol=1e-6)


def test_a_row_view_is_read_as_its_pixels():
    frame = np.random.default_rng(1).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    tile = frame[:, 100:400]
    np.testing.assert_array_equal(kernels.letterbox_area(tile, 128, 128, 0, 0, 128, HALF, HALF),
                                  kernels.letterbox_area(tile.copy(), 128, 128, 0, 0, 128, HALF, HALF))


@pytest.mark.parametrize("args,match", [
    ((np.zeros((10, 10), np.uint8), 5, 5, 0, 0, 8), "shape"),
    ((np.zeros((10, 10, 3), np.float32), 5, 5, 0, 0, 8), "uint8"),
    ((np.zeros((0, 10, 3), np.uint8), 5, 5, 0, 0, 8), "empty"),
    ((np.zeros((10, 10, 3), np.uint8), 11, 5, 0, 0, 16), "at most the frame"),
    ((np.zeros((10, 10, 3), np.uint8), 0, 5, 0, 0, 8), "at least 1x1"),
    ((np.zeros((10, 10, 3), np.uint8), 5, 5, 4, 0, 8), "does not fit"),
    ((np.zeros((10, 10, 3), np.uint8), 5, 5, -1, 0, 8), "does not fit"),
])
def test_bad_input_is_refused_with_a_reason(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        kernels.letterbox_area(*args, HALF, HALF)


def test_a_bad_normalisation_is_refused():
    with pytest.raises(ValueError, match="std"):
        kernels.letterbox_area(np.zeros((10, 10, 3), np.uint8), 5, 5, 0, 0, 8, HALF, (0.5, 0.0, 0.5))
