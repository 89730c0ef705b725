"""Real RTSP on 127.0.0.1: an unreachable stream gives up within --open-timeout, a stream that drops
is reopened (lost time counted, outputs kept), and credentials never show. The server is
tests/rtsp_server.py under the system python3 with Debian's GStreamer RTSP packages (.ci/run
installs them); without them these tests skip, saying why."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_track_outputs import decoded_frames

TESTS = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"
SECRET = "s3cret-pw"
PROBE = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
         "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
         "missing = [e for e in ('videotestsrc', 'x264enc', 'rtph264pay') if Gst.ElementFactory.find(e) is None]; "
         "print('missing GStreamer elements: ' + ', '.join(missing) if missing else 'ok')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def rtsp_server_ok() -> None:
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"no {SYSTEM_PYTHON} to run the GStreamer RTSP server")
    r = subprocess.run([SYSTEM_PYTHON, "-c", PROBE], capture_output=True, text=True, timeout=30)
    if r.returncode != 0 or r.stdout.strip() != "ok":
        why = (r.stdout.strip() or r.stderr.strip().splitlines()[-1:] or ["?"])
        pytest.skip(f"no GStreamer RTSP server (apt-get install gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 "
                    f"python3-gi gstreamer1.0-plugins-ugly): {why}")


def serve(port: int, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([SYSTEM_PYTHON, str(TESTS / "rtsp_server.py"), str(port), str(seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # bounded: the server prints "ready" or exits
    if line.strip() != "ready":
        proc.kill()
        pytest.skip(f"the RTSP server did not start: {line.strip() or proc.stderr.read()[-300:]}")
    return proc


def track(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atpn_edge", "track", *args, "--json", "--no-progress"],
                          capture_output=True, text=True, timeout=timeout)


def test_an_unreachable_stream_gives_up_within_the_open_timeout(tmp_path):
    with socket.socket() as silent:  # accepts connections and never answers: a hung camera
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"rtsp://admin:{SECRET}@127.0.0.1:{silent.getsockname()[1]}/live"
        t0 = time.monotonic()
        r = track(url, "--open-timeout", "1", "--jsonl", str(tmp_path / "x.jsonl"))
        elapsed = time.monotonic() - t0
    assert r.returncode == 2 and "could not open stream: rtsp://***@127.0.0.1" in r.stderr and "within 1 s" in r.stderr
    assert elapsed < 8, elapsed  # 1 s of open timeout plus the interpreter's start
    assert SECRET not in r.stdout + r.stderr and not (tmp_path / "x.jsonl").exists()


def test_a_stream_that_drops_is_reopened_and_every_output_kept(tmp_path, rtsp_server_ok):
    port = free_port()
    url = f"rtsp://viewer:{SECRET}@127.0.0.1:{port}/test"
    out, jl = tmp_path / "live.mp4", tmp_path / "live.jsonl"
    first = serve(port, 2.5)
    client = subprocess.Popen([sys.executable, "-m", "atpn_edge", "track", url, "-o", str(out), "--jsonl", str(jl),
                               "--json", "--no-progress", "--read-timeout", "2", "--open-timeout", "2",
                               "--reconnect", "2", "--reconnect-backoff", "0.2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first.wait(timeout=15)
        time.sleep(0.5)  # the camera is gone for a moment
        second = serve(port, 2.5)
        second.wait(timeout=15)
        stdout, stderr = client.communicate(timeout=40)  # after the second drop: 2 s of retries, then it gives up
    finally:
        for p in (client, first):
            if p.poll() is None:
                p.kill()
    assert client.returncode == 1, stderr
    assert SECRET not in stdout + stderr + jl.read_text()
    summary = json.loads(stdout.splitlines()[-1])
    assert summary["stopped_by"] == "error" and "could not be reopened within 2 s" in stderr
    assert summary["reconnects"] == 1 and summary["lost_s"] >= 0.5 and summary["source"] == f"rtsp://***@127.0.0.1:{port}/test"
    header, *records = [json.loads(x) for x in jl.read_text().splitlines()]
    assert header["source"] == summary["source"] and header["frame_size"] == [160, 120]
    stamps = [r["t"] for r in records]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(records) == summary["frames"] >= 20 and max(gaps) >= 0.5  # frames from both servers, a gap between
    assert decoded_frames(out) == len(records)  # the video survived both drops, closed properly
