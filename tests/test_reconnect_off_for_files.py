"""Reconnecting is for network streams: a file that ends, or breaks off mid-way (an interrupted
download), ends the run at once even with --reconnect set, and the summary counts no reconnect."""
from __future__ import annotations

import json
import time

import pytest

from atpn_edge.cli import main
from helpers import write_video
from test_track_cli import fake  # noqa: F401 (fixture)


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "broken-off"])
def test_a_file_never_reconnects(tmp_path, fake, capsys, cut):
    good = write_video(tmp_path / "clip.avi", n=40, noise=True)
    src = good
    if cut:
        src = tmp_path / "cut.avi"
        src.write_bytes(good.read_bytes()[: good.stat().st_size * 7 // 10])
    t0 = time.monotonic()
    rc = main(["track", str(src), "--reconnect", "20", "--reconnect-backoff", "0.5", "--json", "--no-progress"])
    elapsed = time.monotonic() - t0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert rc == 0 and summary["stopped_by"] == "end" and summary["reconnects"] == 0 and summary["lost_s"] == 0
    assert (summary["frames"] < 40) == cut and summary.get("ended_early", False) == cut
    assert elapsed < 10, f"a file waited {elapsed:.1f} s as if reconnecting"
