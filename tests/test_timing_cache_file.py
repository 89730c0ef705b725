"""The TensorRT timing cache lives in the shared engine-cache folder and is written like the
engines: a unique temporary file there, then an atomic rename, with mode 0666 & ~umask. A link
planted at its name is replaced, never written through. Fake TensorRT, tiny model."""
from __future__ import annotations

import os

import pytest

from atpn_edge.runtime.engine_build import BuildSettings, build_engine_bytes


@pytest.fixture
def tiny_stage1(tmp_path):
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    from runtime_tiny_model import make_tiny_model

    return make_tiny_model(tmp_path / "tiny") / "stage1.onnx"


def test_the_timing_cache_is_written_atomically_and_not_through_a_planted_link(tmp_path, tiny_stage1):
    from fakes import tensorrt as fake_trt

    cache = tmp_path / "cache"
    cache.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    timing = cache / "timing.cache"
    timing.symlink_to(victim)  # planted by another user of the folder
    old = os.umask(0o002)
    try:
        build_engine_bytes(fake_trt, tiny_stage1, "stage1", BuildSettings(max_batch=4, timing_cache=timing),
                           log=lambda m: None)
    finally:
        os.umask(old)
    assert victim.read_text() == "keep me"
    assert timing.is_file() and not timing.is_symlink() and timing.stat().st_size > 0
    assert timing.stat().st_mode & 0o777 == 0o664
    assert sorted(p.name for p in cache.iterdir()) == ["timing.cache"]  # no temporary file left behind
