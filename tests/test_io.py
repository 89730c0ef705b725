"""Frame sources and sinks: parsing, threaded reading, live-source timeouts and drops, broken files,
letterboxing on size changes, JSON lines, drawing. Synthetic frames only (fast)."""
from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest

from helpers import ScriptedCapture, count_frames, write_video

from atpn_edge.io.draw import draw_faces
from atpn_edge.io.jsonl import JsonlSink
from atpn_edge.io.sources import FrameSource, SourceError, parse_source
from atpn_edge.io.video_writer import VideoSink, letterbox
from atpn_edge.core.face import Face


@pytest.mark.parametrize("text, kind, target", [
    ("0", "camera", 0), ("12", "camera", 12), ("clip.mp4", "file", "clip.mp4"),
    ("rtsp://10.0.0.5:554/live", "rtsp", "rtsp://10.0.0.5:554/live"),
    ("videotestsrc ! videoconvert ! appsink", "gstreamer", "videotestsrc ! videoconvert ! appsink"),
])
def test_parse_source(text, kind, target):
    spec = parse_source(text)
    assert (spec.kind, spec.target) == (kind, target)
    assert spec.live == (kind != "file")


def test_file_source_reads_every_frame_in_order(tmp_path):
    path = write_video(tmp_path / "a.mp4", n=30)
    with FrameSource(str(path), queue_size=2) as src:
        assert src.fps == pytest.approx(25.0) and src.frame_count == 30
        frames = list(src)
    assert [f.index for f in frames] == list(range(30))
    assert frames[10].timestamp == pytest.approx(10 / 25.0, abs=1e-3)
    assert frames[0].image.shape == (48, 64, 3)


def test_a_file_source_takes_turns_with_the_detectors_searches(tmp_path):
    """``defer_to(gate)``: while a search is requested the reader waits up to 50 ms before each
    frame, and while one runs it decodes nothing at all; nothing is lost and frames still come."""
    import threading

    from atpn_edge.core.threads import SearchGate

    path = write_video(tmp_path / "a.mp4", n=12)
    gate = SearchGate()
    gate.request()
    with FrameSource(str(path), queue_size=1, threaded=True) as src:
        src.defer_to(gate)
        t0 = time.perf_counter()
        it = iter(src)
        held = [next(it) for _ in range(6)]
        waited = time.perf_counter() - t0
        reads = []
        real = src._cap

        class Counted:  # the reader looks its capture up for every frame
            def read(self):
                reads.append(time.perf_counter())
                return real.read()

            def get(self, prop):
                return real.get(prop)

            def release(self):
                real.release()

        src._cap = Counted()
        with gate.searching():
            t_search = time.perf_counter()
            time.sleep(0.2)
            t_done = time.perf_counter()
        rest = list(it)
    assert [f.index for f in held + rest] == list(range(12))
    assert waited >= 0.2, waited  # at least 5 of the 6 frames waited out the 50 ms
    assert not [t for t in reads if t_search + 0.06 < t < t_done], "a frame was decoded during the search"
    with FrameSource(str(path), threaded=False) as other, pytest.raises(TypeError, match="SearchGate"):
        other.defer_to(threading.Event())


def test_missing_unreadable_and_truncated_files(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        FrameSource(str(tmp_path / "nope.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(SourceError, match="could not open"):
        FrameSource(str(junk))
    good = write_video(tmp_path / "good.avi", n=40)
    cut = tmp_path / "cut.avi"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])  # an interrupted download or recording
    try:
        with FrameSource(str(cut)) as src:
            n = len(list(src))
    except SourceError as exc:  # some builds refuse to open it at all: that must be a clear error
        assert "could not open" in str(exc)
    else:
        assert 0 <= n < 40


def test_gstreamer_without_support_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("atpn_edge.io.sources._has_gstreamer", lambda: False)
    with pytest.raises(SourceError, match="GStreamer"):
        FrameSource("videotestsrc ! appsink")


def test_camera_that_cannot_open(monkeypatch):
    class Closed(ScriptedCapture):
        def isOpened(self):
            return False

    monkeypatch.setattr(cv2, "VideoCapture", lambda *a: Closed([]))
    with pytest.raises(SourceError, match="could not open camera: 7"):
        FrameSource("7")


def test_live_source_that_stops_delivering_times_out_after_its_frames():
    frames = [np.zeros((8, 8, 3), np.uint8)] * 3
    src = FrameSource("0", capture=ScriptedCapture(frames), read_timeout=0.3)
    got = []
    with pytest.raises(SourceError, match="delivered no frame for 0.3 s"):
        for f in src:
            got.append(f)
    src.close()
    assert len(got) == 3


def test_live_source_drops_old_frames_when_the_consumer_is_slow():
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(60)]
    src = FrameSource("0", capture=ScriptedCapture(frames, delay=0.001), queue_size=2, read_timeout=0.2)
    seen = []
    with pytest.raises(SourceError):
        for f in src:
            seen.append(int(f.image[0, 0, 0]))
            time.sleep(0.01)
    src.close()
    assert src.dropped > 0 and len(seen) < 60
    assert seen == sorted(seen) and seen[-1] == 59  # newest frames win, order kept


