"""The detector off the critical path: deterministic merges for files, no waiting in realtime mode,
clean shutdown (no thread left, Ctrl-C included), cuts and crowds. Fake network and detector."""
from __future__ import annotations

import json
import signal
import threading
import time

import numpy as np
import pytest

from atpn_edge.detection import Detection
from atpn_edge.tracking.tracker import Tracker
from tracker_fakes import FakeDetector, FakePipeline, SceneFace, face_at, make_tracker

FRAME = np.zeros((240, 320, 3), np.uint8)


def detector_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("atpn-detector")]


class SlowDetector(FakeDetector):
    """The fake detector, taking ``delays`` seconds per call (cycled), or blocking on ``gate``."""

    def __init__(self, pipeline, delays=(0.0,), gate: threading.Event | None = None) -> None:
        super().__init__(pipeline)
        self.delays, self.gate = list(delays), gate
        self.started = threading.Event()

    def detect(self, frame):
        self.started.set()
        if self.gate is not None:
            self.gate.wait(10)
        time.sleep(self.delays[self.calls % len(self.delays)])
        return super().detect(frame)


def two_face_run(mode: str, delays, n: int = 40, **options):
    """Face A from the start, face B from frame 8: B must come from a search made while A is tracked."""
    pipe = FakePipeline()
    det = SlowDetector(pipe, delays)
    a, b = SceneFace(face_at(80, 120, 60)), SceneFace(face_at(240, 120, 60))
    out = []
    with Tracker(pipeline=pipe, detector=det, detection=mode, **options) as tracker:
        for t in range(n):
            pipe.scene = [a] if t < 8 else [a, b]
            out.append([(f.id, f.landmarks.round(3).tobytes()) for f in tracker.track(FRAME)])
    return out, tracker


def test_deterministic_mode_gives_the_same_output_whatever_the_detector_takes():
    fast, tracker = two_face_run("deterministic", [0.0], detect_every=5, detect_lag=2)
    slow, _ = two_face_run("deterministic", [0.03, 0.0, 0.05], detect_every=5, detect_lag=2)
    assert fast == slow
    # Searches at frames 0 (no track: on the frame itself), 5, 10: B is searched at 10, merged at 12.
    assert [len(f) for f in fast[:12]] == [1] * 12 and len(fast[12]) == 2
    assert tracker.stats.tracks_started == 2


def test_sync_mode_finds_a_new_face_on_the_searched_frame():
    out, _ = two_face_run("sync", [0.0], detect_every=5)
    assert [len(f) for f in out[:10]] == [1] * 10 and len(out[10]) == 2


def test_realtime_mode_never_waits_for_a_slow_detector():
    pipe = FakePipeline()
    det = SlowDetector(pipe, [0.0, 0.25])  # the first call (no track yet) is quick, the search is slow
    pipe.scene = [SceneFace(face_at(80, 120, 60))]
    with Tracker(pipeline=pipe, detector=det, detection="realtime", detect_every=3) as tracker:
        tracker.track(FRAME)
        times = []
        for _ in range(12):
            t0 = time.perf_counter()
            tracker.track(FRAME)
            times.append(time.perf_counter() - t0)
        assert tracker.stats.detector_calls == 2  # the slow search is still running: no second one is started
        assert max(times) < 0.1, times
        pipe.scene.append(SceneFace(face_at(240, 120, 60)))
        deadline = time.perf_counter() + 5
        while tracker.num_tracks < 2 and time.perf_counter() < deadline:
            tracker.track(FRAME)
            time.sleep(0.01)
        assert tracker.num_tracks == 2  # picked up once a search saw it
    lat = tracker.latency()
    assert lat["detector_calls"] >= 2 and lat["detector_p90"] >= 200 and lat["p50"] < 50


def test_a_search_from_before_a_size_change_is_dropped():
    pipe = FakePipeline()
    det = SlowDetector(pipe)
    pipe.scene = [SceneFace(face_at(80, 120, 60))]
    with Tracker(pipeline=pipe, detector=det, detect_every=2, detect_lag=3) as tracker:
        for _ in range(3):
            tracker.track(FRAME)  # a search goes out at frame 2
        tracker.track(np.zeros((200, 300, 3), np.uint8))
        assert tracker.stats.size_resets == 1 and tracker.num_tracks == 1
        for _ in range(4):
            tracker.track(np.zeros((200, 300, 3), np.uint8))
    assert tracker.stats.tracks_started == 2  # nothing from the old frame came back


