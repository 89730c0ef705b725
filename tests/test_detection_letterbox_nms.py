"""Letterbox for frames of any size and aspect, and weighted NMS."""
from __future__ import annotations

import numpy as np
import pytest

from atpn_edge.detection.letterbox import letterbox
from atpn_edge.detection.nms import weighted_nms


@pytest.mark.parametrize("w,h", [(1, 1), (1000, 3), (3, 1000), (641, 479), (1280, 720), (720, 1364), (64, 64), (127, 37)])
def test_letterbox_any_aspect_maps_a_square_back(w, h):
    """A bright square in the frame lands in the blob where the mapping says, padding is black (-1)."""
    frame = np.zeros((h, w, 3), np.uint8)
    x0, y0, side = w // 4, h // 4, max(1, min(w, h) // 2)
    frame[y0:y0 + side, x0:x0 + side] = 255
    blob, lb = letterbox(frame, 128)
    assert blob.shape == (1, 3, 128, 128) and blob.dtype == np.float32
    assert blob.min() >= -1.0 and blob.max() <= 1.0
    img = blob[0, 0]
    # the frame's corners map into [0, 128] and everything outside them is padding
    (fx0, fy0), (fx1, fy1) = (np.array([[0, 0], [w, h]]) * lb.scale + lb.offset)
    assert -1e-6 <= fx0 and fx1 <= 128 + 1e-6 and -1e-6 <= fy0 and fy1 <= 128 + 1e-6
    assert max(fx1 - fx0, fy1 - fy0) == pytest.approx(128, abs=1e-6)  # the long side fills the input
    outside = np.ones((128, 128), bool)
    outside[int(np.floor(fy0)):int(np.ceil(fy1)), int(np.floor(fx0)):int(np.ceil(fx1))] = False
    assert np.all(img[outside] == -1.0)
    if side * lb.scale >= 4:  # big enough to survive the downscale: its centre maps back
        ys, xs = np.nonzero(img > 0.5)
        centre = lb.to_frame(np.array([xs.mean() + 0.5, ys.mean() + 0.5]))
        np.testing.assert_allclose(centre, [x0 + side / 2, y0 + side / 2], atol=1.0 / lb.scale + 0.5)


def test_letterbox_channel_order_and_range():
    frame = np.zeros((10, 20, 3), np.uint8)
    frame[..., 0] = 255  # blue in BGR
    blob, _ = letterbox(frame, 16)
    r, g, b = blob[0, :, 8, 8]
    assert (r, g, b) == (-1.0, -1.0, 1.0)


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((10, 10, 3), np.float32), np.zeros((0, 10, 3), np.uint8)])
def test_letterbox_rejects_bad_frames(bad):
    with pytest.raises(ValueError, match="frame"):
        letterbox(bad, 128)


def test_weighted_nms_merges_above_the_iou_only():
    """Boxes overlapping by IoU 50/150 = 1/3 merge at iou 0.3 and stay apart at 0.34; an empty box
    overlaps nothing."""
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [0, 0, 0, 0]], float)
    s = np.array([0.9, 0.8, 0.7])
    assert weighted_nms(b, s, 0.3)[1].tolist() == [0.9, 0.7]
    assert weighted_nms(b, s, 0.34)[1].tolist() == [0.9, 0.8, 0.7]


def test_weighted_nms_groups_averages_and_keeps_order():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [2, 0, 12, 10]], float)
    scores = np.array([0.9, 0.6, 0.8, 0.3])
    kps = np.arange(4 * 6 * 2, dtype=float).reshape(4, 6, 2)
    out_b, out_s, out_k = weighted_nms(boxes, scores, 0.3, kps)
    assert out_s.tolist() == [0.9, 0.8]  # groups keep their best score, best first
    w = np.array([0.9, 0.6, 0.3]) / 1.8
    np.testing.assert_allclose(out_b[0], w @ boxes[[0, 1, 3]])
    np.testing.assert_allclose(out_k[0], np.tensordot(w, kps[[0, 1, 3]], axes=1))
    np.testing.assert_allclose(out_b[1], boxes[2])
    np.testing.assert_allclose(out_k[1], kps[2])


def test_weighted_nms_edge_cases():
    b, s, k = weighted_nms(np.zeros((0, 4)), np.zeros(0), 0.3, np.zeros((0, 6, 2)))
    assert b.shape == (0, 4) and s.shape == (0,) and k.shape == (0, 6, 2)
    b, s, k = weighted_nms(np.array([[0, 0, 1, 1]]), np.array([0.7]), 0.3)
    assert k is None and s.tolist() == [0.7]
    with pytest.raises(ValueError, match="2 boxes but 1 scores"):
        weighted_nms(np.zeros((2, 4)), np.zeros(1), 0.3)
