"""INT8 calibration data for `atpn-edge build --precision int8 --calib DIR` (TensorRT 10's
IInt8EntropyCalibrator2) from a folder of face crops.

Stage 1 calibrates on the crops themselves (resized to the input size, normalised as the model
says). Stage 2's inputs are stage 1's features and the rendered heatmap, so they are computed on
the CPU with ONNX Runtime and the native heatmap kernel: the same tensors the engine will see.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..core.model_info import ModelInfo
from .engine_cache import atomic_write
from .models import ModelFiles

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
CALIB_BATCH = 8


def _crop_paths(folder: Path, limit: int) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:limit]


def load_crops(folder: Path, info: ModelInfo, limit: int = 512) -> np.ndarray:
    """Face crops from ``folder`` as the network input, f32 [M, 3, S, S]."""
    import cv2

    paths = _crop_paths(Path(folder), limit)
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


def calibration_digest(folder: Path, limit: int = 512) -> str:
    """sha256 of the crops ``load_crops`` would read (names and bytes): part of the INT8 engine's
    key and of its calibration cache's name, so new calibration data means a new calibration."""
    h = hashlib.sha256()
    folder = Path(folder)
    for path in _crop_paths(folder, limit):
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def make_calibrator(trt, cuda, inputs: dict[str, np.ndarray], batch: int, cache_path: Path):
    """An IInt8EntropyCalibrator2 feeding ``inputs`` in batches of ``batch`` from device buffers
    (the engine build's calibration profile has OPT = ``batch``). ``close()`` frees them."""
    base = trt.IInt8EntropyCalibrator2
    count = min(len(a) for a in inputs.values())
    if count < batch:
        raise ValueError(f"calibration needs at least {batch} crops, got {count}")

    class Calibrator(base):
        def __init__(self) -> None:
            base.__init__(self)
            self.count, self.position = count, 0
            self.device: dict[str, int] = {}
            self.stream = cuda.stream_create()
            for n, a in inputs.items():
                self.device[n] = cuda.malloc(a[:batch].nbytes)

        def get_batch_size(self) -> int:
            return batch

        def get_batch(self, names, p_str=None):
            if self.position + batch > self.count:
                return None  # tells TensorRT the data is exhausted
            for name in names:
                chunk = np.ascontiguousarray(inputs[name][self.position:self.position + batch])
                cuda.htod_async(self.device[name], chunk.ctypes.data, chunk.nbytes, self.stream)
                cuda.synchronize(self.stream)  # `chunk` must outlive the copy
            self.position += batch
            return [self.device[name] for name in names]

        def read_calibration_cache(self):
            return cache_path.read_bytes() if cache_path.is_file() else None

        def write_calibration_cache(self, cache) -> None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(cache_path, bytes(cache))

        def close(self) -> None:
            for ptr in self.device.values():
                cuda.free(ptr)
            self.device.clear()
            if self.stream is not None:
                cuda.stream_destroy(self.stream)
                self.stream = None

    return Calibrator()
