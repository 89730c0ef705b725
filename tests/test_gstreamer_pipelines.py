"""GStreamer pipelines for real, with Debian's GStreamer-enabled OpenCV (``python3-opencv``, for
the system python, not the venv: pip's OpenCV has no GStreamer). Each check runs in a subprocess
of that python; skipped, with the reason, where it or its GStreamer is missing. The CSI camera
pipeline of docs/JETSON.md is run with ``videotestsrc`` in place of the camera elements
(``nvarguscamerasrc`` and ``nvvidconv`` exist only on a Jetson), so its tail (BGRx ->
videoconvert -> BGR -> appsink) and the package's GStreamer source are tested."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = os.environ.get("ATPN_GST_PYTHON", "/usr/bin/python3")
TEST_SOURCE = "videotestsrc num-buffers=20 ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert ! "


def run_system_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([SYSTEM_PYTHON, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def gst_python():
    if not Path(SYSTEM_PYTHON).is_file():
        pytest.skip(f"{SYSTEM_PYTHON} not found (set ATPN_GST_PYTHON to a python with GStreamer OpenCV)")
    probe = run_system_python(
        "import cv2; print([l for l in cv2.getBuildInformation().splitlines() if 'GStreamer:' in l])")
    if probe.returncode != 0:
        pytest.skip(f"{SYSTEM_PYTHON} has no cv2 (apt-get install python3-opencv): {probe.stderr.strip()[-200:]}")
    if "YES" not in probe.stdout:
        pytest.skip(f"{SYSTEM_PYTHON}'s OpenCV has no GStreamer: {probe.stdout.strip()}")
    return SYSTEM_PYTHON


def read_frames(pipeline: str) -> dict:
    code = f"""
import json
from atpn_edge.io.sources import open_capture, parse_source
spec = parse_source({pipeline!r})
cap = open_capture(spec)
shapes = []
while True:
    ok, frame = cap.read()
    if not ok:
        break
    shapes.append(list(frame.shape) + [str(frame.dtype)])
cap.release()
print(json.dumps({{"kind": spec.kind, "shapes": shapes}}))
"""
    r = run_system_python(code)
    if r.returncode != 0 and "no element" in r.stderr + r.stdout:
        pytest.skip(f"a GStreamer plugin is missing (gstreamer1.0-plugins-base/good): {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_documented_csi_pipeline_tail_delivers_bgr_frames(gst_python):
    docs = (REPO / "docs" / "JETSON.md").read_text()
    m = re.search(r"CSI='(nvarguscamerasrc[^']+)'", docs)
    assert m, "docs/JETSON.md must define the CSI pipeline as CSI='nvarguscamerasrc ...'"
    csi = m.group(1)
    assert "nvvidconv ! " in csi and csi.endswith("appsink drop=1 max-buffers=1")
    pipeline = TEST_SOURCE + csi.split("nvvidconv ! ", 1)[1]  # the camera and its converter replaced
    out = read_frames(pipeline)
    assert out["kind"] == "gstreamer"
    assert len(out["shapes"]) >= 1 and all(s == [240, 320, 3, "uint8"] for s in out["shapes"])


def test_a_broken_pipeline_is_a_clear_error(gst_python):
    code = """
from atpn_edge.io.sources import SourceError, open_capture, parse_source
try:
    open_capture(parse_source("videotestsrc ! no-such-element ! appsink"))
except SourceError as e:
    print("SourceError:", e)
"""
    r = run_system_python(code)
    assert r.returncode == 0 and "SourceError: could not open GStreamer pipeline" in r.stdout, r.stdout + r.stderr
