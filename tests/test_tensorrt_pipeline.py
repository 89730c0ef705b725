"""The TensorRT pipeline against a fake `tensorrt` (TensorRT 10 API, engines computed by ONNX
Runtime) and a fake CUDA layer: same results as the CPU pipeline, CUDA-graph replay, buffer
lifetime, and the TensorRT 10 API surface (removed calls must not be used)."""
from __future__ import annotations

import numpy as np
import pytest

from fakes import tensorrt as fake_trt
from fakes.cuda import FakeCuda, FakeDeviceKernels

from atpn_edge.runtime.models import load_info, resolve_model
from atpn_edge.runtime.tensorrt_backend import TensorRTPipeline
from atpn_edge.core.crop import CropParams, crop_affine


def make_pipeline(tiny_dir, tmp_path, cuda=None, **kw):
    files = resolve_model(tiny_dir)
    return TensorRTPipeline(files, load_info(files), max_faces=4, cache_dir=tmp_path / "cache", log=lambda m: None,
                            trt=fake_trt, cuda=cuda or FakeCuda(), device_kernels=FakeDeviceKernels(), **kw)


def scene(n, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    frame = cv2.resize(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), (640, 480), interpolation=cv2.INTER_CUBIC)
    params = [CropParams((220 + 60 * i, 200 + 20 * i), 120 + 15 * i, -0.4 + 0.3 * i) for i in range(n)]
    return frame, np.stack([crop_affine(p, 112) for p in params])


def cpu_result(tiny_dir, frame, affines):
    pytest.importorskip("atpn_edge.kernels", reason="native kernels not built")
    from atpn_edge.runtime import create_pipeline

    return create_pipeline(tiny_dir, backend="onnxruntime", max_faces=4).run(frame, affines)


@pytest.mark.parametrize("cuda_graph", [False, True])
def test_matches_cpu_pipeline(tiny_dir, tmp_path, cuda_graph):
    pipe = make_pipeline(tiny_dir, tmp_path, cuda_graph=cuda_graph)
    for n, seed in ((1, 0), (3, 1), (1, 2)):  # batch changes back and forth, new content each time
        frame, affines = scene(n, seed)
        got, want = pipe.run(frame, affines), cpu_result(tiny_dir, frame, affines)
        np.testing.assert_allclose(got.landmarks_crop, want.landmarks_crop, atol=2e-3)
        np.testing.assert_allclose(got.landmarks, want.landmarks, atol=0.5)
        np.testing.assert_allclose(got.pose, want.pose, atol=0.2)
        np.testing.assert_allclose(got.face_score, want.face_score, atol=2e-3)


def test_cuda_graph_is_captured_once_per_batch_and_replayed(tiny_dir, tmp_path):
    cuda = FakeCuda()
    pipe = make_pipeline(tiny_dir, tmp_path, cuda=cuda, cuda_graph=True)
    frame, affines = scene(2)
    first = pipe.run(frame, affines)
    frame2 = np.ascontiguousarray(frame[:, ::-1])
    second = pipe.run(frame2, affines)
    assert cuda.captures == 1 and cuda.launches == 2
    assert not np.allclose(first.landmarks_crop, second.landmarks_crop)  # the replay saw the new frame
    plain = make_pipeline(tiny_dir, tmp_path).run(frame2, affines)
    np.testing.assert_allclose(second.landmarks_crop, plain.landmarks_crop, atol=1e-6)
    pipe.run(*scene(1))
    assert cuda.captures == 2


def test_timed_run_reports_every_stage(tiny_dir, tmp_path):
    from atpn_edge.runtime import STAGES

    cuda = FakeCuda()
    pipe = make_pipeline(tiny_dir, tmp_path, cuda=cuda, cuda_graph=True)
    res = pipe.run(*scene(1), timed=True)
    assert set(res.timings) == set(STAGES) and all(t > 0 for t in res.timings.values())
    assert cuda.captures == 0  # timed runs never go through the graph
    pipe.close()
    assert cuda.events == 0


def test_close_frees_every_buffer(tiny_dir, tmp_path):
    cuda = FakeCuda()
    pipe = make_pipeline(tiny_dir, tmp_path, cuda=cuda, cuda_graph=True)
    pipe.run(*scene(2))
    assert cuda.buffers and cuda.host
    pipe.close()
    assert not cuda.buffers and not cuda.host and not cuda.streams


