"""CUDA kernels against the CPU kernels (whose math they share) and device helpers.

Skipped without a usable GPU; scripts/gpu_check.sh builds for the local GPU and runs these.
The CPU warp and heatmap run the same float operations in the same order as the device code
(pixel_math.h: no FMA contraction, same exp), so results are expected to match exactly; the
1e-6 tolerance only allows for a device libm difference in floorf, never for a wrong tap.
"""
from __future__ import annotations

import numpy as np
import pytest

from atpn_edge import _cpu, kernels
from atpn_edge.cuda import (DeviceBuffer, check_device_array as _check_device_array, device_ptr,
                            gpu_status, native as cuda_module, render_heatmap_cuda, stream_handle,
                            warp_crop_batch_cuda)
from kernel_refs import MEAN, STD, case_affines, fresh_rng

AVAILABLE, REASON = gpu_status()
needs_gpu = pytest.mark.skipif(not AVAILABLE, reason=REASON)


def cpu_scalar_warp(frame, affines, size):
    out = np.empty((len(affines), 3, size, size), np.float32)
    _cpu.warp_crop_batch(frame, np.ascontiguousarray(affines, np.float64), size, MEAN, STD, out,
                         "scalar")
    return out


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize("hw", [(720, 1280), (37, 53), (1, 1)])
@pytest.mark.parametrize("n", [1, 8, 70])  # 70 > 64 affines per launch: several launches
def test_warp_cuda_matches_cpu(hw, n):
    rng, _ = fresh_rng()
    frame = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
    size = 112
    affines = case_affines(rng, *hw, size, n)
    cu = cuda_module()
    stream = cu.stream_create()
    try:
        dframe = DeviceBuffer(frame.shape, np.uint8).upload(frame, stream)
        out = DeviceBuffer((n, 3, size, size), np.float32)
        cu.memset_async(out.ptr, 0xFF, out.nbytes, stream)  # NaN fill: every value must be written
        warp_crop_batch_cuda(dframe, affines, size, MEAN, STD, out, stream)
        got = out.download(stream)
    finally:
        cu.stream_destroy(stream)
    want = cpu_scalar_warp(frame, affines, size)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.cuda
@needs_gpu
def test_warp_cuda_host_frame_and_raw_pointers():
    rng, _ = fresh_rng()
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    affines = case_affines(rng, 240, 320, 64, 3)
    want = cpu_scalar_warp(frame, affines, 64)
    with DeviceBuffer((3, 3, 64, 64)) as out:
        warp_crop_batch_cuda(frame, affines, 64, MEAN, STD, out)  # host frame, temporary staging
        np.testing.assert_allclose(out.download(), want, rtol=0, atol=1e-6)
    with DeviceBuffer(frame.shape, np.uint8) as dframe, DeviceBuffer((3, 3, 64, 64)) as out:
        dframe.upload(frame)
        warp_crop_batch_cuda(dframe.ptr, affines, 64, MEAN, STD, out.ptr, 0, frame_shape=(240, 320))
        np.testing.assert_allclose(out.download(), want, rtol=0, atol=1e-6)


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize("n", [1, 8])
@pytest.mark.parametrize("k", [68, 98])
@pytest.mark.parametrize("hw", [(28, 28), (56, 56), (64, 64), (28, 40)])  # 98 x (64+64) chunks
def test_heatmap_cuda_matches_cpu(n, k, hw):
    rng, _ = fresh_rng()
    lm = rng.uniform(-0.2, 1.2, (n, k, 2)).astype(np.float32)
    sigma = float(rng.uniform(0.5, 3.0))
    want = kernels.render_heatmap(lm, *hw, sigma)
    with DeviceBuffer(lm.shape) as dlm, DeviceBuffer((n, 1, *hw)) as out:
        dlm.upload(lm)
        render_heatmap_cuda(dlm, *hw, sigma, out)
        got = out.download()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.cuda
