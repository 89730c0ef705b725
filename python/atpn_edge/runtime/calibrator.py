"""INT8 calibration data for `atpn-edge build --precision int8 --calib DIR` (TensorRT 10's
IInt8EntropyCalibrator2) from a folder of face crops.

Stage 1 calibrates on the crops themselves (resized to the input size, normalised as the model
says). Stage 2's inputs are stage 1's features and the rendered heatmap, so they are computed on
the CPU with ONNX Runtime and the native heatmap kernel: the same tensors the engine will see.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.model_info import ModelInfo
from .models import ModelFiles

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def load_crops(folder: Path, info: ModelInfo, limit: int = 512) -> np.ndarray:
    """Face crops from ``folder`` as the network input, f32 [M, 3, S, S]."""
    import cv2

    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not paths:
        raise FileNotFoundError(f"no face crops ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    s = info.input_size
    mean, std = np.asarray(info.mean, np.float32), np.asarray(info.std, np.float32)
    out = np.empty((len(paths), 3, s, s), np.float32)
    for i, path in enumerate(paths):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"{path}: not a readable image")
        rgb = cv2.resize(bgr, (s, s), interpolation=cv2.INTER_AREA)[:, :, ::-1].astype(np.float32) / 255.0
        out[i] = ((rgb - mean) / std).transpose(2, 0, 1)
    return out


def calibration_inputs(kind: str, files: ModelFiles, info: ModelInfo, crops: np.ndarray) -> dict[str, np.ndarray]:
    """Input name -> f32 array [M, ...] for one graph."""
    if kind == "stage1":
        return {"image": crops}
    from .. import kernels
    from .onnxruntime_backend import open_session

    sess = open_session(files.stage1, "stage1")
    landmarks, features = sess.run(["landmarks", "features"], {"image": crops})
    heat = kernels.render_heatmap(np.ascontiguousarray(landmarks, np.float32), info.heatmap_size[0],
                                  info.heatmap_size[1], info.heatmap_sigma)
    return {"features": np.ascontiguousarray(features, np.float32), "heatmap": np.ascontiguousarray(heat, np.float32)}


def make_calibrator(trt, cuda, inputs: dict[str, np.ndarray], batch: int, cache_path: Path):
    """An IInt8EntropyCalibrator2 feeding ``inputs`` in batches from device buffers."""
    base = trt.IInt8EntropyCalibrator2

    class Calibrator(base):
        def __init__(self) -> None:
            base.__init__(self)
            self.count = min(len(a) for a in inputs.values())
            self.position = 0
            self.device = {n: cuda.malloc(a[:batch].nbytes) for n, a in inputs.items()}
            self.stream = cuda.stream_create()

        def get_batch_size(self) -> int:
            return batch

        def get_batch(self, names, p_str=None):
            if self.position + batch > self.count:
                return None  # tells TensorRT the data is exhausted
            for name in names:
                chunk = np.ascontiguousarray(inputs[name][self.position:self.position + batch])
                cuda.htod_async(self.device[name], chunk.ctypes.data, chunk.nbytes, self.stream)
                cuda.synchronize(self.stream)
            self.position += batch
            return [self.device[name] for name in names]

        def read_calibration_cache(self):
            return cache_path.read_bytes() if cache_path.is_file() else None

        def write_calibration_cache(self, cache) -> None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache_path.write_bytes(bytes(cache))

    if min(len(a) for a in inputs.values()) < batch:
        raise ValueError(f"calibration needs at least {batch} crops, got {min(len(a) for a in inputs.values())}")
    return Calibrator()
