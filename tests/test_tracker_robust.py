"""The tracker cannot be poisoned: bad timestamps, empty frames, bad options, two threads at once.
Fake network and detector, except the Pipeline thread test (the shipped model, no data needed)."""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from atpn_edge.tracking.config import TrackerConfig
from atpn_edge.tracking.smoothing import SmoothingConfig
from atpn_edge.tracking.tracker import Tracker
from tracker_fakes import FakePipeline, SceneFace, face_at, make_tracker

FRAME = np.zeros((240, 320, 3), np.uint8)


def moving(t: int) -> list[SceneFace]:
    return [SceneFace(face_at(120 + 2 * t, 120, 70))]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_timestamp_is_refused_and_later_frames_work(bad):
    tracker, pipe, det = make_tracker(noise_px=0.5)
    for t in range(5):
        pipe.scene = moving(t)
        tracker.track(FRAME, timestamp=t / 30)
    with pytest.raises(ValueError, match="timestamp"):
        tracker.track(FRAME, timestamp=bad)
    for t in range(5, 15):
        pipe.scene = moving(t)
        faces = tracker.track(FRAME, timestamp=t / 30)
        assert len(faces) == 1 and np.isfinite(faces[0].landmarks).all() and faces[0].id == 1
    assert tracker.stats.frames == 15  # the refused frame was not counted
    tracker.close()


def test_backwards_and_repeated_timestamps_do_not_break_tracking():
    tracker, pipe, det = make_tracker(noise_px=0.5)
    stamps = [0.0, 0.033, 0.066, 0.066, 0.01, -5.0, 0.2, 0.233, 0.266]
    for t, ts in enumerate(stamps):
        pipe.scene = moving(t)
        faces = tracker.track(FRAME, timestamp=ts)
        assert len(faces) == 1 and np.isfinite(faces[0].landmarks).all()
    # The smoothing kept following the face through the bad stretch.
    assert abs(faces[0].box[0] - moving(len(stamps) - 1)[0].landmarks[:, 0].min()) < 5
    with pytest.raises(TypeError, match="timestamp"):
        tracker.track(FRAME, timestamp="soon")
    tracker.close()


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 10, 3), (10, 0), (0, 0, 4)])
def test_an_empty_frame_is_a_value_error(shape):
    tracker, pipe, det = make_tracker()
    with pytest.raises(ValueError, match="empty"):
        tracker.track(np.zeros(shape, np.uint8))
    pipe.scene = moving(0)
    assert len(tracker.track(FRAME)) == 1  # nothing was poisoned
    tracker.close()


@pytest.mark.parametrize("option, value", [
    ("score_threshold", float("nan")), ("score_threshold", 0.0), ("score_threshold", 1.0), ("score_threshold", 2),
    ("confirm_threshold", -0.1), ("overlap_iou", 1.5), ("merge_iou", float("nan")), ("max_faces", 0),
    ("detect_every", -1), ("detect_lag", 0), ("reuse_id_frames", -2), ("min_face_px", float("inf")),
    ("fps", 0.0), ("fps", float("nan")), ("detection", "fast"),
])
def test_bad_options_are_refused_naming_the_option(option, value):
    with pytest.raises(ValueError, match=option):
        TrackerConfig(**{option: value})
    with pytest.raises(ValueError, match=option):
        Tracker(pipeline=FakePipeline(), detector="haar", **{option: value})


@pytest.mark.parametrize("option, value", [("max_faces", 2.5), ("smooth", "yes"), ("detect_every", True), ("smoothing", {})])
def test_wrongly_typed_options_are_type_errors(option, value):
    with pytest.raises(TypeError, match=option):
        TrackerConfig(**{option: value})


def test_bad_smoothing_values_are_refused():
    with pytest.raises(ValueError, match="smoothing.min_cutoff"):
        TrackerConfig(smoothing=SmoothingConfig(min_cutoff=float("nan")))
    with pytest.raises(ValueError, match="smoothing.beta"):
        TrackerConfig(smoothing=SmoothingConfig(beta=-1.0))


def test_config_object_and_keyword_options():
    cfg = TrackerConfig(max_faces=2, detect_every=0)
    tracker = Tracker(pipeline=FakePipeline(), detector="haar", config=cfg, smooth=False)
    assert tracker.config.max_faces == 2 and tracker.config.detect_every == 0 and tracker.config.smooth is False
    assert cfg.smooth is True  # the caller's config is not changed (frozen)
    with pytest.raises(Exception):
        cfg.max_faces = 3
    with pytest.raises(TypeError, match="unknown tracker option.*maxfaces"):
        Tracker(pipeline=FakePipeline(), detector="haar", maxfaces=2)
    with pytest.raises(TypeError, match="TrackerConfig"):
        Tracker(pipeline=FakePipeline(), detector="haar", config={"max_faces": 2})
    assert TrackerConfig().confirm == 0.7 and TrackerConfig(confirm_threshold=0.6).confirm == 0.6
    assert TrackerConfig(score_threshold=0.8).confirm == 0.8  # never below the score that ends a track
    assert "detect_lag" in TrackerConfig.field_names()


def test_tracker_used_from_two_threads_at_once_raises_instead_of_mixing_state():
    tracker, pipe, det = make_tracker()
    pipe.scene = moving(0)
    inside, release = threading.Event(), threading.Event()
    run = pipe.run

    def slow_run(frame, affines):
        inside.set()
        release.wait(5)
        return run(frame, affines)

    pipe.run = slow_run
    worker = threading.Thread(target=tracker.track, args=(FRAME,))
    worker.start()
    assert inside.wait(5)
    with pytest.raises(RuntimeError, match="two threads"):
        tracker.track(FRAME)
    release.set()
    worker.join(5)
    pipe.run = run
    faces = tracker.track(FRAME)
    assert [f.id for f in faces] == [1] and tracker.stats.frames == 2
    tracker.close()


def test_a_pipeline_used_from_two_threads_gives_the_single_threaded_results():
    from helpers import shipped_pipeline

    pipeline = shipped_pipeline(max_faces=2)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (160, 200, 3), dtype=np.uint8) for _ in range(6)]
    affines = []
    for i in range(6):
        a = np.array([[1.0, 0.1 * i, -20.0 - i], [-0.1 * i, 1.0, -10.0]], np.float32)
        affines.append(np.stack([a, a * [1.1, 1.1, 1.0]]).astype(np.float32))
    want = [pipeline.run(f, a) for f, a in zip(frames, affines)]
    wrong, errors = [], []

    def hammer(offset: int) -> None:
        try:
            for k in range(150):
                i = (k + offset) % 6
                got = pipeline.run(frames[i], affines[i])
                if not (np.array_equal(got.landmarks, want[i].landmarks) and np.array_equal(got.face_score, want[i].face_score)):
                    wrong.append(i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(o,)) for o in (0, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not wrong, f"{len(wrong)} of 300 results differ from the single-threaded ones"
    assert math.isfinite(float(want[0].face_score[0]))
