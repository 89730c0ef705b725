"""Jetson facts read from the file system (standard library only, so scripts/gpu_check.sh can run
this file before the package is built): the L4T release, the GPU's CUDA architecture (JetPack's
nvidia-smi cannot report it), and the GPU's devfreq node (its clocks, for benchmark reports).

``root`` lets tests point at a fake file tree.
    python python/atpn_edge/cuda/tegra.py arch      -> 87 (nothing, exit 1, off a Jetson)
    python python/atpn_edge/cuda/tegra.py devfreq   -> /sys/class/devfreq/17000000.gpu
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

# SoC (device-tree "compatible") -> CUDA architecture: Xavier, Orin, Thor.
ARCH_BY_SOC = {"tegra194": "72", "tegra234": "87", "tegra264": "110"}
# L4T major -> architecture where the release alone tells: r36 (JetPack 6) is Orin only, r38
# (JetPack 7) Thor (and Orin from 7.2 on, whose device tree says tegra234 first). r35 (JetPack 5)
# runs on Xavier and Orin, so it needs the device tree.
ARCH_BY_L4T = {36: "87", 38: "110"}
# nvgpu names its devfreq node after the GPU: "17000000.gpu" (JetPack 6), "17000000.ga10b"
# (JetPack 5 on Orin), "17000000.gv11b" (Xavier).
_GPU_NODE = re.compile(r"(^|[.\-_])(gpu|g[a-z]\d+b)$")


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return None


def l4t_release(root: str = "/") -> Optional[str]:
    """First line of /etc/nv_tegra_release, e.g. '# R36 (release), REVISION: 4.3, ...'."""
    text = _read(Path(root, "etc/nv_tegra_release"))
    return text.splitlines()[0] if text else None


def l4t_major(release: Optional[str]) -> Optional[int]:
    m = re.search(r"R(\d+)", release or "")
    return int(m.group(1)) if m else None


def soc(root: str = "/") -> Optional[str]:
    """'tegra234' and the like, from the device tree's compatible list."""
    raw = _read(Path(root, "proc/device-tree/compatible"))
    for entry in (raw or "").replace("\0", ",").split(","):
        m = re.search(r"(tegra\d+)", entry)
        if m:
            return m.group(1)
    return None


def cuda_arch(root: str = "/") -> Optional[str]:
    """The CUDA architecture of this Jetson's GPU ('87' on Orin), or None off a Jetson."""
    chip = soc(root)
    if chip in ARCH_BY_SOC:
        return ARCH_BY_SOC[chip]
    return ARCH_BY_L4T.get(l4t_major(l4t_release(root)))


def gpu_devfreq(root: str = "/") -> Optional[Path]:
    """The devfreq node of the integrated GPU (JetPack 5 and 6 name it differently)."""
    base = Path(root, "sys/class/devfreq")
    try:
        nodes = sorted(base.iterdir())
    except OSError:
        return None
    for node in nodes:
        if _GPU_NODE.search(node.name):
            return node
    for node in nodes:  # other names: ask the device tree what the device is
        compat = _read(node / "device" / "of_node" / "compatible") or ""
        if re.search(r"nvidia,(g[a-z]\d+b|gpu)", compat):
            return node
    return None


def gpu_clocks(root: str = "/") -> Optional[dict]:
    """Current/min/max GPU clock in Hz and whether it is pinned (jetson_clocks sets min = max)."""
    node = gpu_devfreq(root)
    if node is None:
        return None
    values = {k: _read(node / f"{k}_freq") for k in ("cur", "min", "max")}
    freqs = {k: int(v) for k, v in values.items() if v and v.isdigit()}
    pinned = freqs["min"] == freqs["max"] if "min" in freqs and "max" in freqs else None
    return {"node": str(node), **{f"{k}_hz": v for k, v in freqs.items()}, "pinned": pinned}


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "arch"
    found = cuda_arch() if what == "arch" else gpu_devfreq() if what == "devfreq" else None
    if found is None:
        sys.exit(1)
    print(found)
