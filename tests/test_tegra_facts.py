"""Jetson facts from a fake file tree: the CUDA architecture without nvidia-smi, and the GPU's
devfreq node under the names JetPack 5 and JetPack 6 give it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from atpn_edge.cuda import tegra

RELEASES = {
    "jp6": "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025",
    "jp5": "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023",
}


def tree(tmp_path: Path, release: str | None, compatible: str | None, nodes: dict[str, str]) -> str:
    if release:
        (tmp_path / "etc").mkdir(parents=True, exist_ok=True)
        (tmp_path / "etc/nv_tegra_release").write_text(release + "\n")
    if compatible:
        (tmp_path / "proc/device-tree").mkdir(parents=True, exist_ok=True)
        (tmp_path / "proc/device-tree/compatible").write_bytes(compatible.encode())
    for name, compat in nodes.items():
        node = tmp_path / "sys/class/devfreq" / name
        (node / "device/of_node").mkdir(parents=True)
        (node / "device/of_node/compatible").write_text(compat)
        for k, v in (("cur", "612000000"), ("min", "306000000"), ("max", "1300500000")):
            (node / f"{k}_freq").write_text(v + "\n")
    return str(tmp_path)


@pytest.mark.parametrize("release, compatible, nodes, arch, node", [
    ("jp6", "nvidia,p3768-0000+p3767-0000\0nvidia,p3767-0000\0nvidia,tegra234\0", {"17000000.gpu": "nvidia,ga10b", "3d00000.pcie": "x"}, "87", "17000000.gpu"),
    ("jp5", "nvidia,p3737-0000+p3701-0000\0nvidia,tegra234\0", {"17000000.ga10b": "nvidia,ga10b"}, "87", "17000000.ga10b"),
    ("jp5", "nvidia,p2888-0001\0nvidia,tegra194\0", {"17000000.gv11b": "nvidia,gv11b"}, "72", "17000000.gv11b"),
    ("jp6", None, {"gpu-node-x": "nvidia,ga10b"}, "87", "gpu-node-x"),  # no device tree: the release tells
    (None, None, {}, None, None),
])
def test_arch_and_devfreq(tmp_path, release, compatible, nodes, arch, node):
    root = tree(tmp_path, RELEASES.get(release), compatible, nodes)
    assert tegra.cuda_arch(root) == arch
    found = tegra.gpu_devfreq(root)
    assert (found.name if found else None) == node
    clocks = tegra.gpu_clocks(root)
    if node:
        assert clocks["min_hz"] == 306000000 and clocks["pinned"] is False
    else:
        assert clocks is None


def test_runs_as_a_script_without_the_package():
    script = Path(tegra.__file__)
    r = subprocess.run([sys.executable, "-S", str(script), "arch"], capture_output=True, text=True)
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr
