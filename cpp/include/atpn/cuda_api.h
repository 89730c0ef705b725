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

int atpn_cuda_malloc(void** ptr, size_t bytes);
int atpn_cuda_free(void* ptr);
int atpn_cuda_malloc_host(void** ptr, size_t bytes);  // pinned, for truly async copies
int atpn_cuda_free_host(void* ptr);
int atpn_cuda_memcpy_h2d_async(void* dst, const void* src, size_t bytes, void* stream);
int atpn_cuda_memcpy_d2h_async(void* dst, const void* src, size_t bytes, void* stream);
int atpn_cuda_memcpy_d2d_async(void* dst, const void* src, size_t bytes, void* stream);
int atpn_cuda_memset_async(void* dst, int value, size_t bytes, void* stream);
int atpn_cuda_stream_create(void** stream);
int atpn_cuda_stream_destroy(void* stream);
int atpn_cuda_stream_synchronize(void* stream);
int atpn_cuda_device_synchronize(void);

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