def test_file_source_never_drops_even_with_a_slow_consumer():
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(20)]
    src = FrameSource("f.mp4", capture=ScriptedCapture(frames), queue_size=1, live=False)
    seen = []
    for f in src:
        seen.append(int(f.image[0, 0, 0]))
        time.sleep(0.002)
    src.close()
    assert seen == list(range(20)) and src.dropped == 0


def test_close_while_reading_stops_the_thread(tmp_path):
    path = write_video(tmp_path / "a.mp4", n=50)
    src = FrameSource(str(path), queue_size=1, threaded=True)
    next(iter(src))
    src.close()
    assert not src._thread.is_alive()


def capture_threads() -> list:
    import threading

    return [t for t in threading.enumerate() if t.name == "atpn-capture" and t.is_alive()]


@pytest.mark.parametrize("cores, threaded", [(2, False), (3, True), (16, True)])
def test_a_file_gets_a_capture_thread_only_with_a_core_for_it(tmp_path, monkeypatch, cores, threaded):
    """With two cores the decoder would take the tracking thread's: the file is decoded in the
    loop itself, between frames, with the same frames and timestamps."""
    monkeypatch.setattr("atpn_edge.io.sources.usable_cores", lambda: cores)
    path = write_video(tmp_path / "a.mp4", n=20)
    with FrameSource(str(path), threaded=True) as ref:
        want = [(f.index, f.timestamp, f.image.tobytes()) for f in ref]
    with FrameSource(str(path)) as src:
        assert src.threaded is threaded and bool(capture_threads()) is threaded
        got = [(f.index, f.timestamp, f.image.tobytes()) for f in src]
    assert got == want and len(got) == 20
    live = FrameSource("0", capture=ScriptedCapture([np.zeros((4, 4, 3), np.uint8)]), read_timeout=0.2, threaded=False)
    assert live.threaded  # a live source must be drained while the loop works
    live.close()


def test_a_file_decoded_in_the_loop_reports_a_failing_capture_after_its_frames():
    class Failing(ScriptedCapture):
        def read(self):
            ok, image = super().read()
            if not ok:
                raise RuntimeError("decoder exploded")
            return ok, image

    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(5)]
    src = FrameSource("f.mp4", capture=Failing(frames), live=False, threaded=False)
    seen = []
    with pytest.raises(SourceError, match="reading f.mp4 failed: decoder exploded"):
        for f in src:
            seen.append(int(f.image[0, 0, 0]))
    src.close()
    assert seen == list(range(5)) and not capture_threads()


def test_video_sink_letterboxes_frames_that_change_size(tmp_path):
    out = tmp_path / "out.mp4"
    with VideoSink(out, fps=10) as sink:
        for _ in range(5):
            sink.write(np.full((48, 64, 3), 200, np.uint8))
        for _ in range(5):
            sink.write(np.full((100, 50, 3), 200, np.uint8))
    assert sink.letterboxed == 5 and count_frames(out) == 10
    box = letterbox(np.full((100, 50, 3), 200, np.uint8), (64, 48))
    assert box.shape == (48, 64, 3) and box[:, 0].max() == 0 and box[24, 32, 0] == 200


@pytest.mark.parametrize("suffix, codec", [(".mp4", "h264"), (".webm", "vp9"), (".mkv", "h264"), (".avi", "mjpeg")])
def test_video_sink_writes_browser_codecs_with_exact_timestamps(tmp_path, suffix, codec):
    import av
    from fractions import Fraction

    out = tmp_path / f"v{suffix}"
    with VideoSink(out, fps=30000 / 1001) as sink:  # NTSC rate, odd frame size (4:2:0 needs even: padded)
        for i in range(40):
            sink.write(np.full((47, 63, 3), 5 * i, np.uint8))
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        stamps = [f.pts * f.time_base for f in c.decode(video=0)]
        assert stream.codec_context.name == codec and (stream.width, stream.height) == (64, 48)
    step = Fraction(1001, 30000) if suffix != ".webm" and suffix != ".mkv" else Fraction(1, 1000)  # Matroska: ms clock
    assert len(stamps) == 40 and all(abs(t - i * Fraction(1001, 30000)) <= step / 2 for i, t in enumerate(stamps))
    if suffix == ".mp4":
        data = out.read_bytes()
        assert data.count(b"moof") >= 2 and b"avc1" in data  # fragmented (a keyframe a second), H.264
        assert stream.codec_context.pix_fmt == "yuv420p"  # what browsers decode