@needs_gpu
def test_heatmap_cuda_host_landmarks_are_validated():
    lm = np.full((1, 68, 2), 0.5, np.float32)
    with DeviceBuffer((1, 1, 28, 28)) as out:
        render_heatmap_cuda(lm, 28, 28, 1.5, out)
        assert out.download().max() == 1.0  # a point exactly on a pixel centre
        lm[0, 3, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            render_heatmap_cuda(lm, 28, 28, 1.5, out)
        with pytest.raises(ValueError, match="sigma"):
            render_heatmap_cuda(lm, 28, 28, 0.0, out)


@pytest.mark.cuda
@needs_gpu
def test_device_helpers_round_trip():
    cu = cuda_module()
    host = np.arange(1000, dtype=np.float32)
    with DeviceBuffer(host.shape) as a, DeviceBuffer(host.shape) as b:
        a.upload(host)
        cu.memcpy_d2d_async(b.ptr, a.ptr, a.nbytes, 0)
        np.testing.assert_array_equal(b.download(), host)
        cu.memset_async(b.ptr, 0, b.nbytes, 0)
        np.testing.assert_array_equal(b.download(), 0.0)
        assert device_ptr(a) == a.ptr
    pinned = cu.malloc_host(64)
    cu.free_host(pinned)


@pytest.mark.cuda
@needs_gpu
def test_cuda_errors_carry_the_runtime_message():
    cu = cuda_module()
    with pytest.raises(cu.CudaError, match="memory"):
        cu.malloc(1 << 60)  # an allocation error is not sticky: later tests still run
    with pytest.raises(ValueError, match="shape"):
        with DeviceBuffer((1, 3, 32, 32)) as out:
            warp_crop_batch_cuda(np.zeros((8, 8, 3), np.uint8), np.eye(2, 3)[None], 16, MEAN,
                                 STD, out)
    with pytest.raises(ValueError, match="singular"):
        with DeviceBuffer((1, 3, 16, 16)) as out:
            warp_crop_batch_cuda(np.zeros((8, 8, 3), np.uint8), np.zeros((1, 2, 3)), 16, MEAN,
                                 STD, out)


@pytest.mark.cuda
@needs_gpu
def test_cuda_array_interface_of_torch():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    rng, _ = fresh_rng()
    frame = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    affines = case_affines(rng, 120, 160, 32, 2)
    tframe = torch.from_numpy(frame).cuda()
    tout = torch.empty((2, 3, 32, 32), device="cuda", dtype=torch.float32)
    stream = torch.cuda.current_stream()
    warp_crop_batch_cuda(tframe, affines, 32, MEAN, STD, tout, stream)
    stream.synchronize()
    np.testing.assert_allclose(tout.cpu().numpy(), cpu_scalar_warp(frame, affines, 32), atol=1e-6)


# ------------------------------------------------------ runs everywhere: no device memory touched

class FakeDeviceArray:
    def __init__(self, shape, typestr, ptr=0x1000, strides=None):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (ptr, False),
                                         "strides": strides, "version": 3}


def test_gpu_status_explains_itself():
    ok, reason = gpu_status()
    assert isinstance(ok, bool) and isinstance(reason, str) and reason


def test_device_pointers_and_streams_from_foreign_objects():
    assert device_ptr(1234) == 1234
    assert device_ptr(FakeDeviceArray((2, 3), "<f4", ptr=0xABC)) == 0xABC
    with pytest.raises(TypeError, match="__cuda_array_interface__"):
        device_ptr(np.zeros(3))
    class TorchLike:
        cuda_stream = 77
    class CupyLike:
        ptr = 88
    assert (stream_handle(None), stream_handle(5), stream_handle(TorchLike()),
            stream_handle(CupyLike())) == (0, 5, 77, 88)


def test_device_array_checks():
    _check_device_array(FakeDeviceArray((1, 3, 4, 4), "<f4"), "out", "<f4", (1, 3, 4, 4))
    _check_device_array(FakeDeviceArray((1, 3, 4, 4), "<f4", strides=(192, 64, 16, 4)), "out",
                        "<f4", (1, 3, 4, 4))
    with pytest.raises(TypeError, match="float32"):
        _check_device_array(FakeDeviceArray((1, 3, 4, 4), "<f2"), "out", "<f4", (1, 3, 4, 4))
    with pytest.raises(ValueError, match="shape"):
        _check_device_array(FakeDeviceArray((1, 3, 4, 5), "<f4"), "out", "<f4", (1, 3, 4, 4))
    with pytest.raises(ValueError, match="C-contiguous"):
        _check_device_array(FakeDeviceArray((1, 3, 4, 4), "<f4", strides=(192, 64, 4, 16)),
                            "out", "<f4", (1, 3, 4, 4))


