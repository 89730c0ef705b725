"""Helpers shared by the tests (fixtures that use them live in conftest.py).

Random inputs: every test that draws them gets a fresh seed and prints it (pytest shows the print
when the test fails); ``ATPN_TEST_SEED=N`` fixes every seed to N to replay a failure. Module-level
generators derive from the session seed, which the test header shows.
"""
from __future__ import annotations

import os
import secrets
import time
import zlib
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED_ENV = "ATPN_TEST_SEED"


def _seed_from_env() -> int | None:
    text = os.environ.get(SEED_ENV, "").strip()
    if not text:
        return None
    try:
        return int(text, 0) & 0xFFFFFFFF
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be an integer, got {text!r}") from None


SESSION_SEED = _seed_from_env()
if SESSION_SEED is None:
    SESSION_SEED = secrets.randbits(32)


def fresh_seed() -> int:
    fixed = _seed_from_env()
    return fixed if fixed is not None else secrets.randbits(32)


def seeded_rng() -> tuple[np.random.Generator, int]:
    """A generator with a fresh (or ``ATPN_TEST_SEED``) seed; the seed is printed for replay."""
    seed = fresh_seed()
    print(f"random seed: {seed} (replay: {SEED_ENV}={seed})")
    return np.random.default_rng(seed), seed


def module_rng(name: str) -> np.random.Generator:
    """A module-level generator: the session seed mixed with the module's name."""
    return np.random.default_rng([SESSION_SEED, zlib.crc32(name.encode())])


def shared_data_dir() -> Path:
    """The read-only development data: ``<repo>/../shared/data`` or the folder ``ATPN_SHARED_DATA`` names."""
    return Path(os.environ.get("ATPN_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


class Planted:
    """An object whose unpickling would run code (it creates the file ``path``): put it in a
    file to check that a loader refuses the file without running anything."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def shipped_pipeline(max_faces: int = 8):
    """A CPU pipeline of the shipped model, 1 thread; the test skips when the model is missing."""
    import pytest

    from atpn_edge.runtime import create_pipeline
    from atpn_edge.runtime.models import default_model_dir

    try:
        default_model_dir()
    except FileNotFoundError as exc:
        pytest.skip(f"no trained model to track with: {exc}")
    return create_pipeline(backend="onnxruntime", threads=1, max_faces=max_faces)


# Test videos and scripted captures for the IO and CLI tests.
def write_video(path, n=20, size=(64, 48), fps=25.0, noise=False):
    """An mp4v test clip; ``noise``: random frames (big after encoding, to fill a disk quickly)."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    assert w.isOpened()
    rng = np.random.default_rng(0)
    for i in range(n):
        if noise:
            frame = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        else:
            frame = np.full((size[1], size[0], 3), 10 * i % 256, np.uint8)
        w.write(frame)
    w.release()
    return path


def count_frames(path):
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


class ScriptedCapture:
    """A capture that returns the given frames (None = a failed read), then fails forever."""

    def __init__(self, frames, delay=0.0):
        self.frames, self.delay, self.released = list(frames), delay, False

    def read(self):
        time.sleep(self.delay)
        if self.frames:
            f = self.frames.pop(0)
            return (f is not None), f
        return False, None

    def get(self, prop):
        return 0.0

    def release(self):
        self.released = True
