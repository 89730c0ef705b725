"""The detector graph on ONNX Runtime's CPU provider, with the same session settings as the
landmark model (few threads, no spinning)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..runtime.onnxruntime_backend import session_options
from .base import DetectorUnavailable
from .runner import INPUT_NAME, OUTPUT_NAMES


def check_graph_io(path: Path, inputs: list[tuple[str, list]], outputs: list[tuple[str, list]]) -> tuple[int, int]:
    """(input size S, anchors N) after checking names and static shapes; raises ValueError naming the file."""
    names_in, names_out = [n for n, _ in inputs], [n for n, _ in outputs]
    if names_in != [INPUT_NAME] or sorted(names_out) != sorted(OUTPUT_NAMES):
        raise ValueError(f"{path}: not a BlazeFace detector graph (inputs {names_in}, outputs {names_out}; "
                         f"expected [{INPUT_NAME!r}] and {list(OUTPUT_NAMES)})")
    shape_in, shapes = inputs[0][1], dict(outputs)
    reg, cls = shapes["regressors"], shapes["classificators"]
    ok = (len(shape_in) == 4 and shape_in[1] == 3 and isinstance(shape_in[2], int) and shape_in[2] == shape_in[3]
          and len(reg) == 3 and reg[2] == 16 and len(cls) == 3 and cls[2] == 1 and isinstance(reg[1], int) and reg[1] == cls[1])
    if not ok:
        raise ValueError(f"{path}: unexpected detector shapes input {shape_in}, regressors {reg}, classificators {cls}")
    return int(shape_in[2]), int(reg[1])


class OnnxRuntimeRunner:
    backend = "onnxruntime"

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        if not path.is_file():
            raise DetectorUnavailable(f"detector model file not found: {path}")
        try:
            self._sess = ort.InferenceSession(str(path), sess_options=session_options(threads),
                                              providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own types for unreadable or invalid files
            raise ValueError(f"{path}: not a readable ONNX detector model ({str(exc).strip()[:200]})") from None
        self.input_size, self.num_anchors = check_graph_io(
            path, [(i.name, list(i.shape)) for i in self._sess.get_inputs()],
            [(o.name, list(o.shape)) for o in self._sess.get_outputs()])
        self.path = path

    def run(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reg, cls = self._sess.run(list(OUTPUT_NAMES), {INPUT_NAME: blob})
        return reg[0], cls[0, :, 0]
