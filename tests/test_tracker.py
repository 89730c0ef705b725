"""Tracker logic with a fake network and detector: fast and deterministic (no model, no data)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tracker_fakes import SceneFace, face_at, make_tracker

FRAME = np.zeros((240, 320, 3), np.uint8)


def run(tracker, pipe, scenes, frame=FRAME):
    out = []
    for scene in scenes:
        pipe.scene = scene
        out.append(tracker.track(frame))
    return out


def test_static_face_detects_once_and_keeps_its_id():
    tracker, pipe, det = make_tracker(detect_every=0, smooth=False)
    face = face_at(160, 120, 80)
    out = run(tracker, pipe, [[SceneFace(face)]] * 40)
    assert det.calls == 1 and tracker.stats.detector_calls == 1
    assert all(len(f) == 1 and f[0].id == 1 for f in out)
    np.testing.assert_allclose(out[-1][0].landmarks, face, atol=1e-3)
    x, y, w, h = out[-1][0].box
    assert (x, y) == pytest.approx(tuple(face.min(0)), abs=1e-3) and max(w, h) == pytest.approx(80, rel=0.05)
    assert tracker.stats.tracks_started == 1 and tracker.stats.frames_with_face == 40
    assert pipe.max_batch == 1


def test_fast_moving_face_is_followed_without_the_detector():
    tracker, pipe, det = make_tracker(detect_every=0, smooth=False)
    scenes = [[SceneFace(face_at(60 + 4 * t, 120 + np.sin(t / 5) * 20, 70, angle=0.3 * np.sin(t / 7)))] for t in range(50)]
    out = run(tracker, pipe, scenes)
    assert det.calls == 1
    assert [f[0].id for f in out] == [1] * 50


def test_periodic_detection_does_not_duplicate_a_tracked_face():
    tracker, pipe, det = make_tracker(detect_every=10)
    run(tracker, pipe, [[SceneFace(face_at(160, 120, 80))]] * 50)
    assert det.calls == 5  # frames 0, 10, 20, 30, 40
    assert tracker.stats.tracks_started == 1 and tracker.num_tracks == 1


def test_detection_needs_the_face_score_to_start_a_track():
    tracker, pipe, det = make_tracker()
    out = run(tracker, pipe, [[SceneFace(face_at(160, 120, 80), score=0.2)]] * 5)
    assert all(f == [] for f in out)
    assert det.calls == 5 and tracker.stats.tracks_started == 0  # no track: detect every frame
    det.extra_boxes = [(10, 10, 40, 40)]  # a false box on background: the network rejects it
    pipe.scene = []
    assert tracker.track(FRAME) == []


def test_refinement_pass_runs_from_predicted_landmarks():
    tracker, pipe, det = make_tracker(refine=True)
    run(tracker, pipe, [[SceneFace(face_at(160, 120, 80))]])
    assert pipe.calls == 2  # box crop, then the landmark crop that confirms
    tracker, pipe, det = make_tracker(refine=False)
    run(tracker, pipe, [[SceneFace(face_at(160, 120, 80))]])
    assert pipe.calls == 1


def test_face_leaving_and_returning():
    tracker, pipe, det = make_tracker(detect_every=0, reuse_id_frames=5)
    here = [SceneFace(face_at(160, 120, 80))]
    out = run(tracker, pipe, [here] * 10 + [[]] * 3 + [here] * 10)
    assert [len(f) for f in out] == [1] * 10 + [0] * 3 + [1] * 10
    assert {f[0].id for f in out if f} == {1}  # back within reuse_id_frames: same id
    assert tracker.stats.tracks_resumed == 1 and tracker.stats.tracks_lost == 1
    out = run(tracker, pipe, [[]] * 20 + [here] * 3)
    assert out[-1][0].id == 2  # gone for long: a new id
    assert det.calls == 1 + 4 + 20 + 1  # it searched only while no face was tracked


def test_lost_face_found_again_in_the_same_frame_keeps_its_id():
    tracker, pipe, det = make_tracker(detect_every=0)
    run(tracker, pipe, [[SceneFace(face_at(100, 120, 80))]] * 3)
    # The face jumps further than a crop can follow; the detector finds it on the same frame.
    out = run(tracker, pipe, [[SceneFace(face_at(140, 120, 80))]])
    assert len(out[0]) == 1 and out[0][0].id == 1 and det.calls == 2


def test_two_faces_batched_and_max_faces():
    tracker, pipe, det = make_tracker(max_faces=2, detect_every=5)
    scene = [SceneFace(face_at(x, 120, 50)) for x in (50, 160, 270)]
    out = run(tracker, pipe, [scene] * 12)
    assert all(len(f) == 2 for f in out)
    assert {f.id for f in out[-1]} == {1, 2}
    assert pipe.max_batch == 2
    assert det.calls == 1  # already at max_faces: no periodic detection


def test_converging_tracks_merge_keeping_the_older_id():
    tracker, pipe, det = make_tracker(detect_every=4)
    a = SceneFace(face_at(100, 120, 60))
    run(tracker, pipe, [[a]] * 3)
    scenes = [[a, SceneFace(face_at(200 - 12 * t, 120, 60))] for t in range(8)]
    out = run(tracker, pipe, [[a, SceneFace(face_at(200, 120, 60))]] * 5)  # b appears; the periodic search (frame 4) is merged 3 frames later
    assert sorted(f.id for f in out[-1]) == [1, 2]
    run(tracker, pipe, scenes)
    # b vanishes right next to a: its crop now sees a, both tracks sit on a -> merged into the older one.
    out = run(tracker, pipe, [[a]] * 3)
    assert [f.id for f in out[-1]] == [1] and tracker.stats.merges == 1


def test_crossing_faces_do_not_crash_and_are_both_tracked_after():
    tracker, pipe, det = make_tracker(detect_every=15, max_faces=4)
    scenes = [[SceneFace(face_at(40 + 6 * t, 120, 60)), SceneFace(face_at(280 - 6 * t, 120, 60))] for t in range(41)]
    out = run(tracker, pipe, scenes)
    assert len(out[0]) == 2 and len(out[-1]) == 2
    assert all(len(f) <= 2 for f in out)
    assert len({f.id for f in out[-1]}) == 2


def test_grey_and_bgra_frames_are_converted():
    tracker, pipe, det = make_tracker()
    pipe.scene = [SceneFace(face_at(160, 120, 80))]
    assert len(tracker.track(np.zeros((240, 320), np.uint8))) == 1
    assert len(tracker.track(np.zeros((240, 320, 4), np.uint8))) == 1
    assert len(tracker.track(np.zeros((240, 320, 1), np.uint8))) == 1
    with pytest.raises(TypeError, match="uint8"):
        tracker.track(np.zeros((240, 320, 3), np.float32))
    with pytest.raises(ValueError, match="H, W"):
        tracker.track(np.zeros((240, 320, 2), np.uint8))


def test_frame_size_change_resets_tracks():
    tracker, pipe, det = make_tracker(detect_every=0)
    run(tracker, pipe, [[SceneFace(face_at(160, 120, 80))]] * 3)
    out = run(tracker, pipe, [[SceneFace(face_at(100, 100, 60))]], frame=np.zeros((200, 200, 3), np.uint8))
    assert tracker.stats.size_resets == 1 and det.calls == 2
    assert out[0][0].id == 2  # coordinates of the old frame say nothing about the new one


def test_bad_landmarks_end_the_track_instead_of_crashing():
    tracker, pipe, det = make_tracker(detect_every=0)
    run(tracker, pipe, [[SceneFace(face_at(160, 120, 80))]] * 2)
    nan_face = face_at(160, 120, 80)
    nan_face[3] = np.nan
    out = run(tracker, pipe, [[SceneFace(nan_face)]])
    assert out[0] == [] and tracker.stats.tracks_lost == 1


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="max_faces"):
        make_tracker(max_faces=0)
    with pytest.raises(ValueError, match="detect_every"):
        make_tracker(detect_every=-1)
    with pytest.raises(ValueError, match="unknown detector"):
        from atpn_edge.tracking.tracker import Tracker
        from tracker_fakes import FakePipeline

        Tracker(pipeline=FakePipeline(), detector="nope")


def test_a_face_collapsing_to_a_few_pixels_ends_the_track():
    tracker, pipe, det = make_tracker(detect_every=0, min_face_px=12)
    run(tracker, pipe, [[SceneFace(face_at(160, 120, 80))]] * 2)
    tiny = face_at(160, 120, 80)
    tiny[:] = tiny.mean(axis=0) + (tiny - tiny.mean(axis=0)) * 0.1  # what an untrained network does
    pipe.scene = []
    tracker.pipeline.run = lambda frame, aff: SimpleNamespace(
        landmarks=tiny[None].astype(np.float32), pose=np.zeros((1, 3)), face_score=np.array([0.9]))
    assert tracker.track(FRAME) == [] and tracker.stats.tracks_lost == 1


@pytest.mark.parametrize("jump, same_id", [(65, True), (170, False)])
def test_face_moving_too_fast_to_follow_is_resumed_only_nearby(jump, same_id):
    tracker, pipe, det = make_tracker(detect_every=0)
    run(tracker, pipe, [[SceneFace(face_at(80, 120, 80))]] * 3)
    out = run(tracker, pipe, [[SceneFace(face_at(80 + jump, 120, 80))]])  # 0.8 or 2 face sizes in one frame
    assert len(out[0]) == 1 and (out[0][0].id == 1) == same_id
