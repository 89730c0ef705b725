// atpn_edge._cuda: pybind11 wrapper over the C ABI in atpn/cuda_api.h. Device pointers, streams,
// events and graphs are plain integers here; atpn_edge/cuda/ wraps them (and accepts
// __cuda_array_interface__ objects). Every CUDA error becomes atpn_edge.cuda.errors.CudaError (a
// RuntimeError, also reachable as atpn_edge._cuda.CudaError) carrying the runtime's own message
// and the error number in `.code`.
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
#include "atpn/pixel_math.h"

namespace py = pybind11;

namespace {

struct CudaError : std::runtime_error {
    CudaError(const std::string& what, int code) : std::runtime_error(what), code(code) {}
    int code;
};

// The one CudaError class of the package lives in Python (atpn_edge/cuda/errors.py), so that code
// without this module (fakes, the CPU-only build) raises and catches the same type. The
// reference is kept for the life of the interpreter.
PyObject* cuda_error_type() {
    static PyObject* type = nullptr;
    if (!type) {
        py::object cls = py::module_::import("atpn_edge.cuda.errors").attr("CudaError");
        type = cls.release().ptr();
    }
    return type;
}

void check(int code, const char* what) {
    if (code != 0)
        throw CudaError(std::string(what) + " failed: " + atpn_cuda_error_string(code) +
                            " (CUDA error " + std::to_string(code) + ")",
                        code);
}

using Ptr = std::uintptr_t;

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
                     std::uintptr_t out, std::uintptr_t stream, py::object origin) {
    // A whole frame: `frame` is pixel (0, 0), stride >= 3 * width. With origin=(x0, y0): `frame`
    // is pixel (x0, y0) of a rectangle of the frame with its own row pitch (the pixels the crops
    // read, see atpn_edge/cuda/frame_upload.py); the kernel then addresses pixel (x, y) at
    // frame + (y - y0) * stride + 3 (x - x0), and the caller guarantees that every tap inside the
    // frame lies in the rectangle.
    if (height <= 0 || width <= 0) throw py::value_error("frame is empty");
    int x0 = 0, y0 = 0;
    if (origin.is_none()) {
        if (stride < 3LL * width) throw py::value_error("stride must be >= 3 * width");
    } else {
        auto xy = origin.cast<std::array<int, 2>>();
        x0 = xy[0];
        y0 = xy[1];
        if (x0 < 0 || y0 < 0 || x0 >= width || y0 >= height)
            throw py::value_error("origin must lie inside the frame");
        if (stride < 3) throw py::value_error("stride must be >= 3");
    }
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
        // Integer arithmetic: the shifted base is never dereferenced outside the rectangle.
        const std::uintptr_t base = frame - (std::uintptr_t)((long long)y0 * stride + 3LL * x0);
        code = atpn_cuda_warp_crop_batch(reinterpret_cast<const uint8_t*>(base), height, width,
                                         stride, inv.data(), (int)n, size, scale, bias,
                                         static_cast<float*>(ptr(out)), ptr(stream));
    }
    check(code, "warp_crop_batch");
}

