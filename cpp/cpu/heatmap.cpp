// CPU render_heatmap, separable: exp(-(dx^2+dy^2)/2s^2) = gx(dx) * gy(dy), so each landmark costs
// one exp per column and per row of its window instead of one per pixel, and the max over
// landmarks is a vectorisable row loop. Values come from atpn::gauss_1d, shared with CUDA.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "atpn/cpu_kernels.h"

namespace atpn {
namespace cpu {
namespace {

// Pixels i with |i + 0.5 - centre| <= radius, clipped to [0, size). Computed in double with a
// one-pixel margin: gauss_1d itself zeroes anything beyond the radius, so a slightly wide window
// costs a few exps but can never drop a pixel the CUDA kernel would keep.
bool window(float centre, float radius, int size, int* lo, int* hi) {
    double a = std::floor((double)centre - 0.5 - radius) - 1.0;
    double b = std::ceil((double)centre - 0.5 + radius) + 1.0;
    if (!(b >= 0.0 && a <= size - 1.0)) return false;  // also false for NaN
    *lo = (int)std::max(a, 0.0);
    *hi = (int)std::min(b, size - 1.0);
    return true;
}

// At namespace scope, not inside render_heatmap: its target clones then share one set.
struct Scratch {
    std::vector<float> image, gx, gy;
};
thread_local Scratch tls_scratch;

}  // namespace

size_t heatmap_scratch_bytes() {
    const Scratch& s = tls_scratch;
    return sizeof(float) * (s.image.capacity() + s.gx.capacity() + s.gy.capacity());
}

// Work is done in blocks of 8 pixels on an image whose rows are padded to a multiple of 8:
// fixed-length inner loops vectorise without scalar epilogues (an epilogue of scalar exps cost
// more than the vector body). Blocks may run past the landmark's window; those pixels get the
// exact gauss_1d value (0 beyond the cutoff), the same as the CUDA kernel computes for them.
constexpr int kBlock = 8;

// On x86-64 also compiled for AVX2 and picked at load time (the wheel's baseline is SSE2).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(ATPN_NO_X86_SIMD)
__attribute__((target_clones("avx2", "default")))
#endif
void render_heatmap(const float* landmarks, int n, int k, int height, int width, float sigma,
                    float* out) {
    const float inv = (float)(1.0 / (2.0 * (double)sigma * sigma));
    const float radius = kHeatCutoffSigmas * sigma;
    const int ws = (width + kBlock - 1) / kBlock * kBlock;   // padded row stride
    const int hs = (height + kBlock - 1) / kBlock * kBlock;
    // Per-thread buffers are reused between calls (no allocation per frame) up to a cap; a call
    // above it (a huge heatmap) gets its own buffers, freed on return, so one such call does not
    // pin its memory in the thread that made it.
    std::vector<float> own_scratch, own_gx, own_gy;
    const bool keep = (size_t)ws * height + ws + hs <= kHeatmapScratchKeepFloats;
    std::vector<float>& scratch = keep ? tls_scratch.image : own_scratch;
    std::vector<float>& gx = keep ? tls_scratch.gx : own_gx;
    std::vector<float>& gy = keep ? tls_scratch.gy : own_gy;
    scratch.resize((size_t)ws * height);
    gx.resize(ws);
    gy.resize(hs);
    for (int i = 0; i < n; ++i) {
        std::fill(scratch.begin(), scratch.end(), 0.f);
        for (int j = 0; j < k; ++j) {
            const float* l = landmarks + ((long long)i * k + j) * 2;
            const float cx = heat_centre(l[0], width), cy = heat_centre(l[1], height);
            int x0, x1, y0, y1;
            if (!window(cx, radius, width, &x0, &x1) || !window(cy, radius, height, &y0, &y1))
                continue;
            x0 = x0 / kBlock * kBlock;
            x1 = (x1 / kBlock + 1) * kBlock;  // exclusive, <= ws
            const int yb0 = y0 / kBlock * kBlock, yb1 = (y1 / kBlock + 1) * kBlock;
            for (int b = x0; b < x1; b += kBlock)
                for (int t = 0; t < kBlock; ++t) gx[b + t] = gauss_1d(b + t, cx, inv, radius);
            for (int b = yb0; b < yb1; b += kBlock)
                for (int t = 0; t < kBlock; ++t) gy[b + t] = gauss_1d(b + t, cy, inv, radius);
            for (int y = y0; y <= y1; ++y) {
                const float g = gy[y];
                float* row = scratch.data() + (size_t)y * ws;
                for (int b = x0; b < x1; b += kBlock)
                    for (int t = 0; t < kBlock; ++t) {
                        const float v = mul_rn(g, gx[b + t]);
                        row[b + t] = row[b + t] > v ? row[b + t] : v;
                    }
            }
        }
        float* img = out + (long long)i * height * width;
        for (int y = 0; y < height; ++y)
            std::memcpy(img + (size_t)y * width, scratch.data() + (size_t)y * ws,
                        sizeof(float) * width);
    }
}

}  // namespace cpu
}  // namespace atpn
