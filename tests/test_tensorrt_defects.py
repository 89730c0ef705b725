"""TensorRT behaviours a first run on a Jetson would hit, modelled by the fake (tests/fakes/):
graphs after a change of face count, a failing capture, a failing enqueue, no memory for a
context, a foreign timing cache, INT8 calibration at the OPT shape, one logger per process, and
engine keys that tell Orin modules apart. Each test fails against the code before the fixes."""
from __future__ import annotations

import numpy as np
import pytest

from fakes import tensorrt as fake_trt
from fakes.cuda import FakeCuda, FakeDeviceKernels
from runtime_tiny_model import make_tiny_model

from atpn_edge.core.crop import CropParams, crop_affine
from atpn_edge.runtime.engine_build import BuildSettings
from atpn_edge.runtime.engines import ensure_engines, timing_cache_path, engine_key
from atpn_edge.runtime.models import load_info, resolve_model
from atpn_edge.runtime.tensorrt_backend import TensorRTPipeline


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    return make_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def behaviour(monkeypatch):
    b = fake_trt.Behaviour()
    monkeypatch.setattr(fake_trt, "behaviour", b)
    return b


def make_pipeline(tiny_dir, cache, cuda=None, log=None, **kw):
    files = resolve_model(tiny_dir)
    return TensorRTPipeline(files, load_info(files), max_faces=4, cache_dir=cache,
                            log=(log.append if log is not None else lambda m: None), trt=fake_trt,
                            cuda=cuda or FakeCuda(), device_kernels=FakeDeviceKernels(), **kw)


def scene(n, seed=0):
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    params = [CropParams((120 + 40 * i, 110 + 10 * i), 90 + 10 * i, -0.3 + 0.2 * i) for i in range(n)]
    return frame, np.stack([crop_affine(p, 112) for p in params])


def test_graphs_stay_valid_when_the_face_count_changes(tiny_dir, tmp_path, behaviour):
    """TensorRT: a graph captured on a context is invalid once that context is re-shaped."""
    cuda = FakeCuda()
    graph = make_pipeline(tiny_dir, tmp_path, cuda=cuda, cuda_graph=True)
    plain = make_pipeline(tiny_dir, tmp_path)
    for n, seed in ((1, 0), (3, 1), (1, 2), (4, 3), (3, 4)):
        frame, affines = scene(n, seed)
        got, want = graph.run(frame, affines), plain.run(frame, affines)
        assert np.isfinite(got.landmarks_crop).all(), f"N={n}: the replayed graph computed garbage"
        np.testing.assert_allclose(got.landmarks_crop, want.landmarks_crop, atol=1e-6)
    assert cuda.captures == 3 and cuda.launches == 5  # one graph per face count, replayed


def test_failed_capture_falls_back_to_plain_enqueue_once(tiny_dir, tmp_path, behaviour):
    behaviour.enqueue_fails = "capture"
    cuda, log = FakeCuda(), []
    pipe = make_pipeline(tiny_dir, tmp_path, cuda=cuda, log=log, cuda_graph=True)
    plain = make_pipeline(tiny_dir, tmp_path)
    for n, seed in ((2, 0), (2, 1), (1, 2)):
        frame, affines = scene(n, seed)
        np.testing.assert_allclose(pipe.run(frame, affines).landmarks_crop,
                                   plain.run(frame, affines).landmarks_crop, atol=1e-6)
    failures = [m for m in log if "CUDA graph capture failed" in m]
    assert len(failures) == 1 and "without CUDA graphs" in failures[0], log
    assert cuda.capture_attempts == 1 and cuda.launches == 0  # never retried
    assert cuda.last_error == 0  # the capture's error was cleared


def test_enqueue_failure_is_an_error(tiny_dir, tmp_path, behaviour):
    pipe = make_pipeline(tiny_dir, tmp_path)
    behaviour.enqueue_fails = "always"
    with pytest.raises(RuntimeError, match="TensorRT failed to enqueue"):
        pipe.run(*scene(1))


def test_no_memory_for_a_context_is_a_clear_error(tiny_dir, tmp_path, behaviour):
    make_pipeline(tiny_dir, tmp_path)  # engines built and cached
    behaviour.context_none = True
    pipe = make_pipeline(tiny_dir, tmp_path)
    with pytest.raises(MemoryError, match=r"execution context for stage1: most likely out of GPU memory \(123 MiB"):
        pipe.run(*scene(1))


