"""Frame upload of the TensorRT pipeline: zero copy from mapped memory on an integrated GPU,
only the crops' rectangle on a discrete one; both give the CPU pipeline's results. The fake crop
kernel reads tap by tap through the allocation table (tests/fakes/cuda.py), so a rectangle that
misses a pixel the crops read fails (garbage or an out-of-allocation read)."""
from __future__ import annotations

import numpy as np
import pytest

from fakes import tensorrt as fake_trt
from fakes.cuda import FakeCuda, FakeDeviceKernels
from runtime_tiny_model import make_tiny_model

from atpn_edge.core.crop import CropParams, crop_affine
from atpn_edge.cuda.frame_upload import crop_source_rect
from atpn_edge.runtime.models import load_info, resolve_model
from atpn_edge.runtime.tensorrt_backend import TensorRTPipeline


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    pytest.importorskip("torch", reason="torch builds the tiny test model")
    return make_tiny_model(tmp_path_factory.mktemp("tiny"))


def taps_bbox(affines, size, h, w):
    """Brute force: the frame pixels the bilinear taps of every crop pixel read."""
    xs, ys = np.meshgrid(np.arange(size), np.arange(size))
    read = np.zeros((h, w), bool)
    for a in np.asarray(affines, np.float64):
        m = np.vstack([a, [0, 0, 1]])
        inv = np.linalg.inv(m)
        sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
        sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
        inside = (sx > -1) & (sx < w) & (sy > -1) & (sy < h)
        x0, y0 = np.floor(sx[inside]).astype(int), np.floor(sy[inside]).astype(int)
        for dx in (0, 1):
            for dy in (0, 1):
                xt, yt = x0 + dx, y0 + dy
                ok = (xt >= 0) & (xt < w) & (yt >= 0) & (yt < h)
                read[yt[ok], xt[ok]] = True
    return read


@pytest.mark.parametrize("seed", range(6))
def test_rect_holds_every_pixel_the_taps_read(seed):
    rng = np.random.default_rng(seed)
    h, w, size = 120, 160, 32
    params = [CropParams(tuple(rng.uniform(-30, 190, 2)), rng.uniform(10, 150), rng.uniform(-3, 3))
              for _ in range(rng.integers(1, 4))]
    affines = np.stack([crop_affine(p, size) for p in params])
    x0, y0, x1, y1 = crop_source_rect(affines, size, h, w)
    read = taps_bbox(affines, size, h, w)
    outside = read.copy()
    outside[y0:y1, x0:x1] = False
    assert not outside.any()


def test_rect_is_tight_for_a_crop_inside_the_frame():
    a = crop_affine(CropParams((80.0, 60.0), 40.0, 0.7), 32)[None]
    read = taps_bbox(a, 32, 120, 160)
    ys, xs = np.nonzero(read)
    x0, y0, x1, y1 = crop_source_rect(a, 32, 120, 160)
    assert (x0, y0) == (xs.min() - 2, ys.min() - 2) and (x1, y1) == (xs.max() + 3, ys.max() + 3)


def test_rect_of_crops_off_the_frame_is_empty():
    a = crop_affine(CropParams((-500.0, -500.0), 50.0, 0.0), 32)[None]
    x0, y0, x1, y1 = crop_source_rect(a, 32, 100, 100)
    assert x1 <= x0 or y1 <= y0


def make_pipeline(tiny_dir, tmp_path, cuda):
    files = resolve_model(tiny_dir)
    return TensorRTPipeline(files, load_info(files), max_faces=4, cache_dir=tmp_path / "cache", log=lambda m: None,
                            trt=fake_trt, cuda=cuda, device_kernels=FakeDeviceKernels())


def scenes():
    import cv2

    rng = np.random.default_rng(7)
    frame = cv2.resize(rng.integers(0, 256, (45, 80, 3), dtype=np.uint8), (1280, 720), interpolation=cv2.INTER_CUBIC)
    yield frame, [CropParams((640.0, 360.0), 150.0, 0.2)]  # one face mid-frame
    yield frame, [CropParams((60.0, 50.0), 200.0, -0.5), CropParams((1250.0, 700.0), 120.0, 0.9)]  # over the edges
    yield frame[:300, :500].copy(), [CropParams((250.0, 150.0), 260.0, 1.2)]  # smaller frame after a large one
    yield frame, [CropParams((900.0, 200.0), 80.0, 0.0), CropParams((300.0, 500.0), 100.0, -1.0),
                  CropParams((640.0, 360.0), 400.0, 0.1)]


@pytest.mark.parametrize("integrated", [True, False], ids=["zero-copy", "rectangle"])
def test_uploads_match_the_cpu_pipeline(tiny_dir, tmp_path, integrated):
    pytest.importorskip("atpn_edge.kernels", reason="native kernels not built")
    from atpn_edge.runtime import create_pipeline

    cuda = FakeCuda(integrated=integrated)
    pipe = make_pipeline(tiny_dir, tmp_path, cuda)
    assert pipe._frames.zero_copy is integrated
    cpu = create_pipeline(tiny_dir, backend="onnxruntime", max_faces=4)
    copied = []
    for frame, params in scenes():
        affines = np.stack([crop_affine(p, 112) for p in params])
        before = cuda.htod_bytes
        got, want = pipe.run(frame, affines), cpu.run(frame, affines)
        sent = cuda.htod_bytes - before
        x0, y0, x1, y1 = crop_source_rect(affines, 112, *frame.shape[:2])
        assert sent == (0 if integrated else (x1 - x0) * (y1 - y0) * 3)
        assert pipe._frames.bytes_copied == (x1 - x0) * (y1 - y0) * 3 <= frame.nbytes
        copied.append(pipe._frames.bytes_copied / frame.nbytes)
        np.testing.assert_allclose(got.landmarks_crop, want.landmarks_crop, atol=2e-3)
        np.testing.assert_allclose(got.face_score, want.face_score, atol=2e-3)
    assert copied[0] < 0.1 and copied[1] == 1.0  # one face: a few percent; faces in opposite corners: all
    pipe.close()
    assert not cuda.buffers and not cuda.host