# ------------------------------------------- the pipeline's device paths (run where a GPU is)

@pytest.mark.cuda
@needs_gpu
def test_heatmap_cuda_nan_landmarks_draw_nothing():
    rng, _ = fresh_rng()
    lm = rng.uniform(0.1, 0.9, (2, 68, 2)).astype(np.float32)
    lm[0, 3, 1] = np.nan
    lm[1, 9] = [np.inf, np.nan]
    want = np.empty((2, 1, 28, 28), np.float32)
    _cpu.render_heatmap(lm, 1.5, want, "skip")
    with DeviceBuffer(lm.shape) as dlm, DeviceBuffer((2, 1, 28, 28)) as out:
        dlm.upload(lm)
        render_heatmap_cuda(dlm, 28, 28, 1.5, out)  # device data: not checked, NaN draws nothing
        got = out.download()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.cuda
@needs_gpu
@pytest.mark.parametrize("zero_copy", [True, False], ids=["mapped", "rectangle"])
def test_frame_staging_feeds_the_kernel_like_a_whole_frame(zero_copy):
    """Both upload paths of the TensorRT pipeline against the CPU kernel, on the real GPU."""
    from atpn_edge.cuda import Cuda, DeviceKernels
    from atpn_edge.cuda.frame_upload import FrameStaging

    cuda = Cuda()
    if zero_copy and not cuda.props.can_map_host_memory:
        pytest.skip("this GPU cannot map host memory")
    rng, _ = fresh_rng()
    frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    size = 112
    k = DeviceKernels()
    stream = cuda.stream_create()
    staging = FrameStaging(cuda, zero_copy=zero_copy)
    try:
        for n in (1, 3, 1, 4):
            affines = case_affines(rng, 720, 1280, size, n)
            out = DeviceBuffer((n, 3, size, size), np.float32)
            ptr, stride, origin = staging.stage(frame, affines, size, stream)
            k.warp_crop_batch(ptr, 720, 1280, stride, np.ascontiguousarray(affines, np.float64), size,
                              MEAN, STD, out.ptr, stream, None if origin == (0, 0) else origin)
            got = out.download(stream)
            np.testing.assert_allclose(got, cpu_scalar_warp(frame, affines, size), rtol=0, atol=1e-6)
            out.close()
    finally:
        staging.close()
        cuda.stream_destroy(stream)


@pytest.mark.cuda
@needs_gpu
def test_runtime_layer_stream_events_and_graphs():
    from atpn_edge.cuda import Cuda

    cuda = Cuda()
    assert cuda.props.multiprocessors > 0 and cuda.props.total_memory > 0
    free, total = cuda.mem_info()
    assert 0 < free <= total
    stream = cuda.stream_create()
    assert cuda.stream_flags(stream) & 1  # cudaStreamNonBlocking: never waits for stream 0
    lm = np.full((1, 68, 2), 0.5, np.float32)
    host, host_ptr = cuda.host_array((28 * 28,), np.float32)
    with DeviceBuffer(lm.shape) as dlm, DeviceBuffer((1, 1, 28, 28)) as out:
        dlm.upload(lm, stream)
        cuda.synchronize(stream)
        start, end = cuda.event_create(), cuda.event_create()
        cuda.begin_capture(stream)
        render_heatmap_cuda(dlm, 28, 28, 1.5, out, stream)
        cuda.dtoh_async(host_ptr, out.ptr, out.nbytes, stream)
        graph = cuda.end_capture(stream)
        cuda.event_record(start, stream)
        cuda.graph_launch(graph, stream)
        cuda.event_record(end, stream)
        cuda.synchronize(stream)
        assert host.max() == 1.0 and cuda.event_elapsed_ms(start, end) >= 0.0
        cuda.graph_destroy(graph)
        cuda.event_destroy(start)
        cuda.event_destroy(end)
    assert cuda.clear_error() == 0
    cuda.free_host(host_ptr)
    cuda.stream_destroy(stream)
