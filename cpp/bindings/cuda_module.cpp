// atpn_edge._cuda: pybind11 wrapper over the C ABI in atpn/cuda_api.h. Device pointers and
// streams are plain integers here; atpn_edge/gpu.py accepts __cuda_array_interface__ objects and
// turns them into pointers. Every CUDA error becomes atpn_edge._cuda.CudaError (a RuntimeError)
// carrying the runtime's own message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "atpn/affine.h"
#include "atpn/cuda_api.h"

namespace py = pybind11;

namespace {

struct CudaError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void check(int code, const char* what) {
    if (code != 0)
        throw CudaError(std::string(what) + " failed: " + atpn_cuda_error_string(code) +
                        " (CUDA error " + std::to_string(code) + ")");
}

void* ptr(std::uintptr_t p) { return reinterpret_cast<void*>(p); }

// Host side of a copy: a C-contiguous numpy array (its bytes) checked against the byte count.
void* host_bytes(py::array a, size_t bytes, bool writable) {
    if (!(a.flags() & py::array::c_style))
        throw py::value_error("host array must be C-contiguous");
    if ((size_t)a.nbytes() < bytes)
        throw py::value_error("host array has " + std::to_string(a.nbytes()) +
                              " bytes, the copy needs " + std::to_string(bytes));
    if (writable && !a.writeable()) throw py::value_error("host array is read-only");
    return writable ? a.mutable_data() : const_cast<void*>(a.data());
}

void warp_crop_batch(std::uintptr_t frame, int height, int width, long long stride,
                     py::array_t<double, py::array::c_style | py::array::forcecast> affines,
                     int size, std::array<double, 3> mean, std::array<double, 3> std,
                     std::uintptr_t out, std::uintptr_t stream) {
    if (height <= 0 || width <= 0) throw py::value_error("frame is empty");
    if (stride < 3LL * width) throw py::value_error("stride must be >= 3 * width");
    if (size <= 0) throw py::value_error("size must be > 0");
    if (affines.ndim() != 3 || affines.shape(1) != 2 || affines.shape(2) != 3)
        throw py::value_error("affines must have shape (N, 2, 3)");
    if (!frame || !out) throw py::value_error("frame and out must be non-null device pointers");
    float scale[3], bias[3];
    for (int c = 0; c < 3; ++c) {
        if (!std::isfinite(mean[c]) || !std::isfinite(std[c]) || !(std[c] > 0.0))
            throw py::value_error("mean must be finite and std finite and > 0");
        scale[c] = (float)(1.0 / (255.0 * std[c]));
        bias[c] = (float)(-mean[c] / std[c]);
    }
    const py::ssize_t n = affines.shape(0);
    std::vector<float> inv(6 * (size_t)n);
    for (py::ssize_t i = 0; i < n; ++i)
        atpn::invert_affine(affines.data() + 6 * i, inv.data() + 6 * i, i);
    int code;
    {
        py::gil_scoped_release release;
        code = atpn_cuda_warp_crop_batch(static_cast<const uint8_t*>(ptr(frame)), height, width,
                                         stride, inv.data(), (int)n, size, scale, bias,
                                         static_cast<float*>(ptr(out)), ptr(stream));
    }
    check(code, "warp_crop_batch");
}

void render_heatmap(std::uintptr_t landmarks, int n, int k, int height, int width, float sigma,
                    std::uintptr_t out, std::uintptr_t stream) {
    if (n < 0 || k < 0) throw py::value_error("n and k must be >= 0");
    if (height <= 0 || width <= 0) throw py::value_error("height and width must be > 0");
    if (!(sigma > 0.f) || !std::isfinite(sigma)) throw py::value_error("sigma must be > 0");
    if (!out || (!landmarks && n * k > 0))
        throw py::value_error("landmarks and out must be non-null device pointers");
    int code;
    {
        py::gil_scoped_release release;
        code = atpn_cuda_render_heatmap(static_cast<const float*>(ptr(landmarks)), n, k, height,
                                        width, sigma, static_cast<float*>(ptr(out)), ptr(stream));
    }
    check(code, "render_heatmap");
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
    m.doc() = "CUDA kernels and device helpers of atpn-edge (see atpn_edge.gpu).";
    py::register_exception<CudaError>(m, "CudaError", PyExc_RuntimeError);

    m.def("device_count", [] {
        int count = 0;
        check(atpn_cuda_device_count(&count), "cudaGetDeviceCount");
        return count;
    }, "Number of CUDA devices; raises CudaError (e.g. no driver) when the runtime cannot tell.");
    m.def("device_info", [] {
        char name[256];
        int major = 0, minor = 0;
        check(atpn_cuda_device_info(name, sizeof(name), &major, &minor), "cudaGetDeviceProperties");
        return py::make_tuple(std::string(name), major, minor);
    }, "(name, major, minor) of the current device.");

    m.def("malloc", [](size_t bytes) {
        void* p = nullptr;
        check(atpn_cuda_malloc(&p, bytes), "cudaMalloc");
        return reinterpret_cast<std::uintptr_t>(p);
    }, py::arg("bytes"));
    m.def("free", [](std::uintptr_t p) { check(atpn_cuda_free(ptr(p)), "cudaFree"); },
          py::arg("ptr"));
    m.def("malloc_host", [](size_t bytes) {
        void* p = nullptr;
        check(atpn_cuda_malloc_host(&p, bytes), "cudaMallocHost");
        return reinterpret_cast<std::uintptr_t>(p);
    }, py::arg("bytes"));
    m.def("free_host", [](std::uintptr_t p) { check(atpn_cuda_free_host(ptr(p)), "cudaFreeHost"); },
          py::arg("ptr"));

    using Ptr = std::uintptr_t;
    m.def("memcpy_h2d_async", [](Ptr dst, py::array src, size_t bytes, Ptr s) {
        void* h = host_bytes(src, bytes, false);
        check(atpn_cuda_memcpy_h2d_async(ptr(dst), h, bytes, ptr(s)),
              "cudaMemcpyAsync (host to device)");
    }, py::arg("dst"), py::arg("src"), py::arg("bytes"), py::arg("stream") = 0,
       "Copy bytes of a C-contiguous numpy array to device memory; pageable sources are staged "
       "before the call returns, pinned ones must stay alive until the stream is synchronised.");
    m.def("memcpy_d2h_async", [](py::array dst, Ptr src, size_t bytes, Ptr s) {
        void* h = host_bytes(dst, bytes, true);
        check(atpn_cuda_memcpy_d2h_async(h, ptr(src), bytes, ptr(s)),
              "cudaMemcpyAsync (device to host)");
    }, py::arg("dst"), py::arg("src"), py::arg("bytes"), py::arg("stream") = 0,
       "Copy device bytes into a C-contiguous numpy array; synchronise the stream before "
       "reading it.");
    m.def("memcpy_d2d_async", [](Ptr dst, Ptr src, size_t bytes, Ptr s) {
        check(atpn_cuda_memcpy_d2d_async(ptr(dst), ptr(src), bytes, ptr(s)),
              "cudaMemcpyAsync (device to device)");
    }, py::arg("dst"), py::arg("src"), py::arg("bytes"), py::arg("stream") = 0);
    m.def("memset_async", [](std::uintptr_t dst, int value, size_t bytes, std::uintptr_t s) {
        check(atpn_cuda_memset_async(ptr(dst), value, bytes, ptr(s)), "cudaMemsetAsync");
    }, py::arg("dst"), py::arg("value"), py::arg("bytes"), py::arg("stream") = 0);

    m.def("stream_create", [] {
        void* s = nullptr;
        check(atpn_cuda_stream_create(&s), "cudaStreamCreate");
        return reinterpret_cast<std::uintptr_t>(s);
    }, "A new non-blocking stream, as an integer handle.");
    m.def("stream_destroy",
          [](Ptr s) { check(atpn_cuda_stream_destroy(ptr(s)), "cudaStreamDestroy"); },
          py::arg("stream"));
    m.def("stream_synchronize", [](std::uintptr_t s) {
        int code;
        {
            py::gil_scoped_release release;
            code = atpn_cuda_stream_synchronize(ptr(s));
        }
        check(code, "cudaStreamSynchronize");
    }, py::arg("stream"));
    m.def("device_synchronize", [] {
        int code;
        {
            py::gil_scoped_release release;
            code = atpn_cuda_device_synchronize();
        }
        check(code, "cudaDeviceSynchronize");
    });

    m.def("warp_crop_batch", &warp_crop_batch, py::arg("frame"), py::arg("height"),
          py::arg("width"), py::arg("stride"), py::arg("affines"), py::arg("size"),
          py::arg("mean"), py::arg("std"), py::arg("out"), py::arg("stream") = 0,
          "Crop N faces from a device BGR u8 frame into device f32[N,3,S,S] at out, on stream.");
    m.def("render_heatmap", &render_heatmap, py::arg("landmarks"), py::arg("n"), py::arg("k"),
          py::arg("height"), py::arg("width"), py::arg("sigma"), py::arg("out"),
          py::arg("stream") = 0,
          "Heatmaps from device landmarks f32[N,K,2] into device f32[N,1,H,W] at out, on stream.");
}
