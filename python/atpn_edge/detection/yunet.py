"""OpenCV's YuNet face detector (cv2.FaceDetectorYN), for users who have its ONNX file
(face_detection_yunet_2023mar.onnx from the OpenCV model zoo; no pip package ships it).

Its box calibration could not be measured here (the model file is not available offline), so it
starts from the identity; measure it for your file with
``python scripts/research/calibrate_detector.py --detector yunet:/path/to/model.onnx`` and pass
``calibration=BoxCalibration(...)`` (or edit DEFAULT_CALIBRATION once measured)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import BoxCalibration, Detection, DetectorUnavailable

DEFAULT_CALIBRATION = BoxCalibration(extent_ratio=1.0, shift_y=0.0)  # not measured: see the module doc


class YuNetDetector:
    name = "yunet"

    def __init__(self, model_path: "str | Path | None" = None, score_threshold: float = 0.7, nms_threshold: float = 0.3,
                 max_side: int = 640, calibration: BoxCalibration = DEFAULT_CALIBRATION) -> None:
        import cv2

        if not hasattr(cv2, "FaceDetectorYN"):
            raise DetectorUnavailable(f"OpenCV {cv2.__version__} has no FaceDetectorYN (needs OpenCV >= 4.5.4)")
        if model_path is None:
            raise DetectorUnavailable(
                "the yunet detector needs its model file: --detector yunet:/path/to/face_detection_yunet_2023mar.onnx "
                "(download it from the OpenCV model zoo, github.com/opencv/opencv_zoo, models/face_detection_yunet)"
            )
        path = Path(model_path)
        if not path.is_file():
            raise DetectorUnavailable(f"YuNet model file not found: {path}")
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, nms_threshold, 50)
        except cv2.error as exc:
            raise DetectorUnavailable(f"OpenCV could not load the YuNet model {path}: {exc}") from None
        self.max_side, self.calibration = max_side, calibration
        self._size: tuple[int, int] | None = None

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        import cv2

        h, w = frame_bgr.shape[:2]
        factor = max(h, w) / self.max_side if max(h, w) > self.max_side else 1.0
        image = cv2.resize(frame_bgr, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA) if factor > 1 else frame_bgr
        size = (image.shape[1], image.shape[0])
        if size != self._size:
            self._net.setInputSize(size)
            self._size = size
        _, faces = self._net.detect(image)
        if faces is None:
            return []
        found = [Detection(box=tuple(float(v) * factor for v in f[:4]), score=float(f[-1])) for f in faces]
        return sorted(found, key=lambda d: -d.box[2] * d.box[3])
