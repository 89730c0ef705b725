// Per-pixel math shared by the CPU kernels and the CUDA kernels (formulas: docs/SPEC.md, Kernels).
//
// Every function here is compiled twice: by the host compiler for cpu/*.cpp and by nvcc for
// cuda/*.cu. Keeping one definition means the CPU tests check the arithmetic the GPU runs.
// Each operation is rounded explicitly: fused multiply-adds where written (fmaf on the host,
// __fmaf_rn on the device, vfmadd in the SIMD path) and no compiler contraction elsewhere (the
// CPU sources are built with -ffp-contract=off, the device side uses __fmul_rn/__fadd_rn), so
// the scalar CPU path, the SIMD CPU path and the GPU produce the same floats.
#pragma once

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define ATPN_HD __host__ __device__ __forceinline__
#else
#define ATPN_HD inline
#endif

namespace atpn {

ATPN_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

ATPN_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

// a * b + c with one rounding. On x86 hosts without FMA hardware glibc emulates it (slowly but
// exactly); the warp kernel's AVX2 path, where speed matters, requires FMA.
ATPN_HD float fma_rn(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
    return __fmaf_rn(a, b, c);
#else
    return fmaf(a, b, c);
#endif
}

// a + t * (b - a): one subtraction, one fused multiply-add.
ATPN_HD float lerp_rn(float a, float b, float t) { return fma_rn(t, add_rn(b, -a), a); }

// Crop pixel (x, y) -> frame coordinates through the inverse affine m (row-major 2x3).
// The row base (m[1]*y + m[2]) is computed first so that a SIMD row loop can hoist it.
ATPN_HD void src_coord(const float* m, int x, int y, float* sx, float* sy) {
    float bx = fma_rn(m[1], (float)y, m[2]);
    float by = fma_rn(m[4], (float)y, m[5]);
    *sx = fma_rn(m[0], (float)x, bx);
    *sy = fma_rn(m[3], (float)x, by);
}

// Per-channel normalisation folded into one multiply-add: (v/255 - mean)/std = v*scale + bias.
struct Norm {
    float scale[3];  // output channel order (R, G, B)
    float bias[3];
};

// Bilinear sample of a BGR uint8 frame at (sx, sy) with a constant 0 border (OpenCV
// INTER_LINEAR + BORDER_CONSTANT semantics: taps outside the frame count as 0), then normalised.
// out[c] is written for RGB channel c. Any coordinate outside (-1, W) x (-1, H), NaN included,
// touches no pixel and gives the normalised value of 0.
ATPN_HD void sample_bgr_normalised(const uint8_t* frame, int height, int width, long long stride,
                                   float sx, float sy, const Norm& norm, float* out) {
    float acc[3] = {0.f, 0.f, 0.f};
    if (sx > -1.f && sx < (float)width && sy > -1.f && sy < (float)height) {
        const int x0 = (int)floorf(sx);
        const int y0 = (int)floorf(sy);
        const float fx = add_rn(sx, -(float)x0);
        const float fy = add_rn(sy, -(float)y0);
        float tap[4][3];  // (x0,y0), (x0+1,y0), (x0,y0+1), (x0+1,y0+1); BGR
        if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
            // All four taps inside: no per-tap tests (most pixels; the branch-free body is
            // what the compiler schedules well).
            const uint8_t* r0 = frame + (long long)y0 * stride + (long long)x0 * 3;
            for (int c = 0; c < 3; ++c) {
                tap[0][c] = (float)r0[c];
                tap[1][c] = (float)r0[3 + c];
                tap[2][c] = (float)r0[stride + c];
                tap[3][c] = (float)r0[stride + 3 + c];
            }
        } else {
            for (int t = 0; t < 4; ++t) {
                const int xt = x0 + (t & 1), yt = y0 + (t >> 1);
                const bool in = xt >= 0 && xt < width && yt >= 0 && yt < height;
                const uint8_t* p = frame + (in ? (long long)yt * stride + (long long)xt * 3 : 0);
                for (int c = 0; c < 3; ++c) tap[t][c] = in ? (float)p[c] : 0.f;
            }
        }
        for (int c = 0; c < 3; ++c) {
            const float top = lerp_rn(tap[0][c], tap[1][c], fx);
            const float bot = lerp_rn(tap[2][c], tap[3][c], fx);
            acc[2 - c] = lerp_rn(top, bot, fy);
        }
    }
    for (int c = 0; c < 3; ++c) out[c] = fma_rn(acc[c], norm.scale[c], norm.bias[c]);
}

