// NEON path of the CPU warp (aarch64: Jetson's CPU): the AVX2 path (see warp_crop_avx2.cpp) on 4
// crop pixels at a time, with the same float operations in the same order as
// atpn::sample_bgr_normalised (vfmaq_f32 is the same single-rounding FMA as fmaf), so results
// equal the scalar path's bit for bit.
#include "warp_internal.h"

#if ATPN_NEON
#include <arm_neon.h>

namespace atpn {
namespace cpu {
namespace detail {

namespace {

// Byte `shift / 8` of each lane as float.
inline float32x4_t channel(uint32x4_t taps, int shift) {
    return vcvtq_f32_u32(vandq_u32(vshlq_u32(taps, vdupq_n_s32(-shift)), vdupq_n_u32(0xff)));
}

// Low 32 bits of each 64-bit load, in pixel order.
inline uint32x4_t low_dwords(uint64x2_t p01, uint64x2_t p23) {
    return vcombine_u32(vmovn_u64(p01), vmovn_u64(p23));
}

}  // namespace

void warp_one_neon(const uint8_t* frame, int height, int width, long long stride, const float* m,
                   int size, const Norm& norm, float* out) {
    const long long plane = (long long)size * size;
    const float lane_init[4] = {0.f, 1.f, 2.f, 3.f};
    const float32x4_t lane = vld1q_f32(lane_init);
    const float32x4_t zero = vdupq_n_f32(0.f);
    // Interior bounds: see simd_interior().
    const float32x4_t xmax = vdupq_n_f32((float)(width - 2));
    const float32x4_t ymax = vdupq_n_f32((float)(height - 1));
    const float32x4_t m0 = vdupq_n_f32(m[0]), m3 = vdupq_n_f32(m[3]);
    const int32x4_t vstride = vdupq_n_s32((int)stride);
    const uint8_t* f1 = frame + stride;
    for (int y = 0; y < size; ++y) {
        float* o[3];
        o[0] = out + (long long)y * size;
        o[1] = o[0] + plane;
        o[2] = o[1] + plane;
        const float rbx = fma_rn(m[1], (float)y, m[2]), rby = fma_rn(m[4], (float)y, m[5]);
        const float32x4_t bx = vdupq_n_f32(rbx), by = vdupq_n_f32(rby);
        const int full = size / 4 * 4;
        const bool row_inside = row_interior(m, rbx, rby, full - 1, width, height);
        int x = 0;
        for (; x < full; x += 4) {
            const float32x4_t xv = vaddq_f32(vdupq_n_f32((float)x), lane);
            const float32x4_t sx = vfmaq_f32(bx, m0, xv);  // bx + m0 * xv, one rounding
            const float32x4_t sy = vfmaq_f32(by, m3, xv);
            if (!row_inside) {
                const uint32x4_t in = vandq_u32(
                    vandq_u32(vcgeq_f32(sx, zero), vcltq_f32(sx, xmax)),
                    vandq_u32(vcgeq_f32(sy, zero), vcltq_f32(sy, ymax)));
                if (vminvq_u32(in) == 0) {
                    for (int i = x; i < x + 4; ++i)
                        warp_pixel(frame, height, width, stride, m, i, y, norm, o[0], o[1], o[2]);
                    continue;
                }
            }
            // sx, sy >= 0 here, so truncation is floor.
            const int32x4_t x0 = vcvtq_s32_f32(sx), y0 = vcvtq_s32_f32(sy);
            const float32x4_t fx = vsubq_f32(sx, vcvtq_f32_s32(x0));
            const float32x4_t fy = vsubq_f32(sy, vcvtq_f32_s32(y0));
            int32_t off[4];
            vst1q_s32(off, vmlaq_s32(vmulq_n_s32(x0, 3), y0, vstride));
            // One 8-byte load per pixel and row fetches both horizontal taps (6 bytes).
            uint64_t r[4], s[4];
            for (int i = 0; i < 4; ++i) {
                std::memcpy(&r[i], frame + off[i], 8);
                std::memcpy(&s[i], f1 + off[i], 8);
            }
            const uint64x2_t r01 = vld1q_u64(r), r23 = vld1q_u64(r + 2);
            const uint64x2_t s01 = vld1q_u64(s), s23 = vld1q_u64(s + 2);
            const uint32x4_t g00 = low_dwords(r01, r23);
            const uint32x4_t g01 = low_dwords(vshrq_n_u64(r01, 24), vshrq_n_u64(r23, 24));
            const uint32x4_t g10 = low_dwords(s01, s23);
            const uint32x4_t g11 = low_dwords(vshrq_n_u64(s01, 24), vshrq_n_u64(s23, 24));
            for (int c = 0; c < 3; ++c) {  // c: BGR byte, written to RGB plane 2 - c
                float32x4_t a = channel(g00, 8 * c), b = channel(g01, 8 * c);
                const float32x4_t top = vfmaq_f32(a, fx, vsubq_f32(b, a));
                a = channel(g10, 8 * c);
                b = channel(g11, 8 * c);
                const float32x4_t bot = vfmaq_f32(a, fx, vsubq_f32(b, a));
                const float32x4_t v = vfmaq_f32(top, fy, vsubq_f32(bot, top));
                vst1q_f32(o[2 - c] + x, vfmaq_f32(vdupq_n_f32(norm.bias[2 - c]), v,
                                                  vdupq_n_f32(norm.scale[2 - c])));
            }
        }
        for (; x < size; ++x)
            warp_pixel(frame, height, width, stride, m, x, y, norm, o[0], o[1], o[2]);
    }
}

}  // namespace detail
}  // namespace cpu
}  // namespace atpn
#endif