def test_the_search_gate_is_taken_only_while_a_search_is_asked_for_or_runs():
    """``Tracker.search_gate`` (what a file's decoder takes turns with) is requested when a search
    is handed to the worker and free again when the detector returns, also for a discarded one."""
    class HeldAfterTheFirst(FakeDetector):  # the first search (nothing tracked) runs on the frame
        def detect(self, frame):
            if self.calls:
                started.set()
                gate.wait(10)
            return super().detect(frame)

    pipe, gate, started = FakePipeline(), threading.Event(), threading.Event()
    det = HeldAfterTheFirst(pipe)
    pipe.scene = [SceneFace(face_at(80, 120, 60))]
    with Tracker(pipeline=pipe, detector=det, detect_every=2, detection="realtime") as tracker:
        tracker.track(FRAME)
        assert tracker.search_gate.idle
        while not started.is_set():
            tracker.track(FRAME)
        assert not tracker.search_gate.idle
        tracker.reset()  # the search is discarded but still runs
        assert not tracker.search_gate.idle
        gate.set()
        deadline = time.monotonic() + 5
        while not tracker.search_gate.idle and time.monotonic() < deadline:
            time.sleep(0.01)
        assert tracker.search_gate.idle


def test_a_search_discarded_before_it_starts_gives_the_gate_back():
    from atpn_edge.tracking.async_detector import DetectorWorker

    worker = DetectorWorker(FakeDetector(FakePipeline()))
    worker._thread = threading.current_thread()  # no thread picks the job up
    worker.submit(FRAME, "tag")
    assert not worker.gate.idle
    worker.discard()
    assert worker.gate.idle


def test_close_ends_the_thread_and_later_calls_are_refused():
    before = len(detector_threads())
    out, tracker = two_face_run("deterministic", [0.01], n=20, detect_every=3)
    assert len(detector_threads()) == before  # the with-block closed it
    with pytest.raises(RuntimeError, match="after close"):
        tracker.track(FRAME)
    tracker.close()  # idempotent


def test_a_tracker_dropped_without_close_leaves_no_thread():
    tracker, pipe, det = make_tracker(detect_every=2)
    pipe.scene = [SceneFace(face_at(80, 120, 60))]
    for _ in range(5):
        tracker.track(FRAME)
    assert detector_threads()
    del tracker
    import gc

    gc.collect()
    deadline = time.time() + 5
    while detector_threads() and time.time() < deadline:
        time.sleep(0.01)
    assert not detector_threads()


def test_ctrl_c_while_waiting_for_the_detector_is_clean():
    pipe = FakePipeline()
    gate = threading.Event()
    det = SlowDetector(pipe)
    pipe.scene = [SceneFace(face_at(80, 120, 60))]
    tracker = Tracker(pipeline=pipe, detector=det, detect_every=1, detect_lag=1)
    tracker.track(FRAME)  # frame 0: found on the frame itself
    det.started.clear()
    det.gate = gate  # the search of frame 1 blocks until the gate opens
    tracker.track(FRAME)
    assert det.started.wait(5)  # the search of frame 1 runs (and holds) on the worker
    main = threading.get_ident()
    timer = threading.Timer(0.2, lambda: signal.pthread_kill(main, signal.SIGINT))
    # A process started in the background (`cmd &` in a script) inherits SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler: install it for this test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            tracker.track(FRAME)  # frame 2 waits for the search of frame 1
    finally:
        signal.signal(signal.SIGINT, previous)
    gate.set()
    tracker.close()
    timer.join()
    assert not detector_threads()


def test_a_detector_error_on_the_worker_reaches_the_caller():
    tracker, pipe, det = make_tracker(detect_every=2, detect_lag=1)
    pipe.scene = [SceneFace(face_at(80, 120, 60))]
    tracker.track(FRAME)
    det.detect = lambda frame: (_ for _ in ()).throw(OSError("camera gone"))
    with pytest.raises(OSError, match="camera gone"):
        for _ in range(4):
            tracker.track(FRAME)
    tracker.close()


def frame_of(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (240, 320, 3), dtype=np.uint8)


def test_a_shot_cut_ends_every_track_and_no_id_crosses_it():
    tracker, pipe, det = make_tracker(detect_every=0)
    pipe.scene = [SceneFace(face_at(160, 120, 80))]
    shot_a, shot_b = frame_of(1), frame_of(2)
    before = [tracker.track(shot_a) for _ in range(5)]
    after = [tracker.track(shot_b) for _ in range(5)]  # "another person" at the same place
    assert {f.id for fs in before for f in fs} == {1}
    assert {f.id for fs in after for f in fs} == {2}  # not resumed, although it sits where 1 was lost
    assert tracker.stats.cuts == 1 and det.calls == 2
    tracker.close()


