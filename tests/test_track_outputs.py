"""`atpn-edge track` outputs: never over the input, and a write error is a failure that keeps what
was written. Real CLI processes where the operating system is the point (a file size limit, /dev/full)."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from atpn_edge.cli import main
from helpers import write_video
from test_track_cli import fake, parse  # noqa: F401 (fixture)

TESTS = Path(__file__).resolve().parent


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decoded_frames(path: Path) -> int:
    n = 0
    try:
        with av.open(str(path)) as c:
            for _ in c.decode(video=0):
                n += 1
    except av.FFmpegError:
        pass  # a partial last fragment: count what decoded before it
    return n


def cli(*args: str, env: dict | None = None, limit_bytes: int | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    def limit() -> None:  # runs in the child: files may grow to limit_bytes, then writes fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, str(TESTS / "slow_cli.py"), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, preexec_fn=limit if limit_bytes else None)


@pytest.fixture
def clip(tmp_path):
    return write_video(tmp_path / "clip.mp4", n=12)


@pytest.mark.parametrize("how", ["output", "jsonl", "relative", "symlink", "hardlink"])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, clip, capsys, monkeypatch, how):
    before = digest(clip)
    target = {"output": clip, "jsonl": clip, "relative": Path("sub/../clip.mp4"),
              "symlink": tmp_path / "link.mp4", "hardlink": tmp_path / "hard.mp4"}[how]
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    if how == "symlink":
        target.symlink_to(clip)
    if how == "hardlink":
        os.link(clip, target)
    option = "--jsonl" if how == "jsonl" else "--output"
    rc = main(["track", str(clip), option, str(target), "--no-progress"])
    assert rc == 2 and "refusing to overwrite the input" in capsys.readouterr().err
    assert digest(clip) == before


def test_two_outputs_on_one_file_are_refused_before_anything_is_opened(tmp_path, clip, capsys):
    out = tmp_path / "both.mp4"
    rc = main(["track", str(clip), "--output", str(out), "--jsonl", str(out), "--no-progress"])
    assert rc == 2 and "name the same file" in capsys.readouterr().err
    assert not out.exists()
    from atpn_edge.io.outputs import OutputCollision, check_outputs

    with pytest.raises(OutputCollision):
        check_outputs(None, {"--output": tmp_path / "a.mp4", "--jsonl": tmp_path / "x" / ".." / "a.mp4"})
    check_outputs(clip, {"--output": tmp_path / "out.mp4", "--jsonl": "-"})  # distinct files and stdout: fine


def test_a_full_video_disk_fails_the_run_and_keeps_the_video_written_so_far(tmp_path):
    src = write_video(tmp_path / "noise.mp4", n=120, size=(160, 120), noise=True)
    out, jl = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    r = cli("track", str(src), "-o", str(out), "--jsonl", str(jl), "--json", "--no-progress", limit_bytes=400_000)
    assert r.returncode == 1, r.stderr
    summary = json.loads(r.stdout.splitlines()[-1])
    assert summary["stopped_by"] == "write_error" and str(out) in r.stderr and "File too large" in r.stderr
    frames = decoded_frames(out)
    assert 10 < frames < 120  # the fragments written before the limit still play
    records = [json.loads(x) for x in jl.read_text().splitlines()][1:]
    assert len(records) == summary["frames"] and len(records) >= frames


def test_jsonl_on_a_full_device_fails_naming_it(tmp_path, clip):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    r = cli("track", str(clip), "--jsonl", "/dev/full", "--json", "--no-progress")
    assert r.returncode == 1 and "/dev/full" in r.stderr and "No space left on device" in r.stderr
    assert json.loads(r.stdout.splitlines()[-1])["stopped_by"] == "write_error"


def test_a_jsonl_write_error_mid_run_keeps_the_lines_before(tmp_path, fake, capsys, monkeypatch):
    from atpn_edge.io import jsonl as jsonl_module

    src = write_video(tmp_path / "in.mp4", n=30)
    jl, out = tmp_path / "r.jsonl", tmp_path / "r.mp4"
    real_open = open

    class FillsUp:  # a file on a disk that is full after 8 kB
        def __init__(self, path, *a, **k):
            self._f, self.written = real_open(path, *a, **k), 0

        def write(self, text):
            if self.written + len(text) > 8000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.written += len(text)
            return self._f.write(text)

        def __getattr__(self, name):
            return getattr(self._f, name)

    monkeypatch.setattr(jsonl_module, "open", FillsUp, raising=False)
    rc = main(["track", str(src), "--jsonl", str(jl), "-o", str(out), "--json", "--no-progress"])
    cap = capsys.readouterr()
    assert rc == 1 and f"writing the JSON lines {jl} failed: No space left on device" in cap.err
    summary = json.loads(cap.out.splitlines()[-1])
    assert summary["stopped_by"] == "write_error" and 0 < summary["frames"] < 30
    lines = [json.loads(x) for x in jl.read_text().splitlines()]
    assert lines[0]["format"] == "atpn-edge-jsonl" and len(lines) >= 3
    # the frame whose line failed is the last one tracked; the video, closed properly, has every frame before it
    assert len(lines) - 1 == summary["frames"] - 1 == decoded_frames(out)


def test_video_sink_write_errors_name_the_file(tmp_path):
    from atpn_edge.io.video_writer import VideoSink, WriteError

    sink = VideoSink(tmp_path / "x.mp4")
    sink.path = Path("/dev/full") if os.path.exists("/dev/full") else tmp_path / "gone" / "x.mp4"
    with pytest.raises(WriteError, match=str(sink.path)):
        sink.write(np.zeros((48, 64, 3), np.uint8))
