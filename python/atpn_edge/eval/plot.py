"""CED curve as a PNG (matplotlib, imported only here and only when a plot is asked for)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .metrics import auc, ced


def plot_ced(curves: dict[str, np.ndarray], path: str | Path, xlabel: str, threshold: float = 0.10) -> Path:
    """One CED line per label from per-face NMEs (fractions); x axis in percent up to ``threshold``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'atpn-edge[eval]' (or matplotlib)") from None
    path = Path(path)
    x = np.linspace(0.0, threshold, 501)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    for label, nme in curves.items():
        ax.plot(100 * x, ced(nme, x), label=f"{label} (AUC@{threshold:.2f} {auc(nme, threshold):.3f}, n={len(nme)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of faces")
    ax.set_xlim(0, 100 * threshold)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
