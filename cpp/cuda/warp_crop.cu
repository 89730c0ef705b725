// CUDA warp_crop: one thread per crop pixel, all three output planes written straight into the
// caller's device buffer (the engine's input binding). The per-pixel math is the CPU's
// (atpn::src_coord + atpn::sample_bgr_normalised), so CPU tests cover it.
#include <cuda_runtime.h>

#include "atpn/cuda_api.h"
#include "atpn/pixel_math.h"

namespace {

// Affines travel as kernel arguments (no device allocation, no extra copy on the stream);
// larger batches are split into several launches.
constexpr int kMaxAffinesPerLaunch = 64;

struct WarpParams {
    float inv[kMaxAffinesPerLaunch][6];
    atpn::Norm norm;
};

__global__ void warp_crop_kernel(const uint8_t* __restrict__ frame, int height, int width,
                                 long long stride, int size, WarpParams p, float* out) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    const int i = blockIdx.z;
    if (x >= size || y >= size) return;
    float sx, sy, v[3];
    atpn::src_coord(p.inv[i], x, y, &sx, &sy);
    atpn::sample_bgr_normalised(frame, height, width, stride, sx, sy, p.norm, v);
    const long long plane = (long long)size * size;
    float* o = out + 3 * plane * i + (long long)y * size + x;
    o[0] = v[0];
    o[plane] = v[1];
    o[2 * plane] = v[2];
}

}  // namespace

extern "C" int atpn_cuda_warp_crop_batch(const uint8_t* frame, int height, int width,
                                         long long stride, const float* inv_affines, int n,
                                         int size, const float* scale, const float* bias,
                                         float* out, void* stream) {
    if (n <= 0) return cudaSuccess;
    if (size <= 0 || height <= 0 || width <= 0) return cudaErrorInvalidValue;
    WarpParams p;
    for (int c = 0; c < 3; ++c) {
        p.norm.scale[c] = scale[c];
        p.norm.bias[c] = bias[c];
    }
    const dim3 block(32, 8);
    for (int start = 0; start < n; start += kMaxAffinesPerLaunch) {
        const int count = n - start < kMaxAffinesPerLaunch ? n - start : kMaxAffinesPerLaunch;
        for (int i = 0; i < count; ++i)
            for (int j = 0; j < 6; ++j) p.inv[i][j] = inv_affines[6 * (start + i) + j];
        const dim3 grid((size + block.x - 1) / block.x, (size + block.y - 1) / block.y, count);
        warp_crop_kernel<<<grid, block, 0, (cudaStream_t)stream>>>(
            frame, height, width, stride, size, p, out + 3LL * size * size * start);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
}