// exp(x) for x <= 0 by range reduction (x = n ln2 + r, |r| <= ln2/2) and Cephes' polynomial:
// within 2 ulp of expf over [-87, 0], 0 below. Branch-free so host loops vectorise; the GPU
// calls the same code so CPU and CUDA heatmaps agree bit for bit.
ATPN_HD float exp_neg(float x) {
    x = x < -87.f ? -87.f : x;
    float n = (float)(int)(mul_rn(x, 1.44269504088896341f) - 0.5f);  // round-to-nearest for x <= 0
    float r = add_rn(x, -mul_rn(n, 0.693359375f));
    r = add_rn(r, mul_rn(n, 2.12194440e-4f));
    float p = 1.9875691500e-4f;
    p = add_rn(mul_rn(p, r), 1.3981999507e-3f);
    p = add_rn(mul_rn(p, r), 8.3334519073e-3f);
    p = add_rn(mul_rn(p, r), 4.1665795894e-2f);
    p = add_rn(mul_rn(p, r), 1.6666665459e-1f);
    p = add_rn(mul_rn(p, r), 5.0000001201e-1f);
    float r2 = mul_rn(r, r);
    p = add_rn(add_rn(mul_rn(p, r2), r), 1.f);
    int bits = ((int)n + 127) << 23;  // 2^n, n in [-126, 0]
    float scale;
#if defined(__CUDA_ARCH__)
    scale = __int_as_float(bits);
#else
    __builtin_memcpy(&scale, &bits, sizeof(scale));
#endif
    return mul_rn(p, scale);
}

// Gaussians below 1e-7 of the peak are skipped: exp(-d^2/(2 s^2)) < 1e-7 beyond
// d = sigma * sqrt(2 ln 1e7), so skipping changes an output by less than 1e-7 (float rounding of
// values near the peak of 1) and lets both kernels touch only a small window per landmark.
constexpr float kHeatCutoffSigmas = 5.6777f;

// Largest heatmap side the kernels accept (heatmaps are 28-64 pixels; 4096 keeps the CPU's
// per-call scratch under 64 MiB and the CUDA kernel's per-landmark table in shared memory).
constexpr int kMaxHeatmapSide = 4096;

// Landmark coordinate in heatmap pixels (Wh * l[n,k,0], Hh * l[n,k,1]). A NaN landmark (a
// network that diverged; device data is never checked) becomes +inf here, once per landmark:
// an infinite centre is beyond every cutoff, so it draws nothing, whereas NaN would poison the
// whole heatmap (gauss_1d's `g * 0` is NaN for NaN g, and NaN wins every max on the GPU).
ATPN_HD float heat_centre(float l, int size) {
    const float c = mul_rn(l, (float)size);
    return c == c ? c : INFINITY;
}

// One axis of one landmark's Gaussian: exp(-(i + 0.5 - centre)^2 / (2 sigma^2)), or 0 beyond the
// cutoff radius (infinite centres give 0: exp_neg clamps -inf, the factor is 0). Centres must not
// be NaN (heat_centre guarantees it). The 2D value is gauss_1d(x) * gauss_1d(y).
ATPN_HD float gauss_1d(int i, float centre, float inv_two_sigma2, float radius) {
    float d = add_rn((float)i + 0.5f, -centre);
    float g = exp_neg(-mul_rn(mul_rn(d, d), inv_two_sigma2));
    // A multiply by 1 or 0 rather than `? g : 0`: GCC turns the select into a branch around the
    // exp, which stops the CPU loops from vectorising.
    return mul_rn(g, fabsf(d) <= radius ? 1.f : 0.f);
}

}  // namespace atpn
