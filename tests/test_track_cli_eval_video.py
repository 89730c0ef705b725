"""`atpn-edge eval video`: the jitter definition, and the whole evaluation with the fake network."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from atpn_edge.commands.eval_video import add_arguments, run
from atpn_edge.eval.video import evaluate_video, flicker, jitter, pose_jitter
from tracker_fakes import face_at, install_fake_network
from helpers import write_video


def test_flicker_ignores_whole_face_motion_and_measures_noise():
    a = face_at(100, 100, 80)
    rot = np.array([[np.cos(0.1), -np.sin(0.1)], [np.sin(0.1), np.cos(0.1)]])
    moved = (a - 100) @ rot.T * 1.2 + 107  # rotation + zoom + shift: no flicker at all
    assert flicker(a, moved) < 1e-9
    noisy = moved + np.random.default_rng(0).normal(0, 0.8, a.shape)
    size = np.sqrt(np.prod(np.ptp(noisy, axis=0)))
    assert flicker(a, noisy) == pytest.approx(0.8 * np.sqrt(2) / size, rel=0.2)


def test_pose_jitter_ignores_steady_turning():
    turning = [(1, None, (float(t), 0.0, 0.0)) for t in range(10)]
    assert pose_jitter(turning) == 0.0
    wobble = [(1, None, (float(t % 2), 0.0, 0.0)) for t in range(10)]
    assert pose_jitter(wobble) == pytest.approx(2.0)
    assert pose_jitter([(1, None, (0, 0, 0)), (2, None, (5, 0, 0)), (2, None, (0, 0, 0))]) is None


def test_jitter_only_pairs_frames_of_the_same_face():
    a, b = face_at(0, 0, 50), face_at(0, 0, 50) + 1.0
    assert jitter([None, (1, a), None, (1, a)]) is None
    assert jitter([(1, a), (2, b)]) is None  # an id switch is not flicker
    assert jitter([(1, a), (1, a)]) == 0.0


@pytest.fixture
def fake(monkeypatch):
    return install_fake_network(monkeypatch, noise_px=0.5)


def test_evaluate_video_with_the_fake_network(tmp_path, fake):
    path = write_video(tmp_path / "v.mp4", n=40)
    res = evaluate_video(path)
    assert res["frames"] == 40 and res["face_share"] == 1.0 and res["baseline_face_share"] == 1.0
    # The test video's grey level wraps from 250 to 4 at frame 26: a hard cut, which ends the track.
    # Searches: frames 0, 12, 24 (every 12), the cut at 26, then 38.
    assert res["detector_calls"] == 5 and res["id_switches"] == 1 and res["tracks"] == 2
    # Same noisy network everywhere: the smoothed track flickers less than both raw ones.
    assert res["jitter"] < 0.6 * res["jitter_raw"] and res["jitter"] < 0.6 * res["baseline_jitter"]
    assert 0 < res["agreement_nme"] < 10


def test_eval_video_command_json(tmp_path, fake, capsys):
    path = write_video(tmp_path / "v.mp4", n=12)
    p = argparse.ArgumentParser()
    add_arguments(p)
    assert run(p.parse_args([str(path), "--json", "--no-baseline"])) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["frames"] == 12 and "baseline_jitter" not in res
    with pytest.raises(FileNotFoundError):
        run(p.parse_args([str(tmp_path / "none.mp4")]))


def test_frames_without_a_face_count_against_the_share(tmp_path, fake):
    path = write_video(tmp_path / "v.mp4", n=20)
    fake.scene[0].score = 0.1  # the network rejects every crop: never a face
    res = evaluate_video(path, max_frames=10)
    assert res["frames"] == 10 and res["face_share"] == 0.0 and res["detector_calls"] == 10
    assert res["jitter"] is None and res["agreement_nme"] is None and res["id_switches"] == 0


def test_eval_video_shows_progress_over_all_passes(tmp_path, fake, capsys, monkeypatch):
    path = write_video(tmp_path / "v.mp4", n=12)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    p = argparse.ArgumentParser()
    add_arguments(p)
    assert run(p.parse_args([str(path), "--json"])) == 0
    err = capsys.readouterr().err
    assert "36/36 100%" in err and "fps" in err  # three passes of 12 frames
