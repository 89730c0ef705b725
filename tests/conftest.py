"""Shared fixtures. ``shared_data``: the read-only development data (``<repo>/../shared/data``, or the
folder named by ATPN_SHARED_DATA); tests that use it skip when it is missing."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("ATPN_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root} (set ATPN_SHARED_DATA to its folder)")
    return root
