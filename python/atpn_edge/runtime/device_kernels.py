"""The CUDA crop and heatmap kernels as the TensorRT pipeline calls them: device pointers and a
stream handle as ints. The native module ``atpn_edge._cuda`` (built when nvcc is found, see
cpp/bindings/cuda_module.cpp) exposes them; this adapter only names what the pipeline needs, so a
fake can stand in for it in tests (tests/fakes/cuda.py)."""
from __future__ import annotations

import numpy as np


class DeviceKernels:
    def __init__(self) -> None:
        try:
            from .. import _cuda
        except ImportError as exc:
            raise RuntimeError(
                "the CUDA kernels are not built (atpn_edge._cuda is missing): reinstall with nvcc on PATH "
                f"(`pip install .` on the Jetson, docs/JETSON.md) ({exc})"
            ) from None
        self._m = _cuda

    def warp_crop_batch(self, frame: int, height: int, width: int, stride: int, affines: np.ndarray, size: int,
                        mean: tuple[float, float, float], std: tuple[float, float, float], out: int, stream: int) -> None:
        """Crops for frame->crop ``affines`` [N, 2, 3] (host); they become kernel arguments, by value."""
        self._m.warp_crop_batch(frame, height, width, stride, affines, size, mean, std, out, stream)

    def render_heatmap(self, landmarks: int, n: int, k: int, height: int, width: int, sigma: float,
                       out: int, stream: int) -> None:
        self._m.render_heatmap(landmarks, n, k, height, width, float(sigma), out, stream)
