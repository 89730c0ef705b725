"""OpenCV's Haar cascade: the default detector because opencv-python-headless 4.x ships it, so
tracking works offline on a fresh install. It runs on a downscaled grey frame; it is slow
(~40 ms at 400 px) but the tracker calls it rarely.

Measured with scripts/research/calibrate_detector.py (BENCHMARKS.md, "Tracking"): on the shared videos
(every 3rd frame, one face each) alt2 gave exactly one box on 99.1 % of frames and extra boxes
on 0.5 % (frontalface_default: 97.7 % and 1.6 %) and ran 39 vs 50 ms per 300W image;
frontalface_default finds more of the hard 300W stills (recall 89.8 vs 85.8 %). alt2 is the
default. The calibration is the median over the 300W faces each cascade found (HELEN + AFW)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import BoxCalibration, Detection, DetectorUnavailable, downscale_grey

CASCADES = {
    "alt2": "haarcascade_frontalface_alt2.xml",
    "default": "haarcascade_frontalface_default.xml",
}
# scripts/research/calibrate_detector.py on ../shared/data/300w (helen_train + afw), one row per cascade.
CALIBRATION = {
    "alt2": BoxCalibration(extent_ratio=0.885, shift_y=0.153),  # p10-p90: 0.80-1.01, 0.10-0.20
    "default": BoxCalibration(extent_ratio=0.870, shift_y=0.149),  # p10-p90: 0.78-1.00, 0.10-0.20
}


def cascade_path(cascade: str) -> Path:
    import cv2

    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        raise DetectorUnavailable(
            f"OpenCV {cv2.__version__} has no Haar cascades (OpenCV 5 dropped them): "
            "pip install 'opencv-python-headless<5', or choose --detector yunet/blazeface"
        )
    if cascade not in CASCADES:
        raise ValueError(f"unknown Haar cascade {cascade!r}; choose one of {sorted(CASCADES)}")
    path = Path(cv2.data.haarcascades) / CASCADES[cascade]
    if not path.is_file():
        raise DetectorUnavailable(f"Haar cascade file missing from the OpenCV install: {path}")
    return path


class HaarDetector:
    name = "haar"

    def __init__(self, cascade: str = "alt2", max_side: int = 400, min_face: float = 0.08,
                 min_neighbors: int = 4, scale_factor: float = 1.1) -> None:
        """``max_side``: longest side of the grey image the cascade sees; ``min_face``: smallest
        face side as a fraction of that image's shorter side."""
        import cv2

        path = cascade_path(cascade)
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise DetectorUnavailable(f"OpenCV could not load the Haar cascade {path}")
        self.cascade = cascade
        self.calibration = CALIBRATION[cascade]
        self.max_side, self.min_face = max_side, min_face
        self.min_neighbors, self.scale_factor = min_neighbors, scale_factor

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        import cv2

        grey, factor = downscale_grey(frame_bgr, self.max_side)
        grey = cv2.equalizeHist(grey)  # the cascades were trained on equalised faces
        min_px = max(20, int(self.min_face * min(grey.shape[:2])))
        boxes, neighbours = self._cascade.detectMultiScale2(
            grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(min_px, min_px)
        )
        found = [
            Detection(box=tuple(float(v) * factor for v in b), score=float(n))
            for b, n in zip(np.asarray(boxes).reshape(-1, 4), np.asarray(neighbours).reshape(-1))
        ]
        return sorted(found, key=lambda d: -d.box[2] * d.box[3])
