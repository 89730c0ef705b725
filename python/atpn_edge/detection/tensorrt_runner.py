"""The detector graph as a TensorRT engine (runtime/trt_runner.py: built once per device into the
engine cache, same rules as the landmark engines), behind the runner interface of runner.py."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import DetectorUnavailable
from .onnxruntime_runner import check_graph_io
from .runner import INPUT_NAME, OUTPUT_NAMES


class TensorRTDetectorRunner:
    backend = "tensorrt"

    def __init__(self, path: Path, **options) -> None:
        """``options`` go to `TensorRTRunner` (precision, cache_dir, workspace_mb, force, log,
        trt, cuda)."""
        from ..runtime.trt_runner import TensorRTRunner

        path = Path(path)
        if not path.is_file():
            raise DetectorUnavailable(f"detector model file not found: {path}")
        self._graph = TensorRTRunner(path, name=f"detector-{path.stem}", **options)
        shapes = self._graph.shapes
        self.input_size, self.num_anchors = check_graph_io(
            path, [(n, list(shapes[n])) for n in self._graph.inputs], [(n, list(shapes[n])) for n in self._graph.outputs])
        self.path = path

    def run(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self._graph.run({INPUT_NAME: blob})
        return out[OUTPUT_NAMES[0]][0], out[OUTPUT_NAMES[1]][0, :, 0]

    def close(self) -> None:
        self._graph.close()
