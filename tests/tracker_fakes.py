"""Fast, deterministic stand-ins for the network and the detector, for the tracker's logic tests.

A scene is a list of ``SceneFace`` (true landmarks in frame pixels + the face score the "network"
gives when it sees that face well framed). ``FakePipeline`` looks at each crop window: if a scene
face is centred in it at a plausible size it returns that face's landmarks (plus optional noise)
and score; otherwise it returns a low score and a mean face drawn in the middle of the crop, which
is what a real landmark network does on a crop without a face.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from atpn_edge.core.model_info import ModelInfo
from atpn_edge.core.crop import invert_affine
from atpn_edge.detection import BoxCalibration, Detection
from atpn_edge.core.face import landmark_box


def _template() -> np.ndarray:
    a = np.pi * np.arange(17) / 16
    jaw = np.stack([-0.5 * np.cos(a), -0.1 + 0.6 * np.sin(a)], 1)
    brows = [(x, -0.35) for x in np.linspace(-0.4, -0.1, 5)] + [(x, -0.35) for x in np.linspace(0.1, 0.4, 5)]
    bridge = [(0.0, y) for y in np.linspace(-0.2, 0.05, 4)]
    nose = [(x, 0.1) for x in np.linspace(-0.1, 0.1, 5)]

    def ring(cx, cy, rx, ry, n):
        t = 2 * np.pi * np.arange(n) / n
        return np.stack([cx - rx * np.cos(t), cy - ry * np.sin(t)], 1)

    parts = [jaw, np.array(brows), np.array(bridge), np.array(nose), ring(-0.25, -0.2, 0.1, 0.04, 6),
             ring(0.25, -0.2, 0.1, 0.04, 6), ring(0, 0.3, 0.2, 0.08, 12), ring(0, 0.3, 0.12, 0.03, 8)]
    pts = np.concatenate(parts)
    assert pts.shape == (68, 2)
    return pts


TEMPLATE = _template()  # unit face: extent ~1, centred near (0, 0)


def face_at(cx: float, cy: float, size: float, angle: float = 0.0) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return TEMPLATE @ np.array([[c, s], [-s, c]]) * size + np.array([cx, cy])


@dataclass
class SceneFace:
    landmarks: np.ndarray
    score: float = 0.95


def fake_info(landmark_scale: float = 1.4) -> ModelInfo:
    return ModelInfo(graph="fused", model_version="fake", landmark_scheme="ibug68", num_landmarks=68,
                     input_size=112, channel_order="RGB", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
                     heatmap_size=(28, 28), heatmap_sigma=1.0, feature_channels=8,
                     crop_landmark_scale=landmark_scale, crop_box_scale=1.4, crop_box_shift_y=0.0)


class FakePipeline:
    def __init__(self, noise_px: float = 0.0, seed: int = 0) -> None:
        self.info = fake_info()
        self.backend = "fake"
        self.scene: list[SceneFace] = []
        self.noise_px = noise_px
        self.rng = np.random.default_rng(seed)
        self.calls = 0
        self.max_batch = 0  # not a list: the soak test watches memory

    def run(self, frame: np.ndarray, affines: np.ndarray) -> SimpleNamespace:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        affines = np.asarray(affines, dtype=np.float64)
        assert affines.ndim == 3 and affines.shape[1:] == (2, 3)
        self.calls += 1
        self.max_batch = max(self.max_batch, len(affines))
        size = self.info.input_size
        out_lm, out_score = [], []
        for a in affines:
            inv = invert_affine(a)
            centre = inv @ np.array([(size - 1) / 2, (size - 1) / 2, 1.0])
            side = size / np.sqrt(abs(np.linalg.det(a[:, :2])))
            best, best_d = None, np.inf
            for f in self.scene:
                x, y, w, h = landmark_box(f.landmarks)
                d = np.hypot(x + w / 2 - centre[0], y + h / 2 - centre[1])
                if d < 0.25 * side and 0.4 < max(w, h) / side < 1.1 and d < best_d:
                    best, best_d = f, d
            if best is None:
                lm, score = face_at(centre[0], centre[1], side / self.info.crop_landmark_scale), 0.05
            else:
                lm, score = best.landmarks + self.rng.normal(0, self.noise_px, best.landmarks.shape), best.score
            out_lm.append(lm)
            out_score.append(score)
        n = len(affines)
        return SimpleNamespace(landmarks=np.array(out_lm, np.float32), landmarks_crop=np.zeros((n, 68, 2), np.float32),
                               pose=np.zeros((n, 3), np.float32), face_score=np.array(out_score, np.float32), timings={})


class FakeDetector:
    """Finds every scene face (its landmark box), except when told to miss."""

    name = "fake"
    calibration = BoxCalibration(extent_ratio=1.0, shift_y=0.0)

    def __init__(self, pipeline: FakePipeline) -> None:
        self.pipeline = pipeline
        self.calls = 0
        self.miss = False
        self.extra_boxes: list[tuple[float, float, float, float]] = []

    def detect(self, frame: np.ndarray) -> list[Detection]:
        self.calls += 1
        if self.miss:
            return []
        boxes = [landmark_box(f.landmarks) for f in self.pipeline.scene] + list(self.extra_boxes)
        return [Detection(box=b) for b in boxes]


def make_tracker(**kwargs):
    from atpn_edge.tracking.tracker import Tracker

    pipe = FakePipeline(noise_px=kwargs.pop("noise_px", 0.0))
    det = FakeDetector(pipe)
    return Tracker(pipeline=pipe, detector=det, **kwargs), pipe, det


def install_fake_network(monkeypatch, noise_px: float = 0.0) -> FakePipeline:
    """Make every command and the tracker get a FakePipeline (one face at (32, 26), size 24) and a
    FakeDetector that sees its scene, instead of the shipped model and the Haar detector."""
    pipe = FakePipeline(noise_px=noise_px)
    pipe.scene = [SceneFace(face_at(32, 26, 24))]
    monkeypatch.setattr("atpn_edge.runtime.create_pipeline", lambda **kw: pipe)
    monkeypatch.setattr("atpn_edge.tracking.tracker.create_detector", lambda spec: FakeDetector(pipe))
    monkeypatch.setattr("atpn_edge.detection.create_detector", lambda spec: FakeDetector(pipe))
    return pipe
