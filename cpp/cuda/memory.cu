// Device memory, copies and streams behind the C ABI, so that a TensorRT pipeline can keep the
// frame, the crops, the landmarks and the heatmaps on the GPU between stages.
#include <cuda_runtime.h>

#include <cstring>

#include "atpn/cuda_api.h"

extern "C" {

const char* atpn_cuda_error_string(int code) {
    return cudaGetErrorString(static_cast<cudaError_t>(code));
}

int atpn_cuda_device_count(int* count) {
    *count = 0;
    return cudaGetDeviceCount(count);
}

int atpn_cuda_device_info(char* name, int name_len, int* major, int* minor) {
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e != cudaSuccess) return e;
    cudaDeviceProp prop;
    e = cudaGetDeviceProperties(&prop, dev);
    if (e != cudaSuccess) return e;
    if (name_len > 0) {
        std::strncpy(name, prop.name, (size_t)name_len - 1);
        name[name_len - 1] = '\0';
    }
    *major = prop.major;
    *minor = prop.minor;
    return cudaSuccess;
}

int atpn_cuda_malloc(void** ptr, size_t bytes) { return cudaMalloc(ptr, bytes); }
int atpn_cuda_free(void* ptr) { return cudaFree(ptr); }
int atpn_cuda_malloc_host(void** ptr, size_t bytes) { return cudaMallocHost(ptr, bytes); }
int atpn_cuda_free_host(void* ptr) { return cudaFreeHost(ptr); }

int atpn_cuda_memcpy_h2d_async(void* dst, const void* src, size_t bytes, void* stream) {
    return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, (cudaStream_t)stream);
}
int atpn_cuda_memcpy_d2h_async(void* dst, const void* src, size_t bytes, void* stream) {
    return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, (cudaStream_t)stream);
}
int atpn_cuda_memcpy_d2d_async(void* dst, const void* src, size_t bytes, void* stream) {
    return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, (cudaStream_t)stream);
}
int atpn_cuda_memset_async(void* dst, int value, size_t bytes, void* stream) {
    return cudaMemsetAsync(dst, value, bytes, (cudaStream_t)stream);
}

int atpn_cuda_stream_create(void** stream) {
    cudaStream_t s = nullptr;
    cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    *stream = s;
    return e;
}
int atpn_cuda_stream_destroy(void* stream) { return cudaStreamDestroy((cudaStream_t)stream); }
int atpn_cuda_stream_synchronize(void* stream) {
    return cudaStreamSynchronize((cudaStream_t)stream);
}
int atpn_cuda_device_synchronize(void) { return cudaDeviceSynchronize(); }

}  // extern "C"
