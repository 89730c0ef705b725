"""Bar chart of per-stage time (N=1 and N=4, median with p90 whiskers) from a bench result;
matplotlib is imported only here, only when a chart is asked for."""
from __future__ import annotations

from pathlib import Path


def stage_chart(result: dict, path: str | Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--chart needs matplotlib: pip install 'atpn-edge[eval]'") from None
    names = list(result["stages"])
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
    width = 0.38
    for j, (key, label) in enumerate((("stages", "N=1"), ("stages_n4", "N=4"))):
        med = [result[key][n]["median_ms"] for n in names]
        p90 = [result[key][n]["p90_ms"] - result[key][n]["median_ms"] for n in names]
        xs = [i + (j - 0.5) * width for i in range(len(names))]
        ax.bar(xs, med, width, yerr=[[0] * len(names), p90], capsize=3, label=f"{label} (step {result['tracking_step_ms' if j == 0 else 'tracking_step_ms_n4']:.2f} ms)")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("ms (median, whisker = p90)")
    ax.set_title(f"atpn-edge pipeline stages: {result['backend']} {result.get('precision') or ''}, "
                 f"{result['threads']} thread(s), model {result['model']['version']}\n"
                 f"{result['machine']['cpu']}, {result['frame']}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
