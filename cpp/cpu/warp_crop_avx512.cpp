// AVX-512 path of the CPU warp: the AVX2 path (see warp_crop_avx2.cpp) on 16 crop pixels at a
// time. Fewer instructions per pixel is what pays here, even where 512-bit operations are split
// in two (AMD Zen 4): about 25 % faster than AVX2 on the CI machine.
#include "warp_internal.h"

#if ATPN_X86_DISPATCH
#include <immintrin.h>

namespace atpn {
namespace cpu {
namespace detail {

#define ATPN_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
// Low dwords of the 8-byte groups of p and q, in pixel order (per 128-bit lane: p's two, q's two).
static ATPN_AVX512 inline __m512i lo16(__m512i p, __m512i q) {
    return _mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(p), _mm512_castsi512_ps(q),
                                                 _MM_SHUFFLE(2, 0, 2, 0)));
}
// Byte `shift / 8` of each dword as float.
static ATPN_AVX512 inline __m512 ch16(__m512i g, int shift, __m512i byte) {
    return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(g, shift), byte));
}
ATPN_AVX512 void warp_one_avx512(const uint8_t* frame, int height, int width, long long stride,
                                 const float* m, int size, const Norm& norm, float* out) {
    const long long plane = (long long)size * size;
    const __m512 lane = _mm512_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f, 10.f,
                                       11.f, 12.f, 13.f, 14.f, 15.f);
    const __m512 zero = _mm512_setzero_ps();
    const __m512 xmax = _mm512_set1_ps((float)(width - 2));
    const __m512 ymax = _mm512_set1_ps((float)(height - 1));
    const __m512 m0 = _mm512_set1_ps(m[0]), m3 = _mm512_set1_ps(m[3]);
    const __m512i vstride = _mm512_set1_epi32((int)stride), three = _mm512_set1_epi32(3);
    const __m512i byte = _mm512_set1_epi32(0xff);
    const __m512 scale[3] = {_mm512_set1_ps(norm.scale[0]), _mm512_set1_ps(norm.scale[1]),
                             _mm512_set1_ps(norm.scale[2])};
    const __m512 bias[3] = {_mm512_set1_ps(norm.bias[0]), _mm512_set1_ps(norm.bias[1]),
                            _mm512_set1_ps(norm.bias[2])};
    const uint8_t* f1 = frame + stride;
    for (int y = 0; y < size; ++y) {
        float* o[3];
        o[0] = out + (long long)y * size;
        o[1] = o[0] + plane;
        o[2] = o[1] + plane;
        const float rbx = fma_rn(m[1], (float)y, m[2]), rby = fma_rn(m[4], (float)y, m[5]);
        const __m512 bx = _mm512_set1_ps(rbx), by = _mm512_set1_ps(rby);
        const int full = size / 16 * 16;
        const bool row_inside = row_interior(m, rbx, rby, full - 1, width, height);
        int x = 0;
        for (; x < full; x += 16) {
            __m512 xv = _mm512_add_ps(_mm512_set1_ps((float)x), lane);
            __m512 sx = _mm512_fmadd_ps(m0, xv, bx);
            __m512 sy = _mm512_fmadd_ps(m3, xv, by);
            if (!row_inside) {
                __mmask16 in = _mm512_cmp_ps_mask(sx, zero, _CMP_GE_OQ) &
                               _mm512_cmp_ps_mask(sx, xmax, _CMP_LT_OQ) &
                               _mm512_cmp_ps_mask(sy, zero, _CMP_GE_OQ) &
                               _mm512_cmp_ps_mask(sy, ymax, _CMP_LT_OQ);
                if (in != 0xffff) {
                    for (int i = x; i < x + 16; ++i)
                        warp_pixel(frame, height, width, stride, m, i, y, norm, o[0], o[1], o[2]);
                    continue;
                }
            }
            __m512i x0 = _mm512_cvttps_epi32(sx), y0 = _mm512_cvttps_epi32(sy);
            __m512 fx = _mm512_sub_ps(sx, _mm512_cvtepi32_ps(x0));
            __m512 fy = _mm512_sub_ps(sy, _mm512_cvtepi32_ps(y0));
            __m512i off = _mm512_add_epi32(_mm512_mullo_epi32(y0, vstride),
                                           _mm512_mullo_epi32(x0, three));
            alignas(64) int o16[16];
            _mm512_store_si512(reinterpret_cast<__m512i*>(o16), off);
            auto ld = [&](const uint8_t* base, int i) {
                long long v;
                std::memcpy(&v, base + o16[i], 8);
                return v;
            };
            // 128-bit lane i of A holds pixels 4i, 4i+1 and of B pixels 4i+2, 4i+3 (see lo16()).
            const uint8_t* f0 = frame;
            const __m512i ra = _mm512_set_epi64(ld(f0, 13), ld(f0, 12), ld(f0, 9), ld(f0, 8),
                                                ld(f0, 5), ld(f0, 4), ld(f0, 1), ld(f0, 0));
            const __m512i rb = _mm512_set_epi64(ld(f0, 15), ld(f0, 14), ld(f0, 11), ld(f0, 10),
                                                ld(f0, 7), ld(f0, 6), ld(f0, 3), ld(f0, 2));
            const __m512i sa = _mm512_set_epi64(ld(f1, 13), ld(f1, 12), ld(f1, 9), ld(f1, 8),
                                                ld(f1, 5), ld(f1, 4), ld(f1, 1), ld(f1, 0));
            const __m512i sb = _mm512_set_epi64(ld(f1, 15), ld(f1, 14), ld(f1, 11), ld(f1, 10),
                                                ld(f1, 7), ld(f1, 6), ld(f1, 3), ld(f1, 2));
            const __m512i g00 = lo16(ra, rb);
            const __m512i g01 = lo16(_mm512_srli_epi64(ra, 24), _mm512_srli_epi64(rb, 24));
            const __m512i g10 = lo16(sa, sb);
            const __m512i g11 = lo16(_mm512_srli_epi64(sa, 24), _mm512_srli_epi64(sb, 24));
            for (int c = 0; c < 3; ++c) {
                __m512 a = ch16(g00, 8 * c, byte), b = ch16(g01, 8 * c, byte);
                __m512 top = _mm512_fmadd_ps(fx, _mm512_sub_ps(b, a), a);
                a = ch16(g10, 8 * c, byte);
                b = ch16(g11, 8 * c, byte);
                __m512 bot = _mm512_fmadd_ps(fx, _mm512_sub_ps(b, a), a);
                __m512 v = _mm512_fmadd_ps(fy, _mm512_sub_ps(bot, top), top);
                _mm512_storeu_ps(o[2 - c] + x, _mm512_fmadd_ps(v, scale[2 - c], bias[2 - c]));
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