def test_engines_are_built_once_then_loaded_from_cache(tiny_dir, tmp_path):
    fake_trt.builds.clear()
    make_pipeline(tiny_dir, tmp_path)
    assert len(fake_trt.builds) == 2
    build = fake_trt.builds[0]
    assert build["flags"] == ["FP16"] and build["pools"]["WORKSPACE"] == 256 << 20
    # Engines for `atpn-edge build`'s default batch 8, so that pipelines with fewer faces share them.
    assert build["profile"]["image"] == ((1, 3, 112, 112), (1, 3, 112, 112), (8, 3, 112, 112))
    make_pipeline(tiny_dir, tmp_path)
    assert len(fake_trt.builds) == 2  # loaded, not rebuilt
    assert [p.name for p in (tmp_path / "cache").glob("timing.*.cache")] == \
        ["timing.trt10.3.0.sm87.orin-fake-16sm-61g.cache"]  # one per TensorRT version and device


def test_engines_too_small_for_max_faces_are_refused(tiny_dir, tmp_path):
    from atpn_edge.runtime.tensorrt_backend import EngineLoadError

    with pytest.raises(EngineLoadError, match="built for at most 2 faces, the pipeline needs 4"):
        make_pipeline(tiny_dir, tmp_path, engine_max_batch=2)


def test_fake_mirrors_tensorrt10_removals():
    """The runtime is tested against the 10.x surface: calls removed in 10 fail in the fake too."""
    builder = fake_trt.Builder(fake_trt.Logger())
    config = builder.create_builder_config()
    with pytest.raises(AttributeError):
        builder.build_engine
    with pytest.raises(AttributeError):
        config.max_workspace_size = 1 << 20
    with pytest.raises(AttributeError):
        builder.max_batch_size = 4
    ctx_cls = fake_trt.IExecutionContext
    for removed in ("execute_async_v2", "execute_v2", "set_binding_shape", "get_binding_shape"):
        assert not hasattr(ctx_cls, removed)
    for removed in ("num_bindings", "get_binding_index", "binding_is_input"):
        assert not hasattr(fake_trt.ICudaEngine, removed)


def test_device_kernel_adapter_matches_the_native_binding():
    """Null pointers pass pybind11's argument conversion and are refused by the binding's own
    check: a ValueError (not a TypeError) proves the adapter's call matches the signature."""
    pytest.importorskip("atpn_edge._cuda", reason="CUDA module not built (no nvcc)")
    from atpn_edge.cuda import DeviceKernels

    k = DeviceKernels()
    aff = np.zeros((1, 2, 3)) + np.eye(2, 3)
    with pytest.raises(ValueError, match="non-null device pointers"):
        k.warp_crop_batch(0, 480, 640, 640 * 3, aff, 112, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), 0, 0)
    with pytest.raises(ValueError, match="non-null device pointers"):
        k.warp_crop_batch(0, 480, 640, 90, aff, 112, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), 0, 0, (10, 20))
    with pytest.raises(ValueError, match="origin must lie inside"):
        k.warp_crop_batch(0, 480, 640, 90, aff, 112, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), 0, 0, (640, 0))
    with pytest.raises(ValueError, match="stride must be >= 3 \\* width"):
        k.warp_crop_batch(0, 480, 640, 90, aff, 112, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), 0, 0)
    with pytest.raises(ValueError, match="non-null device pointers"):
        k.render_heatmap(0, 1, 68, 28, 28, 1.5, 0, 0)
    with pytest.raises(ValueError, match="too large"):
        k.render_heatmap(0, 1, 68, 5000, 28, 1.5, 0, 0)


def test_cuda_layer_without_a_gpu_fails_clearly():
    pytest.importorskip("atpn_edge._cuda", reason="CUDA module not built (no nvcc)")
    from atpn_edge.cuda import Cuda, CudaError, gpu_status

    if gpu_status()[0]:
        pytest.skip("a GPU is present")
    with pytest.raises(CudaError, match=r"failed: .*\(CUDA error \d+\)"):
        Cuda()
