"""Shared fixtures (helpers they use: tests/helpers.py).

- ``shared_data``: the read-only development data (``<repo>/../shared/data``, or the folder named
  by ATPN_SHARED_DATA); tests that use it skip when it is missing.
- ``tiny_dir``: a tiny random ATPN model exported to ONNX (stage 1, stage 2, fused), built once per
  session with torch (skips without it). Read-only: tests copy it before changing anything.
- ``rng``: a numpy generator with a printed, replayable seed (ATPN_TEST_SEED=N replays).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import REPO_ROOT, SEED_ENV, SESSION_SEED, seeded_rng, shared_data_dir  # noqa: F401 (REPO_ROOT re-exported)


def pytest_report_header(config) -> str:
    return f"random seed of this session: {SESSION_SEED} (replay with {SEED_ENV}={SESSION_SEED})"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root} (set ATPN_SHARED_DATA to its folder)")
    return root


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    from runtime_tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def rng() -> np.random.Generator:
    return seeded_rng()[0]
