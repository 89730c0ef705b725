"""The tracker with the real network on the shared face videos (skipped without the model or the
data). ATPN_EDGE_MODEL=DIR runs them with another model directory."""
from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
import pytest

from helpers import shipped_pipeline

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def pipeline():
    return shipped_pipeline()


def frames(path, n=0):
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, f = cap.read()
        if not ok or (n and len(out) >= n):
            break
        out.append(f)
    cap.release()
    return out


def test_one_face_tracked_through_a_talking_head_clip(pipeline, shared_data):
    from atpn_edge import Tracker

    video = frames(shared_data / "videos" / "d0.mp4")
    tracker = Tracker(pipeline)
    ids = []
    for f in video:
        faces = tracker.track(f)
        ids.append(faces[0].id if faces else None)
        for face in faces:
            assert face.landmarks.shape == (68, 2) and np.isfinite(face.landmarks).all()
            assert 0.5 <= face.score <= 1.0 and all(abs(a) <= 180 for a in face.pose)
    s = tracker.stats
    assert s.frames_with_face >= 0.97 * len(video)
    assert s.detector_calls <= 1 + len(video) // tracker.config.detect_every and s.tracks_started == 1  # no loss
    assert len({i for i in ids if i is not None}) == 1


def test_tracking_flickers_less_than_per_frame_detection(pipeline, shared_data):
    from atpn_edge.eval.video import evaluate_video

    res = evaluate_video(shared_data / "videos" / "d3.mp4", pipeline, max_frames=90)
    assert res["face_share"] >= 0.97 and res["id_switches"] == 0
    assert res["jitter"] < res["baseline_jitter"]
    assert res["jitter"] < res["jitter_raw"]
    assert res["agreement_nme"] < 10.0


def test_track_command_on_a_portrait_clip(pipeline, shared_data, tmp_path, capsys, monkeypatch):
    from atpn_edge.commands import track

    monkeypatch.setattr("atpn_edge.runtime.create_pipeline", lambda **kw: pipeline)
    p = argparse.ArgumentParser()
    track.add_arguments(p)
    jl, out = tmp_path / "s20.jsonl", tmp_path / "s20.mp4"
    args = p.parse_args([str(shared_data / "videos" / "s20.mp4"), "--max-frames", "40", "--jsonl", str(jl),
                         "-o", str(out), "--json", "--no-progress"])
    assert track.run(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["frames"] == 40 and summary["frames_with_face"] >= 38
    assert len(jl.read_text().splitlines()) == 1 + 40 and out.stat().st_size > 0  # the header, then one line a frame


def test_face_that_leaves_and_comes_back(pipeline, shared_data):
    from atpn_edge import Tracker

    video = frames(shared_data / "videos" / "d0.mp4", 70)
    tracker = Tracker(pipeline, reuse_id_frames=5)
    found = []
    for i, f in enumerate(video):
        if 30 <= i < 45:  # the face is gone: an empty, shifted picture
            f = np.roll(f, 256, axis=1) * 0 + 120
        found.append(len(tracker.track(f)))
    assert sum(found[30:45]) <= 1  # the face score lets go of an empty crop at once
    assert all(n == 1 for n in found[:30]) and all(n == 1 for n in found[47:])
    assert tracker.stats.tracks_started == 2


def test_two_faces_side_by_side_keep_their_ids(pipeline, shared_data):
    from atpn_edge import Tracker

    left, right = frames(shared_data / "videos" / "d3.mp4", 60), frames(shared_data / "videos" / "d9.mp4", 60)
    tracker = Tracker(pipeline, detect_every=10)
    ids = []
    for a, b in zip(left, right):
        frame = np.concatenate([cv2.resize(a, (320, 320)), cv2.resize(b, (320, 320))], axis=1)
        faces = tracker.track(frame)
        ids.append(sorted((round(f.box[0] > 320), f.id) for f in faces))
    assert all(len(x) == 2 for x in ids[10:])
    assert len({tuple(x) for x in ids[10:]}) == 1  # same id on the same side throughout
