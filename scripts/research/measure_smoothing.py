"""Jitter and lag of the landmark smoothing on a synthetic face (30 fps, face size 1 in any unit).

Measured: the default One Euro setting (min_cutoff 0.5 Hz, beta 5) cuts flicker 3.3x at rest and
lags 0.25 frames in fast motion (BENCHMARKS.md, Smoothing).

The face (68 random points in a unit box) gets i.i.d. Gaussian noise of ``--noise`` face sizes per
point and frame, the network's flicker. Measured, in face sizes and frames:
- jitter: RMS of (output - truth) over 90 frames at rest (the raw input's is the noise itself);
- lag at speed v: mean (truth - output) along the motion / v, over a constant-velocity segment, at
  a slow (1 % of the face size per frame) and a fast (10 %/frame: a quick head move) speed;
- step: frames until the output covers 90 % of a sudden jump of one face size.
Scale does not matter (the filter normalises by face size): --size only checks that.

    python scripts/research/measure_smoothing.py [--grid] [--json]
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from atpn_edge.tracking.smoothing import FaceSmoother, SmoothingConfig


def measure(cfg: SmoothingConfig, noise: float = 0.01, size: float = 100.0, fps: float = 30.0, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    shape = rng.uniform(0, 1, (68, 2)) * size
    shape[:2] = [[0, 0], [size, size]]  # extent exactly `size`

    def run(track: np.ndarray) -> np.ndarray:
        sm = FaceSmoother(cfg)
        out = []
        for i, offset in enumerate(track):
            noisy = shape + offset + rng.normal(0, noise * size, shape.shape)
            out.append(sm(noisy, np.zeros(3), i / fps)[0] - shape)
        return np.array(out)

    rest = run(np.zeros((120, 2)))[30:]
    jitter = float(np.sqrt(np.mean(rest ** 2))) / size
    res = {"jitter": round(jitter, 5), "jitter_raw": noise}
    for name, v in (("lag_slow", 0.01), ("lag_fast", 0.10)):
        n = 60
        truth = np.zeros((n + 30, 2))
        truth[30:, 0] = np.arange(n) * v * size
        err = truth[45:, 0][:, None] - run(truth)[45:, :, 0]
        res[name] = round(float(err.mean()) / (v * size), 2)
    truth = np.zeros((60, 2))
    truth[30:, 0] = size
    moved = run(truth)[30:, :, 0].mean(axis=1) / size
    res["step90"] = int(np.argmax(moved >= 0.9)) if (moved >= 0.9).any() else -1
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--size", type=float, default=100.0)
    ap.add_argument("--grid", action="store_true", help="also try a grid of min_cutoff x beta")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [("default", SmoothingConfig())]
    if args.grid:
        rows += [(f"mc={mc} b={b}", SmoothingConfig(min_cutoff=mc, beta=b)) for mc in (0.3, 0.5, 1.0, 2.0) for b in (1.0, 3.0, 5.0, 10.0, 20.0)]
    results = []
    print(f"{'setting':<18} {'jitter':>8} {'raw':>6} {'lag slow':>9} {'lag fast':>9} {'step90':>7}")
    for name, cfg in rows:
        r = measure(cfg, args.noise, args.size)
        results.append({"setting": name, **r})
        print(f"{name:<18} {r['jitter']:8.4f} {r['jitter_raw']:6.3f} {r['lag_slow']:9.2f} {r['lag_fast']:9.2f} {r['step90']:7d}")
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
