"""The engine cache in a folder that several processes (or users) share: unique temp files and
atomic renames, one build for two processes, the hash checked on the bytes that are loaded,
broken sidecars rebuilt, an unwritable folder reported before the build, stated file modes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from atpn_edge.runtime import engine_cache
from atpn_edge.runtime.engine_cache import EngineCacheError, EngineKey, get_or_build, sidecar_path

KEY = EngineKey("stage1", "ab" * 32, "10.3.0", "Orin", "8.7", 16, 61, "fp16", 8)


def quiet(msg: str) -> None:
    pass


def test_two_processes_build_the_same_engine_once(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from atpn_edge.runtime.engine_cache import EngineKey, get_or_build
        key = EngineKey(**{KEY.__dict__!r})
        def build():
            with open({str(tmp_path / "builds.txt")!r}, "a") as f:
                f.write("built\\n")
            time.sleep(1.0)  # a slow build: the other process must wait, not build too
            return b"ENGINE-BYTES"
        data = get_or_build(Path({str(tmp_path / "cache" / KEY.filename())!r}), key, build, print)
        sys.stdout.write("RESULT " + data.decode() + "\\n")
    """)
    # The atpn_edge this test run imports (the installed package in CI), not the source tree.
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd="/") for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert (tmp_path / "builds.txt").read_text().count("built") == 1
    assert all("RESULT ENGINE-BYTES" in o for o, _ in outs)
    assert any("built meanwhile by another process" in o for o, _ in outs), outs


def test_planted_symlinks_are_not_followed(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    engine = cache / KEY.filename()
    # The old fixed temporary names: a user who can write the folder plants links there.
    for name in (engine.name + ".tmp", sidecar_path(engine).name + ".tmp"):
        (cache / name).symlink_to(victim)
    get_or_build(engine, KEY, lambda: b"ENGINE", quiet)
    assert victim.read_text() == "keep me"
    assert engine.read_bytes() == b"ENGINE" and not engine.is_symlink()
    assert not list(cache.glob(".*.tmp"))  # the unique temporary files are gone

    other = cache / "other.engine"
    (cache / (other.name + ".lock")).symlink_to(victim)
    with pytest.raises(EngineCacheError, match="not a symlink"):
        get_or_build(other, KEY, lambda: b"X", quiet)
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("sidecar", [b"{not json", b"[1, 2, 3]", b"\xff\xfe\x00bad utf-8", b"", b"null"])
def test_corrupt_or_foreign_sidecar_means_rebuild(tmp_path, sidecar):
    engine = tmp_path / KEY.filename()
    get_or_build(engine, KEY, lambda: b"OLD", quiet)
    sidecar_path(engine).write_bytes(sidecar)
    log = []
    assert get_or_build(engine, KEY, lambda: b"NEW", log.append) == b"NEW"
    assert any("building" in m for m in log)
    assert json.loads(sidecar_path(engine).read_text())["graph"] == "stage1"


def test_unwritable_cache_folder_is_reported_before_the_build(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    def build():
        raise AssertionError("the build must not start")

    with pytest.raises(EngineCacheError, match="not writable.*--cache-dir"):
        get_or_build(blocker / "engines" / KEY.filename(), KEY, build, quiet)
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        with pytest.raises(EngineCacheError, match="not writable"):
            get_or_build(ro / KEY.filename(), KEY, build, quiet)


def test_a_valid_read_only_cache_loads_without_writing(tmp_path, monkeypatch):
    engine = tmp_path / KEY.filename()
    get_or_build(engine, KEY, lambda: b"ENGINE", quiet)
    monkeypatch.setattr(engine_cache, "ensure_writable", lambda folder: (_ for _ in ()).throw(AssertionError))
    assert get_or_build(engine, KEY, lambda: b"NEW", quiet) == b"ENGINE"


def test_files_are_written_with_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        engine = tmp_path / KEY.filename()
        get_or_build(engine, KEY, lambda: b"ENGINE", quiet)
        assert engine.stat().st_mode & 0o777 == 0o644
        assert sidecar_path(engine).stat().st_mode & 0o777 == 0o644
        os.umask(0o002)  # a group-shared folder
        get_or_build(engine, KEY, lambda: b"ENGINE2", quiet, force=True)
        assert engine.stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


def test_the_hash_is_checked_on_the_bytes_that_are_deserialised(tmp_path, monkeypatch):
    """Another process replacing the engine between the check and the load changes nothing."""
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    from fakes import tensorrt as fake_trt
    from fakes.cuda import FakeCuda, FakeDeviceKernels
    from runtime_tiny_model import make_tiny_model

    from atpn_edge.runtime import engines
    from atpn_edge.runtime.models import load_info, resolve_model
    from atpn_edge.runtime.tensorrt_backend import TensorRTPipeline

    tiny = make_tiny_model(tmp_path / "tiny")
    real = engines.get_or_build

    def then_swapped(path, *args, **kw):
        data = real(path, *args, **kw)
        path.write_bytes(b"garbage written by someone else")
        return data

    monkeypatch.setattr(engines, "get_or_build", then_swapped)
    files = resolve_model(tiny)
    pipe = TensorRTPipeline(files, load_info(files), max_faces=2, cache_dir=tmp_path / "cache", log=quiet,
                            trt=fake_trt, cuda=FakeCuda(), device_kernels=FakeDeviceKernels())
    assert set(pipe._engines) == {"stage1", "stage2"}
