"""Real `atpn-edge track` processes stopped by SIGTERM, SIGHUP, two signals, and kill -9: the
outputs are finished (or, after kill -9, readable up to about their last second)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import write_video
from test_track_outputs import decoded_frames

TESTS = Path(__file__).resolve().parent
FPS = 25


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("clip") / "long.mp4", n=400, size=(160, 120), fps=FPS, noise=True)


def start(clip: Path, out: Path, jl: Path) -> subprocess.Popen:
    """The CLI reading 50 frames a second (each read slowed by 20 ms): about 8 s for the whole clip."""
    return subprocess.Popen([sys.executable, str(TESTS / "slow_cli.py"), "track", str(clip), "-o", str(out),
                             "--jsonl", str(jl), "--json", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ATPN_TEST_READ_DELAY": "0.02"})


def wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_bytes().count(b"\n")
            if lines >= n:
                return lines
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {n} lines in {timeout} s")


@pytest.mark.parametrize("signals", [(signal.SIGTERM,), (signal.SIGHUP,), (signal.SIGTERM, signal.SIGTERM, signal.SIGHUP)],
                         ids=["SIGTERM", "SIGHUP", "three-signals"])
def test_a_stop_signal_finishes_the_outputs_and_prints_the_summary(tmp_path, long_clip, signals):
    out, jl = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    proc = start(long_clip, out, jl)
    wait_for_lines(jl, 20, proc)
    for sig in signals:
        proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    # signals pending together are handled in signal-number order, not arrival order: any may be first
    assert proc.returncode in {128 + s for s in signals}, stderr
    summary = json.loads(stdout.splitlines()[-1])
    assert summary["stopped_by"] == "interrupt" and summary["signal"] == signal.Signals(proc.returncode - 128).name
    records = jl.read_text().splitlines()[1:]
    assert [json.loads(x)["frame"] for x in records] == list(range(summary["frames"]))
    assert summary["frames"] < 400 and decoded_frames(out) == summary["frames"]  # finalised: every frame plays


def test_after_kill_9_the_video_plays_to_its_last_second_and_jsonl_loses_at_most_a_line(tmp_path, long_clip):
    out, jl = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    proc = start(long_clip, out, jl)
    wait_for_lines(jl, 100, proc)
    proc.kill()
    proc.communicate(timeout=30)
    raw = jl.read_text().split("\n")
    complete, tail = raw[:-1], raw[-1]  # tail: the line being written when the process died (or "")
    records = [json.loads(x) for x in complete[1:]]
    assert len(records) >= 99 and [r["frame"] for r in records] == list(range(len(records)))
    if tail:
        with pytest.raises(json.JSONDecodeError):
            json.loads(tail)
    frames = decoded_frames(out)
    assert len(records) - 2 * FPS <= frames <= len(records) + 1  # at most about two seconds lost
