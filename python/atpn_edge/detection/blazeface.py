"""MediaPipe's BlazeFace (short range), for users who have it: the .tflite that mediapipe 0.10.x
wheels (up to ~0.10.20) carry in mediapipe/modules/face_detection/, run with ai-edge-litert's
Interpreter (or tflite-runtime). Neither package is a dependency of atpn-edge.

The decoding follows MediaPipe's graph for this model: the frame is letterboxed to 128x128 RGB in
[-1, 1]; 896 SSD anchors (strides 8, 16, 16, 16; 2 anchors per cell at stride 8, 6 at stride 16;
fixed size 1, centred on the cells); box = anchor centre + regressor / 128; score = sigmoid of the
class logit; weighted non-maximum suppression at IoU 0.3.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from .base import BoxCalibration, Detection, DetectorUnavailable

INPUT = 128
# scripts/research/calibrate_detector.py --detector blazeface on /work/shared/data/300w (helen_train + afw):
# found all 1207 faces, 2.0 ms per image; medians (p10-p90: extent 0.89-1.06, shift 0.00-0.10).
CALIBRATION = BoxCalibration(extent_ratio=0.964, shift_y=0.061)


def ssd_anchors() -> np.ndarray:
    """[896, 2] anchor centres in [0, 1] (x, y), in the order the model emits them."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        n = INPUT // stride
        ys, xs = np.mgrid[0:n, 0:n]
        cell = np.stack([(xs + 0.5) / n, (ys + 0.5) / n], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(cell, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


def find_model() -> Path:
    spec = importlib.util.find_spec("mediapipe")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailable(
            "the blazeface detector needs MediaPipe's model file: pip install 'mediapipe>=0.10,<0.10.21' "
            "(only its .tflite is used; `--no-deps` avoids pulling opencv-contrib-python), "
            "or pass model_path=/path/to/face_detection_short_range.tflite"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "modules" / "face_detection" / "face_detection_short_range.tflite"
    if not path.is_file():
        raise DetectorUnavailable(
            f"this mediapipe install has no {path.name} (newer wheels dropped the bundled models); "
            "install mediapipe 0.10.14 (--no-deps is enough) or pass model_path=..."
        )
    return path


def _interpreter(path: Path, threads: int):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise DetectorUnavailable("the blazeface detector needs a TFLite runtime: pip install ai-edge-litert") from None
    it = Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    return it


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS on [N, 4] (x0, y0, x1, y1): overlapping boxes are averaged by score."""
    order = np.argsort(-scores)
    out = []
    while order.size:
        b = boxes[order]
        x0, y0 = np.maximum(b[0, 0], b[:, 0]), np.maximum(b[0, 1], b[:, 1])
        x1, y1 = np.minimum(b[0, 2], b[:, 2]), np.minimum(b[0, 3], b[:, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        group = inter / (area[0] + area - inter + 1e-9) > iou
        group[0] = True
        w = scores[order[group]]
        out.append(((b[group] * w[:, None]).sum(0) / w.sum(), float(scores[order[0]])))
        order = order[~group]
    return out


class BlazeFaceDetector:
    name = "blazeface"

    def __init__(self, model_path: "str | Path | None" = None, score_threshold: float = 0.5, nms_iou: float = 0.3,
                 threads: int = 1, calibration: BoxCalibration = CALIBRATION) -> None:
        path = Path(model_path) if model_path else find_model()
        if not path.is_file():
            raise DetectorUnavailable(f"BlazeFace model file not found: {path}")
        self._it = _interpreter(path, threads)
        self._in = self._it.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self._it.get_output_details()}
        self._reg, self._cls = outs.get("regressors"), outs.get("classificators")
        if self._reg is None or self._cls is None:
            raise DetectorUnavailable(f"{path} is not the BlazeFace short-range model (outputs {sorted(outs)})")
        self._anchors = ssd_anchors()
        self.score_threshold, self.nms_iou, self.calibration = score_threshold, nms_iou, calibration

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        import cv2

        h, w = frame_bgr.shape[:2]
        k = INPUT / max(h, w)
        nw, nh = max(1, round(w * k)), max(1, round(h * k))
        x0, y0 = (INPUT - nw) // 2, (INPUT - nh) // 2
        canvas = np.zeros((INPUT, INPUT, 3), np.float32)
        rgb = cv2.cvtColor(cv2.resize(frame_bgr, (nw, nh), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        canvas[y0:y0 + nh, x0:x0 + nw] = rgb.astype(np.float32) / 127.5 - 1.0  # padding is 0, MediaPipe's zero border
        self._it.set_tensor(self._in, canvas[None])
        self._it.invoke()
        reg = self._it.get_tensor(self._reg)[0]
        logits = np.clip(self._it.get_tensor(self._cls)[0, :, 0].astype(np.float64), -100, 100)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = scores >= self.score_threshold
        if not keep.any():
            return []
        centre = self._anchors[keep] + reg[keep, :2] / INPUT
        half = reg[keep, 2:4] / INPUT / 2
        boxes = np.concatenate([centre - half, centre + half], 1) * INPUT  # letterbox pixels
        found = []
        for (bx0, by0, bx1, by1), score in weighted_nms(boxes, scores[keep], self.nms_iou):
            # letterbox pixels -> frame pixels (pixel edges; the tracker's crop rule takes it from there)
            fx0, fy0 = (bx0 - x0) / k, (by0 - y0) / k
            found.append(Detection(box=(float(fx0), float(fy0), float((bx1 - bx0) / k), float((by1 - by0) / k)), score=score))
        return sorted(found, key=lambda d: -d.box[2] * d.box[3])
