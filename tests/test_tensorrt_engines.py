"""Engine building and the engine cache against the fake TensorRT: a stale, foreign or corrupt
engine is rebuilt (never loaded), precision goes through one function, INT8 calibrates from a
folder of crops, and errors say what to do."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from fakes import tensorrt as fake_trt
from fakes.cuda import FakeCuda

from atpn_edge.runtime import engine_cache
from atpn_edge.runtime.engine_build import BuildSettings, apply_precision, build_engine_bytes
from atpn_edge.runtime.engine_cache import EngineCacheError, EngineKey, read_engine, stale_reason
from atpn_edge.runtime.engines import ensure_engines
from atpn_edge.runtime.models import load_info, resolve_model
from atpn_edge.runtime.tensorrt_backend import EngineLoadError, deserialize


def ensure(tiny_dir, cache, cuda=None, settings=BuildSettings(max_batch=4), log=None, **kw):
    files = resolve_model(tiny_dir)
    messages = [] if log is None else log
    paths = ensure_engines(fake_trt, cuda or FakeCuda(), files, load_info(files), settings, cache,
                           log=messages.append, **kw)
    return paths, messages


def test_cache_hit_skips_the_build(tiny_dir, tmp_path):
    paths, log = ensure(tiny_dir, tmp_path)
    assert sum(m.startswith("built stage") for m in log) == 2
    side = json.loads(paths["stage1"].with_name(paths["stage1"].name + ".json").read_text())
    assert side["tensorrt_version"] == fake_trt.__version__ and side["gpu_name"] == "Orin (fake)"
    assert side["compute_capability"] == "8.7" and side["precision"] == "fp16" and side["max_batch"] == 4
    again, log2 = ensure(tiny_dir, tmp_path)
    assert again == paths and not any("building" in m for m in log2)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda mp: mp.setattr(fake_trt, "__version__", "10.4.0"), "tensorrt_version"),
        (lambda mp: None, "gpu_name"),
    ],
)
def test_foreign_engines_are_rebuilt(tiny_dir, tmp_path, monkeypatch, change, field):
    paths, _ = ensure(tiny_dir, tmp_path)
    # Copy the engine under the new key's name, so only the sidecar can tell it is foreign.
    change(monkeypatch)
    cuda = FakeCuda(name="Jetson AGX Xavier") if field == "gpu_name" else FakeCuda()
    new_paths, _ = ensure(tiny_dir, tmp_path / "other", cuda=cuda)
    for kind in paths:
        new_paths[kind].write_bytes(paths[kind].read_bytes())
        old_side = paths[kind].with_name(paths[kind].name + ".json")
        new_paths[kind].with_name(new_paths[kind].name + ".json").write_text(old_side.read_text())
    _, log = ensure(tiny_dir, tmp_path / "other", cuda=cuda)
    assert sum(field in m for m in log) == 2, log


def test_changed_model_gets_a_new_engine(tiny_dir, tmp_path):
    paths, _ = ensure(tiny_dir, tmp_path)
    key = json.loads(paths["stage1"].with_name(paths["stage1"].name + ".json").read_text())
    key = EngineKey(**{k: key[k] for k in EngineKey.__dataclass_fields__})
    other = replace(key, model_sha256="0" * 64)
    assert "model_sha256" in stale_reason(paths["stage1"], other)


def test_corrupt_or_orphan_engine_is_rebuilt_not_loaded(tiny_dir, tmp_path):
    paths, _ = ensure(tiny_dir, tmp_path)
    data = bytearray(paths["stage1"].read_bytes())
    data[100] ^= 0xFF
    paths["stage1"].write_bytes(bytes(data))
    paths["stage2"].with_name(paths["stage2"].name + ".json").unlink()
    _, log = ensure(tiny_dir, tmp_path)
    assert any("sha256" in m and "stage1" in m for m in log)
    assert any("origin is unknown" in m and "stage2" in m for m in log)


def test_read_engine_names_the_reason(tiny_dir, tmp_path):
    paths, _ = ensure(tiny_dir, tmp_path)
    side = json.loads(paths["stage1"].with_name(paths["stage1"].name + ".json").read_text())
    key = EngineKey(**{k: side[k] for k in EngineKey.__dataclass_fields__})
    assert read_engine(paths["stage1"], key)[:8] == fake_trt.MAGIC
    with pytest.raises(EngineCacheError, match="precision: cached 'fp16', now 'int8'"):
        read_engine(paths["stage1"], replace(key, precision="int8"))


def test_undeserializable_engine_gives_a_clear_error():
    runtime = fake_trt.Runtime(fake_trt.Logger())
    with pytest.raises(EngineLoadError, match="could not deserialize.*atpn-edge build --force"):
        deserialize(fake_trt, runtime, b"garbage", "x.engine")


def test_precision_flags(tiny_dir):
    config = fake_trt.Builder(fake_trt.Logger()).create_builder_config()
    net = fake_trt.INetworkDefinition()
    apply_precision(fake_trt, config, net, "fp32")
    assert not config._flags
    apply_precision(fake_trt, config, net, "fp16")
    assert config._flags == {"FP16"}
    with pytest.raises(ValueError, match="Q/DQ ONNX model or calibration images"):
        apply_precision(fake_trt, config, net, "int8")
    with pytest.raises(ValueError, match="unknown precision"):
        apply_precision(fake_trt, config, net, "bf16")


def test_tensorrt11_without_precision_flags(monkeypatch):
    class Flags:  # TensorRT 11: strongly typed networks only
        pass

    monkeypatch.setattr(fake_trt, "BuilderFlag", Flags)
    monkeypatch.setattr(fake_trt, "__version__", "11.0.0")
    config = fake_trt.Builder(fake_trt.Logger()).create_builder_config()
    apply_precision(fake_trt, config, fake_trt.INetworkDefinition(), "fp32")
    with pytest.raises(RuntimeError, match="strongly typed"):
        apply_precision(fake_trt, config, fake_trt.INetworkDefinition(), "fp16")


def test_int8_calibrates_both_stages_from_crops(tiny_dir, tmp_path):
    pytest.importorskip("atpn_edge.kernels", reason="stage 2 calibration renders heatmaps natively")
    import cv2

    crops = tmp_path / "crops"
    crops.mkdir()
    rng = np.random.default_rng(0)
    for i in range(16):
        cv2.imwrite(str(crops / f"{i}.png"), rng.integers(0, 256, (90, 90, 3), dtype=np.uint8))
    fake_trt.builds.clear()
    ensure(tiny_dir, tmp_path / "cache", settings=BuildSettings(precision="int8", max_batch=4), calib_dir=crops)
    assert [b["calibrated"] for b in fake_trt.builds] == [True, True]
    assert all(b["flags"] == ["FP16", "INT8"] for b in fake_trt.builds)
    assert len(list((tmp_path / "cache").glob("*.calib"))) == 2


def test_int8_without_calibration_images_is_an_error(tiny_dir, tmp_path):
    with pytest.raises(ValueError, match="calibration images"):
        ensure(tiny_dir, tmp_path, settings=BuildSettings(precision="int8", max_batch=4))


def test_onnx_without_spec_io_fails_the_build(tiny_dir, tmp_path):
    with pytest.raises(ValueError, match="not an ATPN stage2 graph"):
        build_engine_bytes(fake_trt, tiny_dir / "stage1.onnx", "stage2", BuildSettings(), log=lambda m: None)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(ValueError, match="ONNX parser failed"):
        build_engine_bytes(fake_trt, bad, "stage1", BuildSettings(), log=lambda m: None)


def test_progress_is_reported(tiny_dir):
    log = []
    build_engine_bytes(fake_trt, tiny_dir / "stage1.onnx", "stage1", BuildSettings(), log=log.append)
    assert any("Building engine" in m for m in log) and any(m.startswith("built stage1") for m in log)


def test_heartbeat_without_progress_monitor(tiny_dir, monkeypatch):
    from atpn_edge.runtime import engine_build

    monkeypatch.delattr(fake_trt, "IProgressMonitor")
    real = fake_trt.Builder.build_serialized_network

    def slow(self, network, config):
        import time

        time.sleep(0.25)
        return real(self, network, config)

    monkeypatch.setattr(fake_trt.Builder, "build_serialized_network", slow)
    monkeypatch.setattr(engine_build._Heartbeat.__init__, "__defaults__", (0.05,))
    log = []
    build_engine_bytes(fake_trt, tiny_dir / "stage1.onnx", "stage1", BuildSettings(), log=log.append)
    assert any("still building" in m for m in log)


def test_engine_file_names_carry_the_key():
    key = EngineKey("stage1", "ab" * 32, "10.3.0", "Orin (nvgpu)", "8.7", 16, 61, "fp16", 8)
    assert key.filename() == "stage1.fp16.b8.trt10.3.0.sm87.orin-nvgpu-16sm-61g.abababababab.engine"
    calibrated = replace(key, precision="int8", calibration_sha256="cd" * 32)
    assert calibrated.filename().startswith("stage1.int8.calcdcdcdcd.b8.")
    assert engine_cache.default_cache_dir().name == "engines"


def test_calibration_crops_errors(tmp_path):
    from atpn_edge.runtime.calibrator import load_crops
    from runtime_tiny_model import INFO

    with pytest.raises(FileNotFoundError, match="no face crops"):
        load_crops(tmp_path, INFO)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="not a readable image"):
        load_crops(tmp_path, INFO)


def test_cuda_layer_raises_the_one_cuda_error():
    """Every runtime call goes through the native module, whose errors are the package's one
    CudaError (with the CUDA error number), also where the module is missing in tests."""
    from atpn_edge.cuda import CudaError, native
    from atpn_edge.cuda.errors import NO_DRIVER

    try:
        cu = native()
    except ImportError:
        pytest.skip("package built without CUDA")
    assert cu.CudaError is CudaError
    try:
        cu.device_count()
    except CudaError as exc:  # no driver here: error 35 with the runtime's own message
        assert exc.code == NO_DRIVER and "CUDA error 35" in str(exc)
