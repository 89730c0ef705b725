// AVX2 + FMA path of the CPU warp: 8 crop pixels at a time, the same float operations in the
// same order as atpn::sample_bgr_normalised, so results equal the scalar path's bit for bit.
#include "warp_internal.h"

#if ATPN_X86_DISPATCH
#include <immintrin.h>

#define ATPN_AVX2 __attribute__((target("avx2,fma")))

namespace atpn {
namespace cpu {
namespace detail {

ATPN_AVX2 static inline __m256 channel(__m256i taps, int shift) {
    return _mm256_cvtepi32_ps(
        _mm256_and_si256(_mm256_srli_epi32(taps, shift), _mm256_set1_epi32(0xff)));
}

// Low dwords of the 8-byte groups of p (pixels 0,1,4,5) and q (2,3,6,7), in pixel order 0..7.
ATPN_AVX2 static inline __m256i lo(__m256i p, __m256i q) {
    return _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(p), _mm256_castsi256_ps(q),
                                                 _MM_SHUFFLE(2, 0, 2, 0)));
}

ATPN_AVX2 void warp_one_avx2(const uint8_t* frame, int height, int width, long long stride,
                             const float* m, int size, const Norm& norm, float* out) {
    const long long plane = (long long)size * size;
    const __m256 lane = _mm256_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f);
    const __m256 zero = _mm256_setzero_ps();
    // Interior bounds: see simd_interior().
    const __m256 xmax = _mm256_set1_ps((float)(width - 2));
    const __m256 ymax = _mm256_set1_ps((float)(height - 1));
    const __m256 m0 = _mm256_set1_ps(m[0]), m3 = _mm256_set1_ps(m[3]);
    const __m256i vstride = _mm256_set1_epi32((int)stride), three = _mm256_set1_epi32(3);
    const __m256 scale[3] = {_mm256_set1_ps(norm.scale[0]), _mm256_set1_ps(norm.scale[1]),
                             _mm256_set1_ps(norm.scale[2])};
    const __m256 bias[3] = {_mm256_set1_ps(norm.bias[0]), _mm256_set1_ps(norm.bias[1]),
                            _mm256_set1_ps(norm.bias[2])};

    for (int y = 0; y < size; ++y) {
        float* o[3];
        o[0] = out + (long long)y * size;
        o[1] = o[0] + plane;
        o[2] = o[1] + plane;
        // Same operation order as src_coord: row base first, then m0 * x + base.
        const float rbx = fma_rn(m[1], (float)y, m[2]), rby = fma_rn(m[4], (float)y, m[5]);
        const __m256 bx = _mm256_set1_ps(rbx), by = _mm256_set1_ps(rby);
        const int full = size / 8 * 8;
        const bool row_inside = row_interior(m, rbx, rby, full - 1, width, height);
        int x = 0;
        for (; x < full; x += 8) {
            __m256 xv = _mm256_add_ps(_mm256_set1_ps((float)x), lane);
            __m256 sx = _mm256_fmadd_ps(m0, xv, bx);
            __m256 sy = _mm256_fmadd_ps(m3, xv, by);
            if (!row_inside) {
                const __m256 in_x = _mm256_and_ps(_mm256_cmp_ps(sx, zero, _CMP_GE_OQ),
                                                  _mm256_cmp_ps(sx, xmax, _CMP_LT_OQ));
                const __m256 in_y = _mm256_and_ps(_mm256_cmp_ps(sy, zero, _CMP_GE_OQ),
                                                  _mm256_cmp_ps(sy, ymax, _CMP_LT_OQ));
                if (_mm256_movemask_ps(_mm256_and_ps(in_x, in_y)) != 0xff) {
                    for (int i = x; i < x + 8; ++i)
                        warp_pixel(frame, height, width, stride, m, i, y, norm, o[0], o[1], o[2]);
                    continue;
                }
            }
            // sx, sy >= 0 here, so truncation is floor.
            __m256i x0 = _mm256_cvttps_epi32(sx), y0 = _mm256_cvttps_epi32(sy);
            __m256 fx = _mm256_sub_ps(sx, _mm256_cvtepi32_ps(x0));
            __m256 fy = _mm256_sub_ps(sy, _mm256_cvtepi32_ps(y0));
            __m256i off = _mm256_add_epi32(_mm256_mullo_epi32(y0, vstride),
                                           _mm256_mullo_epi32(x0, three));
            alignas(32) int o8[8];
            _mm256_store_si256(reinterpret_cast<__m256i*>(o8), off);
            // One plain 8-byte load fetches both horizontal taps (6 bytes) of a pixel: faster than
            // four vpgatherdd here. Pixels {0,1,4,5} go to one register and {2,3,6,7} to the
            // other, which is the order lo() needs to put them back in sequence.
            auto ld = [&](const uint8_t* base, int i) {
                long long v;
                std::memcpy(&v, base + o8[i], 8);
                return v;
            };
            const uint8_t* f1 = frame + stride;
            const uint8_t* f0 = frame;
            const __m256i ra = _mm256_setr_epi64x(ld(f0, 0), ld(f0, 1), ld(f0, 4), ld(f0, 5));
            const __m256i rb = _mm256_setr_epi64x(ld(f0, 2), ld(f0, 3), ld(f0, 6), ld(f0, 7));
            const __m256i sa = _mm256_setr_epi64x(ld(f1, 0), ld(f1, 1), ld(f1, 4), ld(f1, 5));
            const __m256i sb = _mm256_setr_epi64x(ld(f1, 2), ld(f1, 3), ld(f1, 6), ld(f1, 7));
            // Left taps = low dword of each 8-byte group, right taps = bytes 3..6 of it, as
            // one dword per pixel in pixel order (shuffle_ps picks dwords 0 and 2 of each lane).
            const __m256i g00 = lo(ra, rb);
            const __m256i g01 = lo(_mm256_srli_epi64(ra, 24), _mm256_srli_epi64(rb, 24));
            const __m256i g10 = lo(sa, sb);
            const __m256i g11 = lo(_mm256_srli_epi64(sa, 24), _mm256_srli_epi64(sb, 24));
            for (int c = 0; c < 3; ++c) {  // c: BGR byte, written to RGB plane 2 - c
                __m256 a = channel(g00, 8 * c), b = channel(g01, 8 * c);
                __m256 top = _mm256_fmadd_ps(fx, _mm256_sub_ps(b, a), a);
                a = channel(g10, 8 * c);
                b = channel(g11, 8 * c);
                __m256 bot = _mm256_fmadd_ps(fx, _mm256_sub_ps(b, a), a);
                __m256 v = _mm256_fmadd_ps(fy, _mm256_sub_ps(bot, top), top);
                _mm256_storeu_ps(o[2 - c] + x,
                                 _mm256_fmadd_ps(v, scale[2 - c], bias[2 - c]));
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