def test_contexts_share_one_user_managed_scratch(tiny_dir, tmp_path, behaviour):
    cuda = FakeCuda()
    pipe = make_pipeline(tiny_dir, tmp_path, cuda=cuda)
    pipe.run(*scene(1))  # allocates the frame buffers too
    before = len(cuda.buffers)
    for n in (2, 3):
        pipe.run(*scene(n))
    assert len(cuda.buffers) == before  # six contexts, no allocation of their own
    assert len(pipe._contexts) == 3 and all(
        c._strategy == fake_trt.ExecutionContextAllocationStrategy.USER_MANAGED for p in pipe._contexts.values()
        for c in p.values())


def test_foreign_timing_cache_is_replaced_not_fatal(tiny_dir, tmp_path, behaviour):
    import json

    files = resolve_model(tiny_dir)
    key = engine_key(fake_trt, FakeCuda(), files.stage1, "stage1", BuildSettings(max_batch=4))
    path = timing_cache_path(tmp_path, key)
    path.write_text(json.dumps({"version": "9.9.9", "entries": [1, 2]}))  # another TensorRT's cache
    log = []
    ensure_engines(fake_trt, FakeCuda(), files, load_info(files), BuildSettings(max_batch=4), tmp_path,
                   log=log.append)
    assert any("was refused" in m for m in log), log
    assert json.loads(path.read_text())["version"] == fake_trt.__version__
    assert all(b["timing_cache"] for b in fake_trt.builds[-2:])


def test_refused_empty_timing_cache_builds_without_one(tiny_dir, tmp_path, behaviour, monkeypatch):
    files = resolve_model(tiny_dir)
    monkeypatch.setattr(fake_trt.IBuilderConfig, "set_timing_cache", lambda self, c, ignore: False)
    log = []
    paths = ensure_engines(fake_trt, FakeCuda(), files, load_info(files), BuildSettings(max_batch=4),
                           tmp_path, log=log.append)
    assert paths["stage1"].is_file() and any("building without one" in m for m in log)


def write_crops(folder, count, seed=0):
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 256, (90, 90, 3), dtype=np.uint8))
    return folder


def test_int8_calibration_sees_every_crop_and_frees_its_buffers(tiny_dir, tmp_path, behaviour):
    pytest.importorskip("atpn_edge.kernels", reason="stage 2 calibration renders heatmaps natively")
    files = resolve_model(tiny_dir)
    crops = write_crops(tmp_path / "crops", 16)
    cuda = FakeCuda()
    fake_trt.builds.clear()
    settings = BuildSettings(precision="int8", max_batch=4)
    ensure_engines(fake_trt, cuda, files, load_info(files), settings, tmp_path / "cache", calib_dir=crops,
                   log=lambda m: None)
    assert [b["calibration_samples"] for b in fake_trt.builds] == [16, 16]  # 2 batches of 8, at OPT 8
    assert not cuda.buffers and not cuda.streams  # the calibrators' device buffers are freed
    calibs = sorted(p.name for p in (tmp_path / "cache").glob("*.calib"))
    assert len(calibs) == 2 and all(".trt10.3.0." in n for n in calibs)

    write_crops(crops, 16, seed=1)  # new calibration data: new calibration, new engines
    log = []
    ensure_engines(fake_trt, cuda, files, load_info(files), settings, tmp_path / "cache", calib_dir=crops,
                   log=log.append)
    assert sum(m.startswith("building ") and "no cached engine" in m for m in log) == 2, log
    assert len(list((tmp_path / "cache").glob("*.calib"))) == 4


def test_one_tensorrt_logger_per_process(tiny_dir, tmp_path, behaviour):
    make_pipeline(tiny_dir, tmp_path / "a")
    before = fake_trt.Logger.instances
    make_pipeline(tiny_dir, tmp_path / "b")  # builds again (other cache) and loads
    make_pipeline(tiny_dir, tmp_path / "b")
    assert fake_trt.Logger.instances == before


def test_engine_key_tells_orin_modules_apart(tiny_dir, tmp_path, behaviour):
    files, info = resolve_model(tiny_dir), None
    info = load_info(files)
    nx16 = FakeCuda(name="Orin", multiprocessors=8, total_memory=15 << 30)
    nano8 = FakeCuda(name="Orin", multiprocessors=8, total_memory=7 << 30)
    a = ensure_engines(fake_trt, nx16, files, info, BuildSettings(max_batch=4), tmp_path, log=lambda m: None)
    log = []
    b = ensure_engines(fake_trt, nano8, files, info, BuildSettings(max_batch=4), tmp_path, log=log.append)
    assert a["stage1"] != b["stage1"] and "-8sm-7g." in b["stage1"].name and "-8sm-15g." in a["stage1"].name
    assert sum(m.startswith("building ") and ".engine:" in m for m in log) == 2  # nothing of the other module is reused
