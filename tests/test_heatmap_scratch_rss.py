"""One huge heatmap must not leave its scratch memory behind: measured as the process's resident
memory (a fresh process, so nothing else moves it), not through the kernel's own counter."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import numpy as np
from atpn_edge import kernels

def rss_mib():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

lm = np.full((1, 4, 2), 0.5, np.float32)
kernels.render_heatmap(lm, 28, 28, 2.0)
warm = np.empty((1, 1, 2048, 2048), np.float32); warm.fill(0); del warm  # numpy's allocator met the size once
before = rss_mib()
del_me = kernels.render_heatmap(lm, 2048, 2048, 2.0); del del_me  # 16 MiB of output, more of scratch
kernels.render_heatmap(lm, 28, 28, 2.0)
print(rss_mib() - before)
"""


def test_a_huge_heatmap_leaves_no_resident_scratch():
    if not Path("/proc/self/statm").exists():
        pytest.skip("needs Linux /proc to read the resident memory")
    # The atpn_edge this test run imports (the installed package in CI), run from elsewhere so
    # that a source tree without the built module is never picked up instead.
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, cwd="/")
    assert r.returncode == 0, r.stderr
    kept = float(r.stdout.strip())
    assert kept < 4, f"{kept:.1f} MiB stayed resident after one 2048x2048 heatmap"
