"""The cheap heatmap of docs/SPEC.md (Kernels), in PyTorch (training and the fused ONNX graph).

    heat[n, 0, y, x] = max_k exp(-((x + 0.5 - W*l[n,k,0])^2 + (y + 0.5 - H*l[n,k,1])^2) / (2 s^2))

Written with broadcasting and one ReduceMax over K (no loops), so it exports to plain ONNX ops that
ONNX Runtime and TensorRT both handle, and agrees with the native kernel to float rounding.
The max is taken over the squared distance before the exp (exp is monotonic): one exp per pixel
instead of K, and exactly the same value.
"""
from __future__ import annotations

import torch


def render_heatmap(landmarks: torch.Tensor, height: int, width: int, sigma: float) -> torch.Tensor:
    """Landmarks [N, K, 2] crop-normalised -> heatmap [N, 1, height, width]."""
    if not torch.jit.is_tracing() and (landmarks.dim() != 3 or landmarks.shape[-1] != 2):  # static at export
        raise ValueError(f"landmarks must be [N, K, 2], got {list(landmarks.shape)}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    dtype, device = landmarks.dtype, landmarks.device
    xs = torch.arange(width, dtype=dtype, device=device) + 0.5  # pixel centres
    ys = torch.arange(height, dtype=dtype, device=device) + 0.5
    px = landmarks[:, :, 0:1] * width  # [N, K, 1]
    py = landmarks[:, :, 1:2] * height
    dx2 = (xs.view(1, 1, width) - px) ** 2  # [N, K, W]
    dy2 = (ys.view(1, 1, height) - py) ** 2  # [N, K, H]
    d2 = dy2.unsqueeze(3) + dx2.unsqueeze(2)  # [N, K, H, W]
    nearest = torch.amin(d2, dim=1, keepdim=True)  # [N, 1, H, W]
    return torch.exp(nearest * (-0.5 / (sigma * sigma)))
