// Internals of the CPU warp shared by the scalar path and the x86 SIMD paths.
#pragma once

#include <cstring>

#include "atpn/cpu_kernels.h"

namespace atpn {
namespace cpu {
namespace detail {

// One crop pixel through the shared per-pixel math (also what the CUDA kernel runs).
inline void warp_pixel(const uint8_t* frame, int height, int width, long long stride,
                       const float* m, int x, int y, const Norm& norm, float* o0, float* o1,
                       float* o2) {
    float sx, sy, v[3];
    src_coord(m, x, y, &sx, &sy);
    sample_bgr_normalised(frame, height, width, stride, sx, sy, norm, v);
    o0[x] = v[0];
    o1[x] = v[1];
    o2[x] = v[2];
}

// SIMD interior: x0 <= width-3 keeps the 8-byte load at pixel x0 (it ends inside pixel x0+2)
// in the row; y0 <= height-2 keeps the lower taps inside the frame.
inline bool simd_interior(float sx, float sy, int width, int height) {
    return sx >= 0.f && sx < (float)(width - 2) && sy >= 0.f && sy < (float)(height - 1);
}

// Whether crop pixels 0 .. last of a row whose coordinate bases are (rbx, rby) all lie in the
// SIMD interior. The interior is convex and computed coordinates are monotonic in x (each
// rounding step is), so checking both ends is enough; rows that pass skip per-block tests.
inline bool row_interior(const float* m, float rbx, float rby, int last, int width, int height) {
    if (last < 0) return false;
    const float xe = (float)last;
    return simd_interior(fma_rn(m[0], 0.f, rbx), fma_rn(m[3], 0.f, rby), width, height) &&
           simd_interior(fma_rn(m[0], xe, rbx), fma_rn(m[3], xe, rby), width, height);
}

// ATPN_NO_X86_SIMD builds the portable path only (what aarch64 gets), to check it compiles.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(ATPN_NO_X86_SIMD)
#define ATPN_X86_DISPATCH 1
// Both need height * stride < 2^31 (32-bit offsets) and width >= 3, height >= 2.
void warp_one_avx2(const uint8_t* frame, int height, int width, long long stride, const float* m,
                   int size, const Norm& norm, float* out);
void warp_one_avx512(const uint8_t* frame, int height, int width, long long stride,
                     const float* m, int size, const Norm& norm, float* out);
#endif

#if defined(__aarch64__) && !defined(ATPN_NO_NEON)
#define ATPN_NEON 1
// Same preconditions as the x86 paths.
void warp_one_neon(const uint8_t* frame, int height, int width, long long stride, const float* m,
                   int size, const Norm& norm, float* out);
#endif

}  // namespace detail
}  // namespace cpu
}  // namespace atpn
