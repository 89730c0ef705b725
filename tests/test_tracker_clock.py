"""A clock that jumps back (a camera restarted, NTP stepped the system time, a stream's timestamps
wrapped) must not freeze the faces: every later frame still follows the face, and a repeated
timestamp moves the face too. Fake network and detector."""
from __future__ import annotations

import numpy as np

from tracker_fakes import SceneFace, face_at, make_tracker

FRAME = np.zeros((240, 320, 3), np.uint8)


def walking(t: int) -> list[SceneFace]:
    return [SceneFace(face_at(60 + 4 * t, 120, 70))]  # 4 px a frame to the right


def box_x(faces) -> float:
    assert len(faces) == 1 and np.isfinite(faces[0].landmarks).all()
    return float(faces[0].box[0])


def test_a_clock_that_jumps_back_does_not_freeze_the_faces():
    tracker, pipe, det = make_tracker(noise_px=0.0, detect_every=0)
    stamps = [100 + t / 30 for t in range(10)] + [t / 30 for t in range(30)]  # the clock restarts at 0
    xs = []
    for t, ts in enumerate(stamps):
        pipe.scene = walking(t)
        xs.append(box_x(tracker.track(FRAME, timestamp=ts)))
    truth = [float(walking(t)[0].landmarks[:, 0].min()) for t in range(len(stamps))]
    after = range(10, len(stamps))
    assert all(xs[t] > xs[t - 1] for t in after), f"the face stopped moving after the clock jumped: {xs[9:16]}"
    assert abs(xs[-1] - truth[-1]) < 6, (xs[-1], truth[-1])  # it follows, not lags 30 frames behind
    tracker.close()


def test_repeated_timestamps_still_move_the_face():
    tracker, pipe, det = make_tracker(noise_px=0.0, detect_every=0)
    xs = []
    for t in range(20):
        pipe.scene = walking(t)
        xs.append(box_x(tracker.track(FRAME, timestamp=1.0 if t >= 5 else t / 30)))  # the clock stops
    assert all(b > a for a, b in zip(xs[5:], xs[6:])), xs
    tracker.close()
