"""Real hardware: the TensorRT pipeline against the CPU pipeline on faces of the shared data, FP32
within 1e-3 of the crop's side, FP16 within 0.05 NME points (inter-ocular, %), with and without
CUDA graphs, for face counts 1, 3, 1, 4 (graphs and contexts across changes of N).

Marked ``gpu``; skipped without TensorRT, a usable GPU or the shared data. scripts/gpu_check.sh
runs it (``pytest -m gpu``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "engines" / "atpn68s"  # the default model
COUNTS = (1, 3, 1, 4)


@pytest.fixture(scope="module")
def gpu_ready():
    pytest.importorskip("tensorrt", reason="TensorRT is not installed (JetPack ships it)")
    from atpn_edge.cuda import gpu_status

    ok, why = gpu_status()
    if not ok:
        pytest.skip(f"no usable GPU: {why}")
    if not (SHIPPED / "stage1.onnx").is_file():
        pytest.skip(f"shipped model not found at {SHIPPED}")


@pytest.fixture(scope="module")
def faces(shared_data):
    """(frame, affines [N, 2, 3], ground truth [N, 68, 2]) batches: N jittered crops of one face."""
    import cv2

    from atpn_edge.core.crop import crop_affine, params_from_landmarks
    from atpn_edge.datasets import load_ibug_folder

    samples = load_ibug_folder(shared_data / "300w" / "afw")[: len(COUNTS) * 3]
    rng = np.random.default_rng(0)
    batches = []
    for i, n in enumerate(COUNTS * 3):
        s = samples[i % len(samples)]
        frame = cv2.imread(str(s.image))
        base = params_from_landmarks(s.landmarks)
        params = [base] + [base.jittered((rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)),
                                         rng.uniform(0.95, 1.05), rng.uniform(-0.1, 0.1)) for _ in range(n - 1)]
        batches.append((frame, np.stack([crop_affine(p, 112) for p in params]),
                        np.repeat(s.landmarks[None].astype(np.float32), n, axis=0)))
    return batches


def run_all(pipe, batches):
    return [pipe.run(frame, affines) for frame, affines, _ in batches]


@pytest.mark.parametrize("cuda_graph", [False, True], ids=["plain", "cuda-graph"])
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_tensorrt_matches_cpu_on_shared_faces(gpu_ready, faces, tmp_path_factory, precision, cuda_graph):
    from atpn_edge.eval.metrics import nme_inter_ocular
    from atpn_edge.runtime import create_pipeline

    cache = tmp_path_factory.getbasetemp() / "engines"  # shared by the four cases: built once each
    cpu = create_pipeline(SHIPPED, backend="onnxruntime", max_faces=4, precision="fp32")  # not x86's INT8 default
    trt = create_pipeline(SHIPPED, backend="tensorrt", max_faces=4, precision=precision, cuda_graph=cuda_graph,
                          cache_dir=cache)
    want, got = run_all(cpu, faces), run_all(trt, faces)
    for (frame, affines, gt), w, g in zip(faces, want, got):
        assert np.isfinite(g.landmarks).all() and len(g) == len(affines)
        if precision == "fp32":
            assert np.abs(g.landmarks_crop - w.landmarks_crop).max() <= 1e-3  # of the crop's side
    if precision == "fp16":
        gt = np.concatenate([b[2] for b in faces])
        nme_cpu = 100 * nme_inter_ocular(np.concatenate([w.landmarks for w in want]), gt).mean()
        nme_trt = 100 * nme_inter_ocular(np.concatenate([g.landmarks for g in got]), gt).mean()
        assert abs(nme_trt - nme_cpu) <= 0.05, (nme_trt, nme_cpu)
    if cuda_graph:
        assert not trt._graphs_failed and set(trt._graphs) == set(COUNTS)
    trt.close()


@pytest.mark.parametrize("zero_copy", [True, False], ids=["mapped-frame", "rectangle-upload"])
def test_both_frame_upload_paths_on_the_gpu(gpu_ready, faces, tmp_path_factory, zero_copy):
    """Mapped memory (Jetson's path) also works on a discrete GPU, so both paths run anywhere."""
    from atpn_edge.runtime import create_pipeline

    cache = tmp_path_factory.getbasetemp() / "engines"
    cpu = create_pipeline(SHIPPED, backend="onnxruntime", max_faces=4, precision="fp32")  # not x86's INT8 default
    trt = create_pipeline(SHIPPED, backend="tensorrt", max_faces=4, precision="fp32", cache_dir=cache,
                          zero_copy=zero_copy)
    assert trt._frames.zero_copy is zero_copy
    for (frame, affines, _), w, g in zip(faces, run_all(cpu, faces), run_all(trt, faces)):
        assert np.abs(g.landmarks_crop - w.landmarks_crop).max() <= 1e-3
    trt.close()
