"""`atpn-edge bench` and `atpn-edge build` end to end (tiny model; fake TensorRT for build)."""
from __future__ import annotations

import json
import sys

import pytest


from atpn_edge.cli import main


def test_bench_prints_spec_json_last(tiny_dir, tmp_path, capsys):
    pytest.importorskip("atpn_edge.kernels", reason="native kernels not built")
    pytest.importorskip("matplotlib", reason="--chart needs matplotlib")
    chart = tmp_path / "stages.png"
    assert main(["bench", "--model", str(tiny_dir), "--backend", "onnxruntime", "--runs", "5", "--warmup", "1",
                 "--json", "--chart", str(chart)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["backend"] == "onnxruntime" and result["threads"] == 1
    assert set(result["stages"]) == {"warp_crop", "stage1", "heatmap", "stage2", "postprocess"}
    assert all(s["p90_ms"] >= s["median_ms"] > 0 for s in result["stages"].values())
    assert result["tracking_step_ms_n4"] > result["tracking_step_ms"] > 0
    assert result["frame"] and result["machine"]["cores"] >= 1 and "onnxruntime" in result["versions"]
    assert chart.stat().st_size > 1000


def test_bench_rejects_bad_runs(tiny_dir, capsys):
    assert main(["bench", "--model", str(tiny_dir), "--runs", "0"]) == 2
    assert "--runs must be >= 1" in capsys.readouterr().err


def test_build_without_tensorrt_says_how_to_get_it(tiny_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # makes `import tensorrt` fail
    assert main(["build", "--model", str(tiny_dir)]) == 2
    assert "--system-site-packages" in capsys.readouterr().err


def test_build_with_fake_tensorrt(tiny_dir, tmp_path, monkeypatch, capsys):
    from fakes import tensorrt as fake_trt
    from fakes.cuda import FakeCuda

    import atpn_edge.cuda as cuda_layer

    monkeypatch.setitem(sys.modules, "tensorrt", fake_trt)
    monkeypatch.setattr(cuda_layer, "Cuda", lambda: FakeCuda())
    args = ["build", "--model", str(tiny_dir), "--cache-dir", str(tmp_path), "--max-faces", "2", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["max_faces"] == 2 and out["tensorrt"] == fake_trt.__version__
    assert all(p.endswith(".engine") for p in out["engines"].values())
    assert ".b2." in out["engines"]["stage1"]


def test_bench_frame_sources(tmp_path, monkeypatch):
    from atpn_edge.bench import pipeline as bp

    monkeypatch.setattr(bp, "default_video", lambda: tmp_path / "none.mp4")
    frame, source = bp.bench_frame()
    assert frame.shape == (720, 1280, 3) and source.startswith("synthetic")
    with pytest.raises(FileNotFoundError, match="benchmark video not found"):
        bp.bench_frame(tmp_path / "missing.mp4")
