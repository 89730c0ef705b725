"""The CPU pipeline (native kernels between two ONNX Runtime sessions) against the fused ONNX
graph, on a tiny random model built here (runs everywhere) and on the shipped model with real
faces (skips without them); plus the input errors every backend shares."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atpn_edge.core.pose import rotate_poses_in_image
from atpn_edge.core.crop import CropParams, crop_affine, from_crop_normalised

from runtime_reference import warp_crop_ref
from runtime_tiny_model import make_tiny_model

REPO = Path(__file__).resolve().parents[1]
kernels = pytest.importorskip("atpn_edge.kernels", reason="native kernels not built (scripts/dev_build.sh)")


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    from atpn_edge.runtime import create_pipeline

    with create_pipeline(tiny_dir, backend="onnxruntime", max_faces=4) as p:
        yield p


def fused_reference(model_dir: Path, images: np.ndarray):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model_dir / "fused.onnx"), providers=["CPUExecutionProvider"])
    return sess.run(["landmarks", "pose", "face_logit"], {"image": images})


def frame_and_affines(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    # Smooth random texture, so that the random network's outputs vary with the crop.
    small = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    import cv2

    frame = cv2.resize(small, (640, 480), interpolation=cv2.INTER_CUBIC)
    params = [CropParams((220 + 60 * i, 200 + 20 * i), 120 + 15 * i, (-0.4 + 0.3 * i)) for i in range(n)]
    return frame, np.stack([crop_affine(p, 112) for p in params])


def check_against_fused(pipeline, model_dir: Path, frame, affines, images, lm_tol, pose_tol, score_tol):
    res = pipeline.run(frame, affines)
    lm, pose_crop, logit = fused_reference(model_dir, images)
    np.testing.assert_allclose(res.landmarks_crop, lm, atol=lm_tol)
    angles = np.arctan2(affines[:, 0, 1], affines[:, 0, 0])
    np.testing.assert_allclose(res.pose, rotate_poses_in_image(pose_crop, -angles), atol=pose_tol)
    np.testing.assert_allclose(res.face_score, 1 / (1 + np.exp(-logit[:, 0])), atol=score_tol)
    for i, a in enumerate(affines):
        np.testing.assert_allclose(res.landmarks[i], from_crop_normalised(res.landmarks_crop[i], a, pipeline.info.input_size), atol=1e-3)
    return res


@pytest.mark.parametrize("n", [1, 3])
def test_tiny_model_matches_fused_graph(tiny, tiny_dir, n):
    frame, affines = frame_and_affines(n)
    info = tiny.info
    # Same crops as the pipeline's kernel: checks the split at the heatmap tightly.
    images = kernels.warp_crop_batch(frame, affines.astype(np.float32), 112, np.float32(info.mean), np.float32(info.std))
    res = check_against_fused(tiny, tiny_dir, frame, affines, images, 1e-5, 1e-3, 1e-5)
    assert res.landmarks.dtype == np.float32 and res.landmarks.shape == (n, 68, 2)
    # cv2 reference crops: checks the crop (channel order, normalisation) within warp rounding.
    ref = warp_crop_ref(frame, affines, 112, info.mean, info.std)
    check_against_fused(tiny, tiny_dir, frame, affines, ref, 2e-3, 0.2, 2e-3)


def test_io_binding_and_plain_run_agree(tiny_dir):
    from atpn_edge.runtime import create_pipeline

    frame, affines = frame_and_affines(2, seed=1)
    a = create_pipeline(tiny_dir, backend="onnxruntime", io_binding=True).run(frame, affines)
    b = create_pipeline(tiny_dir, backend="onnxruntime", io_binding=False).run(frame, affines)
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    np.testing.assert_array_equal(a.pose, b.pose)


def test_results_do_not_alias_buffers(tiny):
    frame, affines = frame_and_affines(1, seed=2)
    first = tiny.run(frame, affines)
    kept = first.landmarks_crop.copy()
    tiny.run(frame[::-1].copy(), affines)
    np.testing.assert_array_equal(first.landmarks_crop, kept)


def test_timings_cover_every_stage(tiny):
    from atpn_edge.runtime import STAGES

    frame, affines = frame_and_affines(1)
    res = tiny.run(frame, affines, timed=True)
    assert set(res.timings) == set(STAGES) and all(t > 0 for t in res.timings.values())
    assert tiny.run(frame, affines).timings == {}


def test_zero_faces_give_an_empty_result(tiny):
    frame, _ = frame_and_affines(1)
    res = tiny.run(frame, np.zeros((0, 2, 3)))
    assert len(res) == 0 and res.landmarks.shape == (0, 68, 2) and res.pose.shape == (0, 3)


@pytest.mark.parametrize(
    "frame, message",
    [
        (np.zeros((48, 64), np.uint8), "COLOR_GRAY2BGR"),
        (np.zeros((48, 64, 4), np.uint8), "COLOR_BGRA2BGR"),
        (np.zeros((48, 64, 3), np.float32), "dtype float32"),
        ([[0, 0, 0]], "numpy array"),
    ],
)
def test_bad_frames_are_rejected(tiny, frame, message):
    _, affines = frame_and_affines(1)
    with pytest.raises((ValueError, TypeError), match=message):
        tiny.run(frame, affines)


def test_bad_affines_are_rejected(tiny):
    frame, affines = frame_and_affines(1)
    with pytest.raises(ValueError, match="max_faces=4"):
        tiny.run(frame, np.repeat(affines, 5, axis=0))
    bad = affines.copy()
    bad[0, 1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        tiny.run(frame, bad)
    with pytest.raises(ValueError, match=r"\(N, 2, 3\)"):
        tiny.run(frame, np.zeros((1, 3, 3)))
    with pytest.raises(ValueError, match="singular"):
        tiny.run(frame, np.zeros((1, 2, 3)))


def test_single_affine_counts_as_one_face(tiny):
    frame, affines = frame_and_affines(1)
    assert len(tiny.run(frame, affines[0])) == 1


def test_graph_without_spec_inputs_is_rejected(tmp_path, tiny_dir):
    import shutil

    import onnx

    from atpn_edge.runtime import create_pipeline

    shutil.copy(tiny_dir / "stage2.onnx", tmp_path / "stage2.onnx")
    model = onnx.load(str(tiny_dir / "stage1.onnx"))
    model.graph.input[0].name = "input"
    for node in model.graph.node:
        node.input[:] = ["input" if x == "image" else x for x in node.input]
    onnx.save(model, str(tmp_path / "stage1.onnx"))
    with pytest.raises(ValueError, match="lacks input 'image'"):
        create_pipeline(tmp_path, backend="onnxruntime")


def test_graph_without_metadata_is_rejected(tmp_path, tiny_dir):
    import shutil

    import onnx

    from atpn_edge.runtime import create_pipeline

    shutil.copy(tiny_dir / "stage2.onnx", tmp_path / "stage2.onnx")
    model = onnx.load(str(tiny_dir / "stage1.onnx"))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "stage1.onnx"))
    with pytest.raises(ValueError, match="metadata lacks"):
        create_pipeline(tmp_path, backend="onnxruntime")


def test_missing_model_and_unknown_backend(tmp_path, tiny_dir, monkeypatch):
    from atpn_edge.runtime import create_pipeline, models

    with pytest.raises(FileNotFoundError, match="missing stage1.onnx"):
        create_pipeline(tmp_path)
    with pytest.raises(ValueError, match="unknown backend"):
        create_pipeline(tiny_dir, backend="tflite")
    monkeypatch.delenv("ATPN_EDGE_MODEL", raising=False)
    monkeypatch.setattr(models, "engine_search_dirs", lambda: [tmp_path])
    with pytest.raises(FileNotFoundError, match="default model 'atpn68s' is not installed"):
        create_pipeline()


def test_auto_picks_cpu_without_gpu(tiny_dir, monkeypatch):
    from atpn_edge.runtime import select

    monkeypatch.setattr(select, "tensorrt_status", lambda: (False, "no usable GPU: test"))
    monkeypatch.setattr(select, "onnxruntime_cuda_status", lambda path: (False, "no provider: test"))
    assert select.choose_backend("auto", str(tiny_dir / "stage1.onnx")) == "onnxruntime"
    monkeypatch.setattr(select, "onnxruntime_cuda_status", lambda path: (True, "active"))
    assert select.choose_backend("auto", str(tiny_dir / "stage1.onnx")) == "onnxruntime-cuda"


SHIPPED = REPO / "engines" / "atpn68"


@pytest.mark.data
def test_shipped_model_matches_fused_graph_on_real_faces(shared_data):
    if not (SHIPPED / "fused.onnx").is_file():
        pytest.skip(f"shipped model not present at {SHIPPED} (it is added by the training run)")
    import cv2

    from atpn_edge.datasets import load_ibug_folder
    from atpn_edge.runtime import create_pipeline
    from atpn_edge.core.crop import affine_from_landmarks

    pipe = create_pipeline(SHIPPED, backend="onnxruntime", max_faces=4, precision="fp32")
    int8 = create_pipeline(SHIPPED, backend="onnxruntime", max_faces=4)
    assert int8.precision == "int8"  # the shipped default on the CPU
    info = pipe.info
    samples = load_ibug_folder(shared_data / "300w" / "afw")[:12]
    for sample in samples:
        frame = cv2.imread(str(sample.image))
        affine = affine_from_landmarks(sample.landmarks, info.crop_rule)[None]
        images = kernels.warp_crop_batch(frame, affine.astype(np.float32), info.input_size,
                                         np.float32(info.mean), np.float32(info.std))
        check_against_fused(pipe, SHIPPED, frame, affine, images, 1e-4, 0.05, 1e-4)
        # INT8 stays close to fp32 on real faces: well under a pixel of the 112 px crop on
        # average, a few degrees of pose at most.
        a, b = pipe.run(frame, affine), int8.run(frame, affine)
        assert np.abs(a.landmarks_crop - b.landmarks_crop).mean() < 0.01
        assert np.abs(a.pose - b.pose).max() < 5.0 and abs(a.face_score[0] - b.face_score[0]) < 0.1


def test_auto_prefers_tensorrt_with_a_gpu(tiny_dir, monkeypatch):
    from atpn_edge.runtime import select

    monkeypatch.setattr(select, "tensorrt_status", lambda: (True, "TensorRT 10.3 on test"))
    assert select.choose_backend("auto", str(tiny_dir / "stage1.onnx")) == "tensorrt"
    assert select.choose_backend("onnxruntime", str(tiny_dir / "stage1.onnx")) == "onnxruntime"


def test_metadata_that_contradicts_the_graph_is_rejected(tmp_path):
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    from dataclasses import replace

    from atpn_edge.runtime import create_pipeline
    from runtime_tiny_model import INFO, _export, _modules

    model = make_tiny_model(tmp_path)
    import torch

    s1, _, _ = _modules(INFO)  # a stage 1 with 8 feature channels, labelled as 16
    _export(s1, (torch.zeros(1, 3, 112, 112),), model / "stage1.onnx", ["image"], ["landmarks", "features"],
            replace(INFO, feature_channels=16))
    with pytest.raises(ValueError, match="'features' has shape"):
        create_pipeline(model, backend="onnxruntime")
