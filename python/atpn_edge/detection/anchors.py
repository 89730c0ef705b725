"""SSD anchors of MediaPipe's BlazeFace models (its SsdAnchorsCalculator with fixed anchor size).

Each layer puts ``per_layer`` anchors on every cell of a ceil(input / stride) grid, centred on the
cell; consecutive layers with the same stride share one grid, their anchors interleaved per cell.
The model's outputs come in exactly this order, so anchor i decodes output row i.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnchorSpec:
    input_size: int
    strides: tuple[int, ...]  # one per layer, as in MediaPipe's options
    per_layer: int  # 2 with interpolated_scale_aspect_ratio 1.0, 1 without

    @property
    def count(self) -> int:
        return sum(math.ceil(self.input_size / s) ** 2 * self.per_layer for s in self.strides)


# MediaPipe face_detection_short_range / face_detection_full_range graph options.
SHORT_RANGE = AnchorSpec(input_size=128, strides=(8, 16, 16, 16), per_layer=2)  # 896 anchors
FULL_RANGE = AnchorSpec(input_size=192, strides=(4,), per_layer=1)  # 2304 anchors


def ssd_anchors(spec: AnchorSpec) -> np.ndarray:
    """[N, 2] anchor centres (x, y) in [0, 1] of the model input, in output order."""
    centres = []
    i = 0
    while i < len(spec.strides):
        stride, j = spec.strides[i], i
        while j < len(spec.strides) and spec.strides[j] == stride:
            j += 1
        n = math.ceil(spec.input_size / stride)
        ys, xs = np.mgrid[0:n, 0:n]
        cell = np.stack([(xs + 0.5) / n, (ys + 0.5) / n], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(cell, (j - i) * spec.per_layer, axis=1).reshape(-1, 2))
        i = j
    out = np.concatenate(centres).astype(np.float32)
    assert len(out) == spec.count
    return out
