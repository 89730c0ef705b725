"""`eval 300w|aflw2000 --protocol detector`: the tracker on the whole image, matched to the
annotation; misses count as failures; --rotate turns image and ground truth."""
from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
import pytest

from atpn_edge.commands import eval as eval_cmd
from atpn_edge.core.face import Face, landmark_box
from atpn_edge.datasets import FaceSample
from atpn_edge.eval import detection


def _face(cx: float, cy: float, iod: float = 40.0) -> np.ndarray:
    rng = np.random.default_rng(int(cx))
    lm = rng.uniform(-iod, iod, (68, 2)) + (cx, cy)
    lm[36], lm[45] = (cx - iod / 2, cy - 10), (cx + iod / 2, cy - 10)
    return lm


class FakeTracker:
    """Answers each image with the faces stored for its top-left pixel value (offset by +2 px)."""

    def __init__(self, faces: dict[int, list[np.ndarray]]):
        self.faces, self.resets, self.closed = faces, 0, False

    def reset(self):
        self.resets += 1

    def track(self, frame):
        lms = self.faces.get(int(frame[0, 0, 0]), [])
        return [Face(id=i, box=landmark_box(lm + 2), landmarks=lm + 2, pose=(1.0, 2.0, 3.0), score=0.9) for i, lm in enumerate(lms)]

    def close(self):
        self.closed = True


def _samples(tmp_path, n: int) -> list[FaceSample]:
    out = []
    for i in range(n):
        img = np.full((200, 240, 3), 100, np.uint8)
        img[0, 0] = i
        cv2.imwrite(str(tmp_path / f"f{i}.png"), img)
        out.append(FaceSample(f"f{i}", tmp_path / f"f{i}.png", _face(120, 100), pose=(10.0, 0.0, 0.0)))
    return out


def test_matching_misses_and_summary(tmp_path):
    samples = _samples(tmp_path, 4)
    gt = samples[0].landmarks.astype(np.float64)
    far = _face(20, 20, iod=8)  # another, small face elsewhere: not the annotated one
    fake = FakeTracker({0: [gt], 1: [far, gt], 2: [far]})  # image 3: nothing at all
    run = detection.run_tracker(lambda: fake, samples)
    assert fake.resets == 4 and fake.closed
    assert run.found.tolist() == [True, True, False, False] and run.extra.tolist() == [0, 1, 1, 0]
    np.testing.assert_allclose(run.landmarks[1], gt + 2, atol=1e-4)
    s, nme = detection.summary_300w(run)
    iod = np.hypot(*(gt[36] - gt[45]))
    assert s["n"] == 4 and s["found"] == 2 and s["recall"] == 50.0
    assert s["nme_io"] == pytest.approx(100 * np.hypot(2, 2) / iod, abs=1e-3)
    assert s["fr_10"] == 50.0 and np.isinf(nme[2:]).all()  # misses fail at any threshold
    assert s["auc_10"] == pytest.approx(0.5 * (1 - np.hypot(2, 2) / iod / 0.1), abs=1e-3)
    a, _ = detection.summary_aflw2000(run)
    assert a["recall_le99"] == 50.0 and a["n_pose"] == 2 and a["mae_yaw"] == pytest.approx(9.0)


def test_rotate_moves_the_ground_truth_with_the_image():
    img = np.zeros((100, 160, 3), np.uint8)
    img[20, 30] = 255
    pts = np.array([[30.0, 20.0], [0.0, 0.0], [159.0, 99.0]])
    out, moved = detection.rotate(img, pts, 90)
    assert out.shape[:2] == (160, 100)  # turned a quarter: width and height swap
    y, x = np.unravel_index(out[..., 0].argmax(), out.shape[:2])
    np.testing.assert_allclose(moved[0], (x, y), atol=0.6)
    np.testing.assert_allclose(moved[1], (99, 0), atol=0.6)  # clockwise: top-left goes to top-right
    same, unmoved = detection.rotate(img, pts, 0)
    assert same is img and np.array_equal(unmoved, pts)
    assert detection.rotate(img, pts, 45)[0].shape[:2] == (184, 184)


def test_match_rule():
    truth = (100.0, 100.0, 50.0, 60.0)
    assert detection.matches((105.0, 95.0, 45.0, 50.0), truth)
    assert not detection.matches((0.0, 0.0, 400.0, 400.0), truth)  # the whole photo is no face box
    assert not detection.matches((140.0, 150.0, 10.0, 10.0), truth)  # part of the face, off-centre
    assert detection.best_match([(0.0, 0.0, 5.0, 5.0), (101.0, 101.0, 50.0, 60.0), (99.0, 99.0, 50.0, 60.0)], truth) == 1


def _parse(argv):
    p = argparse.ArgumentParser()
    eval_cmd.add_arguments(p)
    return p.parse_args(argv)


def test_rotate_needs_the_detector_protocol(tmp_path):
    _samples(tmp_path, 1)
    (tmp_path / "f0.pts").write_text("version: 1\nn_points: 68\n{\n" + "".join(f"{x + 1:.3f} {y + 1:.3f}\n" for x, y in _face(120, 100)) + "}\n")
    with pytest.raises(ValueError, match="--rotate needs --protocol detector"):
        eval_cmd.run(_parse(["300w", str(tmp_path), "--rotate", "45"]))


@pytest.mark.data
def test_detector_protocol_with_the_shipped_models(shared_data, capsys):
    from atpn_edge.runtime.models import resolve_model

    try:
        resolve_model(None)
    except (FileNotFoundError, ValueError) as exc:
        pytest.skip(f"shipped model engines/atpn68 not available ({exc})")
    root = str(shared_data / "300w" / "afw")
    assert eval_cmd.run(_parse(["300w", root, "--protocol", "detector", "--limit", "12", "--json"])) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert r["n"] == 12 and r["recall"] >= 90 and r["nme_io"] < 12 and r["rotate"] == 0
    assert eval_cmd.run(_parse(["300w", root, "--protocol", "detector", "--rotate", "45", "--limit", "6", "--json"])) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert r["n"] == 6 and r["rotate"] == 45
