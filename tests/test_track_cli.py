"""`atpn-edge track` end to end with the fake network and detector: outputs, summary, and every
way a run can stop early (Ctrl-C, a camera that goes silent, frames that change size)."""
from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
import pytest

from atpn_edge.commands import track
from tracker_fakes import install_fake_network
from helpers import ScriptedCapture, count_frames, write_video


def parse(argv):
    p = argparse.ArgumentParser()
    track.add_arguments(p)
    return p.parse_args(argv)


@pytest.fixture
def fake(monkeypatch):
    return install_fake_network(monkeypatch)


def test_track_writes_video_jsonl_and_summary(tmp_path, fake, capsys):
    src = write_video(tmp_path / "in.mp4", n=25)
    out, jl = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    rc = track.run(parse([str(src), "--output", str(out), "--jsonl", str(jl), "--json", "--no-progress"]))
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {k: summary[k] for k in ("frames", "frames_with_face", "detector_calls", "tracks")} == \
        {"frames": 25, "frames_with_face": 25, "detector_calls": 3, "tracks": 1}  # frames 0, 12, 24
    assert summary["fps"] > 0
    assert set(summary["latency_ms"]) >= {"p50", "p90", "p99", "detector_p50"} and summary["latency_ms"]["p50"] > 0
    header, *lines = [json.loads(x) for x in jl.read_text().splitlines()]
    assert header["format_version"] == 1 and header["frame_size"] == [64, 48] and header["model_version"] == "fake"
    assert [x["frame"] for x in lines] == list(range(25)) and lines[3]["faces"][0]["id"] == 1
    assert count_frames(out) == 25


def test_max_frames_and_progress_on_stderr(tmp_path, fake, capsys, monkeypatch):
    src = write_video(tmp_path / "in.mp4", n=25)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    rc = track.run(parse([str(src), "--max-frames", "7", "--json"]))
    cap = capsys.readouterr()
    assert rc == 0 and json.loads(cap.out.splitlines()[-1])["frames"] == 7
    assert "7/25" in cap.err and "fps" in cap.err


def test_ctrl_c_closes_and_keeps_outputs(tmp_path, fake, capsys):
    src = write_video(tmp_path / "in.mp4", n=40)
    out, jl = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    real_run = fake.run

    def interrupt_at_10(frame, affines):
        if fake.calls >= 11:
            raise KeyboardInterrupt
        return real_run(frame, affines)

    fake.run = interrupt_at_10
    rc = track.run(parse([str(src), "-o", str(out), "--jsonl", str(jl), "--json", "--no-progress"]))
    cap = capsys.readouterr()
    assert rc == 130 and "interrupted" in cap.err
    n = len(jl.read_text().splitlines()) - 1  # the header
    assert 5 <= n < 40 and count_frames(out) == n  # the MP4 was finalised: playable
    assert json.loads(cap.out.splitlines()[-1])["stopped_by"] == "interrupt"


def test_camera_that_stops_delivering(tmp_path, fake, capsys, monkeypatch):
    frames = [np.zeros((48, 64, 3), np.uint8)] * 6
    monkeypatch.setattr("atpn_edge.io.sources.open_capture", lambda spec, *timeouts: ScriptedCapture(frames))
    jl = tmp_path / "cam.jsonl"
    rc = track.run(parse(["0", "--jsonl", str(jl), "--read-timeout", "0.3", "--json", "--no-progress"]))
    cap = capsys.readouterr()
    assert rc == 1 and "delivered no frame" in cap.err and "outputs kept" in cap.err
    summary = json.loads(cap.out.splitlines()[-1])
    assert summary["stopped_by"] == "error"
    # a camera drops frames the tracker has no time for; every frame is either written or dropped
    assert len(jl.read_text().splitlines()) - 1 + summary["dropped_frames"] == 6 == summary["frames"] + summary["dropped_frames"]


def test_frames_that_change_size_grey_and_bgra(tmp_path, fake, capsys, monkeypatch):
    frames = [np.zeros((48, 64, 3), np.uint8)] * 3 + [np.zeros((60, 80), np.uint8)] * 3 + [np.zeros((48, 64, 4), np.uint8)] * 3
    monkeypatch.setattr("atpn_edge.io.sources.open_capture", lambda spec, *timeouts: ScriptedCapture(frames))
    out = tmp_path / "o.avi"
    rc = track.run(parse([str(tmp_path / "x.mp4"), "-o", str(out), "--json", "--no-progress"]))
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert rc == 0 and summary["frames"] == 9 and summary["size_resets"] == 2
    assert count_frames(out) == 9


def test_unreadable_source_and_display_without_gui(tmp_path, fake):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(RuntimeError, match="could not open video file"):
        track.run(parse([str(bad)]))
    gui = [ln for ln in cv2.getBuildInformation().splitlines() if ln.strip().startswith("GUI:")]
    if gui and "NONE" in gui[0]:  # the headless wheel this project depends on
        with pytest.raises(RuntimeError, match="headless"):
            track.run(parse([str(bad), "--display"]))


def test_help_shows_a_jetson_csi_example():
    p = argparse.ArgumentParser()
    track.add_arguments(p)
    assert "nvarguscamerasrc" in p.format_help()


@pytest.mark.parametrize("mode", ["on", "off"])
def test_decoding_on_a_thread_or_in_the_loop_writes_the_same_results(tmp_path, fake, capsys, mode):
    """``--decode-thread``: the capture thread (more frames/s where a core is free) or decoding
    between frames (steadier per-frame time on two cores); the outputs do not depend on it."""
    import threading

    src = write_video(tmp_path / "in.mp4", n=30)
    ref = tmp_path / "ref.jsonl"
    assert track.run(parse([str(src), "--jsonl", str(ref), "--no-progress", "--decode-thread", "off"])) == 0
    seen = []
    real_run = fake.run

    def watch(frame, affines):
        seen.append(any(t.name == "atpn-capture" for t in threading.enumerate()))
        return real_run(frame, affines)

    fake.run = watch
    jl = tmp_path / "out.jsonl"
    assert track.run(parse([str(src), "--jsonl", str(jl), "--no-progress", "--decode-thread", mode])) == 0
    assert any(seen) is (mode == "on")
    assert jl.read_text() == ref.read_text()
