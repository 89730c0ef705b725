// C ABI of the CUDA kernels and device helpers (static library atpn_cuda_kernels).
//
// Every function returns 0 or a cudaError_t value; atpn_cuda_error_string() turns that into the
// CUDA runtime's message. Streams are cudaStream_t passed as void* (0 = legacy default stream).
// Keeping the ABI C-only means the pybind11 module needs no CUDA headers and another host (a
// TensorRT plugin, a C++ app) can link the same kernels.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

const char* atpn_cuda_error_string(int code);
int atpn_cuda_device_count(int* count);
// Name and compute capability of the current device; name_len includes the terminating 0.
int atpn_cuda_device_info(char* name, int name_len, int* major, int* minor);

// What the engine key and the frame upload need to know about the current device: Orin modules
// all call themselves "Orin" and differ in SM count and memory; `integrated` (Jetson) means the
// GPU reads host memory directly, so a mapped pinned frame needs no copy.
typedef struct {
    char name[256];
    int major, minor;
    int multiprocessors;
    int integrated;
    int can_map_host_memory;
    unsigned long long total_memory;
} atpn_cuda_device_props;
int atpn_cuda_get_device_props(atpn_cuda_device_props* props);
int atpn_cuda_mem_get_info(size_t* free_bytes, size_t* total_bytes);

int atpn_cuda_malloc(void** ptr, size_t bytes);
int atpn_cuda_free(void* ptr);
int atpn_cuda_malloc_host(void** ptr, size_t bytes);  // pinned, for truly async copies
int atpn_cuda_free_host(void* ptr);
// Pinned host memory mapped into the device's address space (free with atpn_cuda_free_host):
// on an integrated GPU kernels read it in place, with no copy.
int atpn_cuda_host_alloc_mapped(void** host, void** device, size_t bytes);
int atpn_cuda_memcpy_h2d_async(void* dst, const void* src, size_t bytes, void* stream);
int atpn_cuda_memcpy_d2h_async(void* dst, const void* src, size_t bytes, void* stream);
int atpn_cuda_memcpy_d2d_async(void* dst, const void* src, size_t bytes, void* stream);
int atpn_cuda_memset_async(void* dst, int value, size_t bytes, void* stream);
// A rectangle of `height` rows of `width` bytes, rows `spitch` / `dpitch` bytes apart.
int atpn_cuda_memcpy2d_h2d_async(void* dst, size_t dpitch, const void* src, size_t spitch,
                                 size_t width, size_t height, void* stream);
int atpn_cuda_stream_create(void** stream);  // non-blocking: never syncs with stream 0
int atpn_cuda_stream_get_flags(void* stream, unsigned* flags);
int atpn_cuda_stream_destroy(void* stream);
int atpn_cuda_stream_synchronize(void* stream);
int atpn_cuda_device_synchronize(void);
// The last error of this thread, cleared (cudaGetLastError): after a failed graph capture.
int atpn_cuda_get_last_error(void);

// Timing events: GPU time between two points of a stream.
int atpn_cuda_event_create(void** event);
int atpn_cuda_event_record(void* event, void* stream);
int atpn_cuda_event_elapsed_ms(float* ms, void* start, void* end);
int atpn_cuda_event_destroy(void* event);

// CUDA graphs: capture the work enqueued on `stream` (thread-local mode), replay it with one
// launch. end_capture always ends the capture; on success *graph_exec is an instantiated graph
// (the captured graph itself is released), on failure it is 0 and the error is returned
// (cudaErrorStreamCaptureInvalidated when something in between was not capturable).
int atpn_cuda_stream_begin_capture(void* stream);
int atpn_cuda_stream_end_capture(void* stream, void** graph_exec);
int atpn_cuda_stream_is_capturing(void* stream, int* capturing);  // 0 no, 1 yes, 2 invalidated
int atpn_cuda_graph_launch(void* graph_exec, void* stream);
int atpn_cuda_graph_exec_destroy(void* graph_exec);

// Crops n faces from a device BGR uint8 frame (rows `stride` bytes apart) into the device buffer
// out [n][3][size][size]. inv_affines: n crop->frame maps on the HOST (2x3 row-major floats);
// they travel as kernel arguments, so the call is fully asynchronous on `stream`.
// scale/bias: per RGB channel, value = v * scale + bias (see atpn::Norm).
int atpn_cuda_warp_crop_batch(const uint8_t* frame, int height, int width, long long stride,
                              const float* inv_affines, int n, int size, const float* scale,
                              const float* bias, float* out, void* stream);

// Max-of-Gaussians heatmaps from device landmarks [n][k][2] (crop-normalised) into the device
// buffer out [n][1][height][width]. Non-finite landmarks contribute nothing (the CPU form
// rejects them; device data cannot be checked without a sync).
int atpn_cuda_render_heatmap(const float* landmarks, int n, int k, int height, int width,
                             float sigma, float* out, void* stream);

#ifdef __cplusplus
}
#endif
