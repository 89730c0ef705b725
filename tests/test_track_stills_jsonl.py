"""`atpn-edge track` on stills and folders, JSON lines on stdout with their header, credentials
redacted everywhere, a truncated file reported, the overlay's current fps and face-sized marks."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from atpn_edge.cli import main
from atpn_edge.io.draw import draw_faces
from atpn_edge.core.face import Face
from helpers import write_video
from test_track_cli import fake  # noqa: F401 (fixture)


def photo(path, value=90):
    assert cv2.imwrite(str(path), np.full((48, 64, 3), value, np.uint8))
    return path


def test_a_photo_in_an_annotated_photo_out(tmp_path, fake, capsys):
    src, out, jl = photo(tmp_path / "photo.jpg"), tmp_path / "out.png", tmp_path / "p.jsonl"
    rc = main(["track", str(src), "--output", str(out), "--jsonl", str(jl), "--json", "--no-progress"])
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert rc == 0 and summary["frames"] == summary["frames_with_face"] == 1
    drawn = cv2.imread(str(out))
    assert drawn.shape == (48, 64, 3) and (drawn != 90).any()  # marks were drawn
    header, record = (json.loads(x) for x in jl.read_text().splitlines())
    assert header["source_kind"] == "image" and record["image"] == "photo.jpg" and len(record["faces"]) == 1


def test_a_folder_of_photos_into_a_folder(tmp_path, fake, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, name in enumerate(["b.png", "a.jpg", "c.bmp"]):
        photo(folder / name, 40 + 20 * i)
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    out, jl = tmp_path / "annotated", tmp_path / "f.jsonl"
    rc = main(["track", str(folder), "-o", str(out), "--jsonl", str(jl), "--json", "--no-progress"])
    cap = capsys.readouterr()
    assert rc == 0 and "skipped broken.jpg" in cap.err
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "b.png", "c.bmp"]
    records = [json.loads(x) for x in jl.read_text().splitlines()[1:]]
    assert [r["image"] for r in records] == ["a.jpg", "b.png", "c.bmp"]
    assert all(len(r["faces"]) == 1 for r in records)
    assert json.loads(cap.out.splitlines()[-1])["detector_calls"] == 3  # each photo detected afresh
    assert main(["track", str(folder), "-o", str(folder), "--no-progress"]) == 2  # over the inputs: refused


def test_a_video_to_an_image_output_is_refused(tmp_path, fake, capsys):
    src = write_video(tmp_path / "v.mp4", n=3)
    assert main(["track", str(src), "-o", str(tmp_path / "x.jpg"), "--no-progress"]) == 2
    assert "write a video" in capsys.readouterr().err


def test_jsonl_to_stdout_with_the_summary_on_stderr(tmp_path):
    """A real process: stdout holds nothing but JSON lines (header first), the summary goes to stderr."""
    src = write_video(tmp_path / "v.mp4", n=8, size=(96, 64))
    r = subprocess.run([sys.executable, "-m", "atpn_edge", "track", str(src), "--jsonl", "-", "--json", "--no-progress"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    header, *records = [json.loads(x) for x in r.stdout.splitlines()]
    assert header["format"] == "atpn-edge-jsonl" and header["format_version"] == 1
    assert header["frame_size"] == [96, 64] and header["fps"] == 25.0 and header["landmark_scheme"] == "ibug68"
    assert header["num_landmarks"] == 68 and header["model_version"] and header["box"] == "landmarks"
    assert [x["frame"] for x in records] == list(range(8))
    assert json.loads(r.stderr.strip().splitlines()[-1])["frames"] == 8
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("text, shown", [
    ("rtsp://admin:pa55@10.0.0.5:554/live", "rtsp://***@10.0.0.5:554/live"),
    ("could not open http://u:p@cam/x.mjpg (check)", "could not open http://***@cam/x.mjpg (check)"),
    ("rtsp://user@host/x", "rtsp://***@host/x"), ("rtsp://host/a@b", "rtsp://host/a@b"), ("video.mp4", "video.mp4"),
    ("rtspsrc location=rtsp://cam/live user-id=admin user-pw=s3cr3t ! decodebin ! appsink",
     "rtspsrc location=rtsp://cam/live user-id=*** user-pw=*** ! decodebin ! appsink"),
])
def test_credentials_are_redacted(text, shown):
    from atpn_edge.io.redact import redact

    assert redact(text) == shown


def test_credentials_never_reach_the_summary_or_the_jsonl_header(tmp_path, fake, capsys, monkeypatch):
    from helpers import ScriptedCapture

    frames = [np.zeros((48, 64, 3), np.uint8)] * 4
    monkeypatch.setattr("atpn_edge.io.sources.open_capture", lambda spec, *t: ScriptedCapture(frames))
    jl = tmp_path / "s.jsonl"
    rc = main(["track", "rtsp://admin:topsecret@10.1.2.3/live", "--jsonl", str(jl), "--reconnect", "0",
               "--read-timeout", "0.3", "--json", "--no-progress"])
    cap = capsys.readouterr()
    assert rc == 1 and "topsecret" not in cap.out + cap.err + jl.read_text() and "admin" not in cap.out + cap.err
    assert json.loads(cap.out.splitlines()[-1])["source"] == "rtsp://***@10.1.2.3/live"
    assert json.loads(jl.read_text().splitlines()[0])["source"] == "rtsp://***@10.1.2.3/live"


def test_a_truncated_file_says_it_ended_early(tmp_path, fake, capsys):
    good = write_video(tmp_path / "good.avi", n=40, noise=True)  # AVI: the frame count is in its header
    cut = tmp_path / "cut.avi"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size * 7 // 10])  # an interrupted download
    rc = main(["track", str(cut), "--json", "--no-progress"])
    cap = capsys.readouterr()
    summary = json.loads(cap.out.splitlines()[-1])
    assert summary["ended_early"] is True and summary["frames_expected"] == 40 and 0 < summary["frames"] < 40
    assert "ended after" in cap.err and rc == 0


def test_the_overlay_rate_is_the_current_one():
    from atpn_edge.io.progress import RecentRate

    rate = RecentRate(window_s=1.0)
    t = 0.0
    for _ in range(100):  # 100 fps for a second ...
        t += 0.01
        rate.tick(t)
    for _ in range(20):  # ... then 10 fps for two seconds: the average since start would say ~40
        t += 0.1
        now = rate.tick(t)
    assert now == pytest.approx(10.0, rel=0.01)


def test_marks_scale_with_the_face_not_the_frame():
    lm = np.stack([np.linspace(0, 1, 68), np.linspace(0, 1, 68)], 1)

    def box_line_width(size):  # the box's right edge, drawn for one face on a 1080p frame
        img = np.zeros((1080, 1920, 3), np.uint8)
        face = Face(id=1, box=(100.0, 100.0, size, size), landmarks=100 + lm * size, pose=(0.0, 0.0, 0.0), score=0.9)
        draw_faces(img, [face])
        row = img[int(100 + 0.3 * size), int(100 + size) - 10:int(100 + size) + 10]
        return int((row.sum(axis=1) > 0).sum())

    assert box_line_width(40) < box_line_width(400)  # marks sized by the face (sized by the frame: equal)
