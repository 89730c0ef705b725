"""A few thousand frames of faces coming, going, crossing and changing size: memory stays flat."""
from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from tracker_fakes import SceneFace, face_at, make_tracker


def scene(t: int) -> list[SceneFace]:
    faces = []
    if t % 400 < 330:  # leaves the picture for a while every 400 frames
        a = t / 25.0
        faces.append(SceneFace(face_at(160 + 60 * np.cos(a), 120 + 40 * np.sin(a), 60 + 10 * np.sin(a / 3))))
    if t % 700 > 200:  # a second face walks across
        faces.append(SceneFace(face_at(20 + (t % 700 - 200) * 0.6, 100, 50)))
    return faces


def test_thousands_of_frames_do_not_grow_memory():
    tracker, pipe, det = make_tracker(detect_every=30, noise_px=1.0)
    frames = [np.zeros((240, 320, 3), np.uint8), np.zeros((200, 300), np.uint8)]

    def step(t):
        pipe.scene = scene(t)
        return tracker.track(frames[(t // 1000) % 2])  # a size (and colour) change every 1000 frames

    tracemalloc.start()
    try:
        for t in range(300):  # warm-up: caches, first allocations
            step(t)
        gc.collect()  # numpy's linalg leaves short reference cycles; count only what stays reachable
        base = tracemalloc.get_traced_memory()[0]
        for t in range(300, 3300):
            step(t)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert tracker.stats.frames == 3300 and tracker.stats.size_resets >= 2
    assert tracker.stats.tracks_started + tracker.stats.tracks_resumed > 5  # the scene really churned
    assert grown < 32 * 1024, f"memory grew by {grown} bytes over 3000 frames"