def test_video_sink_falls_back_to_vp9_without_libx264(tmp_path, monkeypatch):
    import av

    monkeypatch.setattr(av, "codecs_available", set(av.codecs_available) - {"libx264"})
    out = tmp_path / "v.mp4"
    with VideoSink(out, fps=25) as sink:
        assert sink.codec == "libvpx-vp9"
        for i in range(5):
            sink.write(np.full((48, 64, 3), 40 * i, np.uint8))
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "vp9" and sum(1 for _ in c.decode(video=0)) == 5


def test_video_sink_places_live_frames_by_their_timestamps(tmp_path):
    import av

    out = tmp_path / "live.mp4"
    with VideoSink(out, fps=25) as sink:
        for t in (7.0, 7.04, 7.08, 8.0, 8.04):  # a second without frames (dropped, reconnecting)
            sink.write(np.zeros((48, 64, 3), np.uint8), timestamp=t)
    with av.open(str(out)) as c:
        assert [f.pts * f.time_base * 25 for f in c.decode(video=0)] == [0, 1, 2, 25, 26]


def test_video_sink_rejects_unknown_extension_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="must end in"):
        VideoSink(tmp_path / "out.xyz")
    with pytest.raises(FileNotFoundError):
        VideoSink(tmp_path / "missing" / "out.mp4")


def _face(i=1):
    lm = np.stack([np.linspace(20, 60, 68), np.linspace(30, 70, 68)], 1).astype(np.float32)
    return Face(id=i, box=(20.0, 30.0, 40.0, 40.0), landmarks=lm, pose=(10.0, -5.0, 3.0), score=0.9)


def test_jsonl_sink_writes_a_header_then_one_flushed_line_per_frame(tmp_path):
    path = tmp_path / "r.jsonl"
    sink = JsonlSink(path, header={"source": "rtsp://***@h/x"})
    sink.write(0, 0.0, [_face()], frame_size=(64, 48))
    header, first = (json.loads(x) for x in path.read_text().splitlines())  # readable before close (flushed)
    sink.write(1, 0.04, [], frame_size=(80, 60))
    sink.close()
    assert header == {"format": "atpn-edge-jsonl", "format_version": 1, "source": "rtsp://***@h/x", "frame_size": [64, 48]}
    assert first["frame"] == 0 and first["faces"][0]["id"] == 1 and "size" not in first
    assert len(first["faces"][0]["landmarks"]) == 68 and first["faces"][0]["pose"] == [10.0, -5.0, 3.0]
    assert json.loads(path.read_text().splitlines()[2]) == {"frame": 1, "t": 0.04, "size": [80, 60], "faces": []}


def test_jsonl_sink_without_frames_still_says_what_it_is(tmp_path):
    path = tmp_path / "empty.jsonl"
    JsonlSink(path).close()
    assert json.loads(path.read_text()) == {"format": "atpn-edge-jsonl", "format_version": 1, "frame_size": None}


def test_draw_faces_marks_landmarks_box_and_axes():
    img = np.zeros((100, 100, 3), np.uint8)
    draw_faces(img, [_face()], fps=30.0)
    assert img[30, 20:60].any()  # box edge
    assert img[int(50), int(40)].any() or img[45:55, 35:45].any()  # axes from the box centre
    assert img[30, 20].any()


def test_a_dropped_stream_is_reopened_with_backoff_and_the_lost_time_counted(monkeypatch):
    from atpn_edge.io.stream_reconnect import ReconnectPolicy

    frame = np.zeros((48, 64, 3), np.uint8)
    attempts = []

    def open_capture(spec, *timeouts):
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            return ScriptedCapture([frame] * 3)  # then the stream drops
        if len(attempts) == 4:
            return ScriptedCapture([frame] * 2)
        time.sleep(0.1)  # a failed open takes its open timeout
        raise SourceError("could not open stream")  # the camera is rebooting, later gone for good

    monkeypatch.setattr("atpn_edge.io.sources.open_capture", open_capture)
    policy = ReconnectPolicy(window_s=1.0, backoff_s=0.1, max_backoff_s=0.3)
    with FrameSource("rtsp://127.0.0.1:1/x", read_timeout=0.05, open_timeout=0.1, reconnect=policy) as src:
        with pytest.raises(SourceError, match="could not be reopened within 1 s"):
            frames = []
            for f in src:
                frames.append(f)
    assert len(frames) == 5 and src.reconnects == 1 and src.lost_s >= 0.6 + 0.9  # 3 + 2 frames, two outages
    assert np.allclose(np.diff(attempts[1:4]), [0.1 + 0.2, 0.1 + 0.3], atol=0.1)  # waits doubled, capped