void render_heatmap(std::uintptr_t landmarks, int n, int k, int height, int width, float sigma,
                    std::uintptr_t out, std::uintptr_t stream) {
    if (n < 0 || k < 0) throw py::value_error("n and k must be >= 0");
    if (height <= 0 || width <= 0) throw py::value_error("height and width must be > 0");
    if (height > atpn::kMaxHeatmapSide || width > atpn::kMaxHeatmapSide)
        throw py::value_error("heatmap " + std::to_string(height) + "x" + std::to_string(width) +
                              " is too large (at most " + std::to_string(atpn::kMaxHeatmapSide) +
                              " a side)");
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
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const CudaError& e) {
            PyObject* type = cuda_error_type();
            py::object exc = py::reinterpret_borrow<py::object>(type)(e.what(), e.code);
            PyErr_SetObject(type, exc.ptr());
        }
    });
    m.attr("CudaError") = py::reinterpret_borrow<py::object>(cuda_error_type());

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
    m.def("device_props", [] {
        atpn_cuda_device_props p;
        check(atpn_cuda_get_device_props(&p), "cudaGetDeviceProperties");
        py::dict d;
        d["name"] = std::string(p.name);
        d["major"] = p.major;
        d["minor"] = p.minor;
        d["multiprocessors"] = p.multiprocessors;
        d["integrated"] = bool(p.integrated);
        d["can_map_host_memory"] = bool(p.can_map_host_memory);
        d["total_memory"] = p.total_memory;
        return d;
    }, "Facts of the current device: name, major, minor, multiprocessors, integrated, "
       "can_map_host_memory, total_memory (bytes).");
    m.def("mem_get_info", [] {
        size_t free_bytes = 0, total = 0;
        check(atpn_cuda_mem_get_info(&free_bytes, &total), "cudaMemGetInfo");
        return py::make_tuple(free_bytes, total);
    }, "(free, total) device memory in bytes.");

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

    m.def("host_alloc_mapped", [](size_t bytes) {
        void *h = nullptr, *d = nullptr;
        check(atpn_cuda_host_alloc_mapped(&h, &d, bytes), "cudaHostAlloc (mapped)");
        return py::make_tuple(reinterpret_cast<Ptr>(h), reinterpret_cast<Ptr>(d));
    }, py::arg("bytes"), "(host pointer, device pointer) of new mapped pinned memory; free the "
       "host pointer with free_host.");
    m.def("memcpy_h2d_ptr_async", [](Ptr dst, Ptr src, size_t bytes, Ptr s) {
        check(atpn_cuda_memcpy_h2d_async(ptr(dst), ptr(src), bytes, ptr(s)),
              "cudaMemcpyAsync (host to device)");
    }, py::arg("dst"), py::arg("src"), py::arg("bytes"), py::arg("stream") = 0,
       "Copy from a host pointer (pinned memory this package allocated) to the device.");
    m.def("memcpy_d2h_ptr_async", [](Ptr dst, Ptr src, size_t bytes, Ptr s) {
        check(atpn_cuda_memcpy_d2h_async(ptr(dst), ptr(src), bytes, ptr(s)),
              "cudaMemcpyAsync (device to host)");
    }, py::arg("dst"), py::arg("src"), py::arg("bytes"), py::arg("stream") = 0);
    m.def("memcpy2d_h2d_async", [](Ptr dst, size_t dpitch, Ptr src, size_t spitch, size_t width,
                                   size_t height, Ptr s) {
        if (width > dpitch || width > spitch)
            throw py::value_error("memcpy2d: width exceeds a pitch");
        check(atpn_cuda_memcpy2d_h2d_async(ptr(dst), dpitch, ptr(src), spitch, width, height,
                                           ptr(s)),
              "cudaMemcpy2DAsync (host to device)");
    }, py::arg("dst"), py::arg("dpitch"), py::arg("src"), py::arg("spitch"), py::arg("width"),
       py::arg("height"), py::arg("stream") = 0,
       "Copy a rectangle (height rows of width bytes) from host pointer src to device dst.");
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
    m.def("stream_flags", [](Ptr s) {
        unsigned flags = 0;
        check(atpn_cuda_stream_get_flags(ptr(s), &flags), "cudaStreamGetFlags");
        return flags;
    }, py::arg("stream"), "cudaStreamGetFlags (1 = cudaStreamNonBlocking).");
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

    m.def("get_last_error", [] { return atpn_cuda_get_last_error(); },
          "Return and clear this thread's last CUDA error number (0 = none).");
    m.def("error_string", [](int code) { return std::string(atpn_cuda_error_string(code)); },
          py::arg("code"));

    m.def("event_create", [] {
        void* e = nullptr;
        check(atpn_cuda_event_create(&e), "cudaEventCreate");
        return reinterpret_cast<Ptr>(e);
    });
    m.def("event_record", [](Ptr e, Ptr s) {
        check(atpn_cuda_event_record(ptr(e), ptr(s)), "cudaEventRecord");
    }, py::arg("event"), py::arg("stream"));
    m.def("event_elapsed_ms", [](Ptr a, Ptr b) {
        float ms = 0.f;
        check(atpn_cuda_event_elapsed_ms(&ms, ptr(a), ptr(b)), "cudaEventElapsedTime");
        return ms;
    }, py::arg("start"), py::arg("end"));
    m.def("event_destroy", [](Ptr e) { check(atpn_cuda_event_destroy(ptr(e)), "cudaEventDestroy"); },
          py::arg("event"));

    m.def("begin_capture", [](Ptr s) {
        check(atpn_cuda_stream_begin_capture(ptr(s)), "cudaStreamBeginCapture");
    }, py::arg("stream"));
    m.def("end_capture", [](Ptr s) {
        void* g = nullptr;
        check(atpn_cuda_stream_end_capture(ptr(s), &g), "cudaStreamEndCapture");
        return reinterpret_cast<Ptr>(g);
    }, py::arg("stream"), "End the capture (always) and return the instantiated graph.");
    m.def("is_capturing", [](Ptr s) {
        int c = 0;
        check(atpn_cuda_stream_is_capturing(ptr(s), &c), "cudaStreamIsCapturing");
        return c;
    }, py::arg("stream"), "0 = not capturing, 1 = capturing, 2 = capture invalidated.");
    m.def("graph_launch", [](Ptr g, Ptr s) {
        check(atpn_cuda_graph_launch(ptr(g), ptr(s)), "cudaGraphLaunch");
    }, py::arg("graph"), py::arg("stream"));
    m.def("graph_destroy", [](Ptr g) {
        check(atpn_cuda_graph_exec_destroy(ptr(g)), "cudaGraphExecDestroy");
    }, py::arg("graph"));

    m.def("warp_crop_batch", &warp_crop_batch, py::arg("frame"), py::arg("height"),
          py::arg("width"), py::arg("stride"), py::arg("affines"), py::arg("size"),
          py::arg("mean"), py::arg("std"), py::arg("out"), py::arg("stream") = 0,
          py::arg("origin") = py::none(),
          "Crop N faces from a device BGR u8 frame into device f32[N,3,S,S] at out, on stream. "
          "origin=(x0, y0): frame points at that pixel of a rectangle the crops stay inside.");
    m.def("render_heatmap", &render_heatmap, py::arg("landmarks"), py::arg("n"), py::arg("k"),
          py::arg("height"), py::arg("width"), py::arg("sigma"), py::arg("out"),
          py::arg("stream") = 0,
          "Heatmaps from device landmarks f32[N,K,2] into device f32[N,1,H,W] at out, on stream.");
}