def test_no_cut_inside_a_shot_with_noise_and_motion():
    tracker, pipe, det = make_tracker(detect_every=0)
    import cv2

    base = cv2.GaussianBlur(frame_of(3), (0, 0), 6).astype(np.float64) * 4 - 380  # a smooth picture
    rng = np.random.default_rng(0)
    for t in range(30):
        pipe.scene = [SceneFace(face_at(100 + 3 * t, 120, 70))]
        frame = np.clip(np.roll(base, 3 * t, axis=1) + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
        faces = tracker.track(frame)
        assert [f.id for f in faces] == [1]
    assert tracker.stats.cuts == 0
    tracker.close()


def test_crowd_ranking_keeps_the_largest_confirmed_faces():
    tracker, pipe, det = make_tracker(max_faces=4, detect_every=0)
    sizes = [30, 60, 40, 70, 50, 35]
    pipe.scene = [SceneFace(face_at(40 + 80 * i, 120, s)) for i, s in enumerate(sizes)]
    pipe.scene[3].score = 0.1  # the largest box is no face: it must not take a place
    faces = tracker.track(np.zeros((240, 480, 3), np.uint8))
    centres = sorted(round((f.box[0] + f.box[2] / 2 - 40) / 80) for f in faces)
    assert centres == [1, 2, 4, 5]  # sizes 60, 40, 50, 35: the 30 px face waits for a free place
    assert pipe.max_batch <= 4 and tracker.stats.pipeline_calls == 4  # two batches of candidates
    tracker.close()


def test_one_batched_network_call_per_frame_while_tracking():
    tracker, pipe, det = make_tracker(max_faces=4, detect_every=0)
    pipe.scene = [SceneFace(face_at(40 + 80 * i, 120, 50)) for i in range(4)]
    tracker.track(FRAME)
    calls = pipe.calls
    for _ in range(10):
        assert len(tracker.track(FRAME)) == 4
    assert pipe.calls - calls == 10 and pipe.max_batch == 4
    tracker.close()


def test_detection_keypoints_turn_the_first_crop():
    pipe = FakePipeline()
    seen = []
    run = pipe.run
    pipe.run = lambda frame, aff: (seen.append(np.asarray(aff, np.float64)), run(frame, aff))[1]

    class Turned(FakeDetector):
        def detect(self, frame):
            # eyes right-to-left on the image: the face is upside down
            return [Detection(box=(100, 60, 80, 80), keypoints=np.array([[160, 90], [120, 90]], np.float64))]

    tracker = Tracker(pipeline=pipe, detector=Turned(pipe), refine=False)
    tracker.track(FRAME)
    rot = seen[0][0, :, :2]
    assert abs(np.degrees(np.arctan2(rot[0, 1], rot[0, 0]))) == pytest.approx(180.0, abs=1e-6)
    tracker.close()


def test_the_track_command_writes_the_same_json_lines_twice_for_a_file(tmp_path, monkeypatch):
    import argparse

    from atpn_edge.commands import track
    from helpers import write_video
    from tracker_fakes import install_fake_network

    class LateSecondFace(SlowDetector):
        """Sees the second face only from its second call on, taking a random time per call."""

        def detect(self, frame):
            found = super().detect(frame)
            return found if self.calls > 1 else found[:1]

    src = write_video(tmp_path / "in.mp4", n=40, size=(160, 64))
    outputs = []
    for run, delays in enumerate(([0.0, 0.02, 0.0], [0.03, 0.0, 0.01])):
        pipe = install_fake_network(monkeypatch, noise_px=0.3)
        pipe.scene = [SceneFace(face_at(32, 30, 24)), SceneFace(face_at(112, 30, 24))]
        monkeypatch.setattr("atpn_edge.tracking.tracker.create_detector", lambda spec: LateSecondFace(pipe, delays))
        p = argparse.ArgumentParser()
        track.add_arguments(p)
        jl = tmp_path / f"run{run}.jsonl"
        assert track.run(p.parse_args([str(src), "--jsonl", str(jl), "--no-progress"])) == 0
        outputs.append(jl.read_text())
    assert outputs[0] == outputs[1]
    counts = [len(json.loads(line).get("faces", [])) for line in outputs[0].splitlines() if '"faces"' in line]
    assert counts[:15] == [1] * 15 and counts[15] == 2  # the search of frame 12, merged 3 frames later
    assert not detector_threads()


class TrackedTestDetector(FakeDetector):
    """A fake detector that takes ``tracked`` (as BlazeFace does) and records what it was told."""

    takes_tracked = True

    def __init__(self, pipeline) -> None:
        super().__init__(pipeline)
        self.told: list = []

    def detect(self, frame, tracked=None):
        found = super().detect(frame)
        self.told.append(None if tracked is None else [bool(tracked(d.box)) for d in found])
        return found


@pytest.mark.parametrize("mode", ["deterministic", "sync"])
def test_searches_tell_the_detector_which_boxes_are_tracked(mode):
    """A search made while faces are tracked says which detections lie on them (the detector
    then spends no second look there); the first search, with nothing tracked, says nothing."""
    pipe = FakePipeline()
    det = TrackedTestDetector(pipe)
    a, b = SceneFace(face_at(80, 120, 60)), SceneFace(face_at(240, 120, 60))
    with Tracker(pipeline=pipe, detector=det, detection=mode, detect_every=5, detect_lag=2) as tracker:
        for t in range(14):
            pipe.scene = [a] if t < 8 else [a, b]
            tracker.track(FRAME)
        assert tracker.num_tracks == 2
    assert det.told[0] is None
    assert [True] in det.told  # face A alone, tracked
    assert [True, False] in det.told  # A tracked, B new: B gets its look
