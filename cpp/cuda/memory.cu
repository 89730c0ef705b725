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

int atpn_cuda_get_device_props(atpn_cuda_device_props* props) {
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e != cudaSuccess) return e;
    cudaDeviceProp prop;
    e = cudaGetDeviceProperties(&prop, dev);
    if (e != cudaSuccess) return e;
    std::memset(props, 0, sizeof(*props));
    std::strncpy(props->name, prop.name, sizeof(props->name) - 1);
    props->major = prop.major;
    props->minor = prop.minor;
    props->multiprocessors = prop.multiProcessorCount;
    props->integrated = prop.integrated;
    props->can_map_host_memory = prop.canMapHostMemory;
    props->total_memory = (unsigned long long)prop.totalGlobalMem;
    return cudaSuccess;
}

int atpn_cuda_mem_get_info(size_t* free_bytes, size_t* total_bytes) {
    return cudaMemGetInfo(free_bytes, total_bytes);
}

int atpn_cuda_malloc(void** ptr, size_t bytes) { return cudaMalloc(ptr, bytes); }
int atpn_cuda_free(void* ptr) { return cudaFree(ptr); }
int atpn_cuda_malloc_host(void** ptr, size_t bytes) { return cudaMallocHost(ptr, bytes); }
int atpn_cuda_free_host(void* ptr) { return cudaFreeHost(ptr); }

int atpn_cuda_host_alloc_mapped(void** host, void** device, size_t bytes) {
    *host = nullptr;
    *device = nullptr;
    cudaError_t e = cudaHostAlloc(host, bytes, cudaHostAllocMapped | cudaHostAllocPortable);
    if (e != cudaSuccess) return e;
    e = cudaHostGetDevicePointer(device, *host, 0);
    if (e != cudaSuccess) {
        cudaFreeHost(*host);
        *host = nullptr;
    }
    return e;
}

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

int atpn_cuda_memcpy2d_h2d_async(void* dst, size_t dpitch, const void* src, size_t spitch,
                                 size_t width, size_t height, void* stream) {
    return cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, cudaMemcpyHostToDevice,
                             (cudaStream_t)stream);
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
int atpn_cuda_stream_get_flags(void* stream, unsigned* flags) {
    return cudaStreamGetFlags((cudaStream_t)stream, flags);
}
int atpn_cuda_get_last_error(void) { return cudaGetLastError(); }

int atpn_cuda_event_create(void** event) {
    cudaEvent_t ev = nullptr;
    cudaError_t e = cudaEventCreate(&ev);
    *event = ev;
    return e;
}
int atpn_cuda_event_record(void* event, void* stream) {
    return cudaEventRecord((cudaEvent_t)event, (cudaStream_t)stream);
}
int atpn_cuda_event_elapsed_ms(float* ms, void* start, void* end) {
    return cudaEventElapsedTime(ms, (cudaEvent_t)start, (cudaEvent_t)end);
}
int atpn_cuda_event_destroy(void* event) { return cudaEventDestroy((cudaEvent_t)event); }

int atpn_cuda_stream_begin_capture(void* stream) {
    // Thread-local: another thread's unrelated CUDA calls cannot invalidate this capture.
    return cudaStreamBeginCapture((cudaStream_t)stream, cudaStreamCaptureModeThreadLocal);
}
int atpn_cuda_stream_end_capture(void* stream, void** graph_exec) {
    *graph_exec = nullptr;
    cudaGraph_t graph = nullptr;
    cudaError_t e = cudaStreamEndCapture((cudaStream_t)stream, &graph);
    if (e != cudaSuccess) {
        if (graph) cudaGraphDestroy(graph);
        return e;
    }
    cudaGraphExec_t exec = nullptr;
    e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);  // the executable graph does not need it
    if (e != cudaSuccess) return e;
    *graph_exec = exec;
    return cudaSuccess;
}
int atpn_cuda_stream_is_capturing(void* stream, int* capturing) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    cudaError_t e = cudaStreamIsCapturing((cudaStream_t)stream, &status);
    *capturing = status == cudaStreamCaptureStatusActive ? 1 : status == cudaStreamCaptureStatusNone ? 0 : 2;
    return e;
}
int atpn_cuda_graph_launch(void* graph_exec, void* stream) {
    return cudaGraphLaunch((cudaGraphExec_t)graph_exec, (cudaStream_t)stream);
}
int atpn_cuda_graph_exec_destroy(void* graph_exec) {
    return cudaGraphExecDestroy((cudaGraphExec_t)graph_exec);
}

}  // extern "C"
