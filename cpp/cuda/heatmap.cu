// CUDA render_heatmap: one block per face. The block first tabulates each landmark's 1D
// Gaussians along x and y in shared memory (the CPU's separable trick, same atpn::gauss_1d), then
// every thread takes pixels and maxes gx * gy over landmarks. Landmarks are processed in chunks
// that fit the 48 KB of static shared memory, so any K and heatmap size works.
#include <cuda_runtime.h>

#include "atpn/cuda_api.h"
#include "atpn/pixel_math.h"

namespace {

constexpr int kSharedFloats = 48 * 1024 / sizeof(float);
constexpr int kThreads = 256;

__global__ void heatmap_kernel(const float* __restrict__ landmarks, int k, int height, int width,
                               float inv_two_sigma2, float radius, int chunk, float* out) {
    __shared__ float table[kSharedFloats];
    const int face = blockIdx.x;
    const float* l = landmarks + (long long)face * k * 2;
    float* img = out + (long long)face * height * width;
    const int row = width + height;  // per landmark: width x-values then height y-values
    const int pixels = height * width;

    // Each thread owns the same pixels for every chunk, so the running max stays in its slot of
    // the output and no second shared buffer is needed.
    for (int p = threadIdx.x; p < pixels; p += blockDim.x) img[p] = 0.f;
    for (int k0 = 0; k0 < k; k0 += chunk) {
        const int kc = k - k0 < chunk ? k - k0 : chunk;
        __syncthreads();  // the previous chunk's table is no longer read
        for (int t = threadIdx.x; t < kc * row; t += blockDim.x) {
            const int j = t / row, i = t % row;
            const float* lj = l + 2 * (k0 + j);
            table[t] = i < width
                           ? atpn::gauss_1d(i, atpn::heat_centre(lj[0], width), inv_two_sigma2, radius)
                           : atpn::gauss_1d(i - width, atpn::heat_centre(lj[1], height),
                                            inv_two_sigma2, radius);
        }
        __syncthreads();
        for (int p = threadIdx.x; p < pixels; p += blockDim.x) {
            const int y = p / width, x = p % width;
            float m = img[p];
            for (int j = 0; j < kc; ++j) {
                const float v = atpn::mul_rn(table[j * row + width + y], table[j * row + x]);
                m = m > v ? m : v;
            }
            img[p] = m;
        }
    }
}

}  // namespace

extern "C" int atpn_cuda_render_heatmap(const float* landmarks, int n, int k, int height,
                                        int width, float sigma, float* out, void* stream) {
    if (n <= 0) return cudaSuccess;
    if (k < 0 || height <= 0 || width <= 0 || !(sigma > 0.f)) return cudaErrorInvalidValue;
    const int row = width + height;
    if (row > kSharedFloats) return cudaErrorInvalidValue;  // > 12k pixels a side: not a heatmap
    const int chunk = kSharedFloats / row;
    const float inv = (float)(1.0 / (2.0 * (double)sigma * sigma));
    heatmap_kernel<<<n, kThreads, 0, (cudaStream_t)stream>>>(
        landmarks, k, height, width, inv, atpn::kHeatCutoffSigmas * sigma, chunk, out);
    return cudaGetLastError();
}
