"""Backend "auto" never falls back silently: the reason TensorRT was not used travels with the
pipeline (and the CLI's JSON summary), and an installed but unusable TensorRT is a warning.
cuda-python, for code that uses it beside the package, is pinned per JetPack line."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from atpn_edge.runtime import select

REPO = Path(__file__).resolve().parents[1]


def test_reason_without_tensorrt(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    monkeypatch.setattr(select.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(select, "onnxruntime_cuda_status", lambda path: (False, "no CUDA provider"))
    choice = select.select_backend("auto", str(tmp_path / "m.onnx"))
    assert choice.backend == "onnxruntime"
    assert "tensorrt module is not installed" in choice.reason and "--system-site-packages" in choice.reason
    assert "no CUDA provider" in choice.reason


def test_installed_but_unusable_tensorrt_is_a_warning(monkeypatch, tmp_path, caplog):
    from fakes import tensorrt as fake_trt

    import atpn_edge.cuda as cuda_layer

    monkeypatch.setitem(sys.modules, "tensorrt", fake_trt)
    monkeypatch.setattr(select.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(cuda_layer, "gpu_status", lambda: (False, "no usable GPU: driver too old (CUDA error 35)"))
    monkeypatch.setattr(select, "onnxruntime_cuda_status", lambda path: (False, "no CUDA provider"))
    ok, why = select.tensorrt_status()
    assert not ok and why.startswith("TensorRT 10.3.0 is installed but no usable GPU") and "error 35" in why
    with caplog.at_level(logging.INFO, logger="atpn_edge.runtime"):
        choice = select.select_backend("auto", str(tmp_path / "m.onnx"))
    assert choice.backend == "onnxruntime" and "error 35" in choice.reason
    assert any(r.levelno == logging.WARNING and "TensorRT not used" in r.getMessage() for r in caplog.records)


def test_pipeline_carries_the_reason(monkeypatch):
    pytest.importorskip("atpn_edge.kernels", reason="native kernels not built")
    model = REPO / "engines" / "atpn68"
    if not (model / "stage1.onnx").is_file():
        pytest.skip("shipped model not present")
    from atpn_edge.runtime import create_pipeline

    monkeypatch.setattr(select, "tensorrt_status", lambda: (False, "the tensorrt module is not installed"))
    monkeypatch.setattr(select, "onnxruntime_cuda_status", lambda path: (False, "no CUDA provider"))
    pipe = create_pipeline(model, backend="auto")
    assert pipe.backend == "onnxruntime" and "TensorRT not used: the tensorrt module" in pipe.backend_reason
    assert create_pipeline(model, backend="onnxruntime").backend_reason == "requested"


def test_cuda_python_is_pinned_per_jetpack_line():
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["jetpack6"] == ["cuda-python>=12.2,<12.9"]  # never 13.x on a CUDA 12 driver
    assert extras["jetpack7"] == ["cuda-python>=13,<14"]
    assert not any(d.strip() == "cuda-python" or d.startswith("cuda-python>=12") and "<" not in d
                   for deps in extras.values() for d in deps)
