// CPU warp_crop: bilinear affine crop of a BGR uint8 frame, fused with RGB reordering,
// normalisation and the NCHW layout (the fusion is what makes it beat warpAffine + blob).
//
// Every pixel goes through atpn::sample_bgr_normalised (shared with the CUDA kernel) except runs
// of 8 pixels whose four taps are all inside the frame, which the AVX2 path handles 8 at a time
// with the same sequence of float operations, so both paths give identical floats.
#include <cstring>

#include "atpn/cpu_kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ATPN_X86_DISPATCH 1
#include <immintrin.h>
#endif

namespace atpn {
namespace cpu {
namespace {

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

void warp_one_scalar(const uint8_t* frame, int height, int width, long long stride,
                     const float* m, int size, const Norm& norm, float* out) {
    const long long plane = (long long)size * size;
    for (int y = 0; y < size; ++y) {
        float* o0 = out + (long long)y * size;
        for (int x = 0; x < size; ++x)
            warp_pixel(frame, height, width, stride, m, x, y, norm, o0, o0 + plane, o0 + 2 * plane);
    }
}

#if ATPN_X86_DISPATCH
__attribute__((target("avx2,fma"))) inline __m256 channel(__m256i taps, int shift) {
    return _mm256_cvtepi32_ps(
        _mm256_and_si256(_mm256_srli_epi32(taps, shift), _mm256_set1_epi32(0xff)));
}

// Low dwords of the 8-byte groups of p (pixels 0,1,4,5) and q (2,3,6,7), in pixel order 0..7.
__attribute__((target("avx2,fma"))) inline __m256i lo(__m256i p, __m256i q) {
    return _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(p), _mm256_castsi256_ps(q),
                                                 _MM_SHUFFLE(2, 0, 2, 0)));
}

// Needs height * stride < 2^31 (32-bit offsets); the caller checks.
__attribute__((target("avx2,fma"))) void warp_one_avx2(const uint8_t* frame, int height, int width,
                                                   long long stride, const float* m, int size,
                                                   const Norm& norm, float* out) {
    const long long plane = (long long)size * size;
    const __m256 lane = _mm256_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f);
    const __m256 zero = _mm256_setzero_ps();
    // Interior: x0 <= width-3 keeps the 8-byte load at pixel x0 (it ends inside pixel x0+2) in
    // the row; y0 <= height-2 keeps the lower taps inside the frame.
    const __m256 xmax = _mm256_set1_ps((float)(width - 2));
    const __m256 ymax = _mm256_set1_ps((float)(height - 1));
    const __m256 m0 = _mm256_set1_ps(m[0]), m3 = _mm256_set1_ps(m[3]);
    const __m256i vstride = _mm256_set1_epi32((int)stride), three = _mm256_set1_epi32(3);
    const __m256 scale[3] = {_mm256_set1_ps(norm.scale[0]), _mm256_set1_ps(norm.scale[1]),
                             _mm256_set1_ps(norm.scale[2])};
    const __m256 bias[3] = {_mm256_set1_ps(norm.bias[0]), _mm256_set1_ps(norm.bias[1]),
                            _mm256_set1_ps(norm.bias[2])};
    const long long* q0 = reinterpret_cast<const long long*>(frame);
    const long long* q1 = reinterpret_cast<const long long*>(frame + stride);

    for (int y = 0; y < size; ++y) {
        float* o[3];
        o[0] = out + (long long)y * size;
        o[1] = o[0] + plane;
        o[2] = o[1] + plane;
        // Same operation order as src_coord: row base first, then m0 * x + base.
        const float rbx = fma_rn(m[1], (float)y, m[2]), rby = fma_rn(m[4], (float)y, m[5]);
        const __m256 bx = _mm256_set1_ps(rbx), by = _mm256_set1_ps(rby);
        const int full = size / 8 * 8;
        // The interior is convex and computed coordinates are monotonic in x (each rounding
        // step is), so when the row's first and last SIMD pixels are inside, all are: such rows
        // skip the per-block test.
        bool row_inside = false;
        if (full > 0) {
            const float xe = (float)(full - 1);
            const float s0x = fma_rn(m[0], 0.f, rbx), s0y = fma_rn(m[3], 0.f, rby);
            const float s1x = fma_rn(m[0], xe, rbx), s1y = fma_rn(m[3], xe, rby);
            auto in = [&](float px, float py) {
                return px >= 0.f && px < (float)(width - 2) && py >= 0.f && py < (float)(height - 1);
            };
            row_inside = in(s0x, s0y) && in(s1x, s1y);
        }
        int x = 0;
        for (; x < full; x += 8) {
            __m256 xv = _mm256_add_ps(_mm256_set1_ps((float)x), lane);
            __m256 sx = _mm256_fmadd_ps(m0, xv, bx);
            __m256 sy = _mm256_fmadd_ps(m3, xv, by);
            if (!row_inside && _mm256_movemask_ps(_mm256_and_ps(
                    _mm256_and_ps(_mm256_cmp_ps(sx, zero, _CMP_GE_OQ), _mm256_cmp_ps(sx, xmax, _CMP_LT_OQ)),
                    _mm256_and_ps(_mm256_cmp_ps(sy, zero, _CMP_GE_OQ), _mm256_cmp_ps(sy, ymax, _CMP_LT_OQ)))) != 0xff) {
                for (int i = x; i < x + 8; ++i)
                    warp_pixel(frame, height, width, stride, m, i, y, norm, o[0], o[1], o[2]);
                continue;
            }
            // sx, sy >= 0 here, so truncation is floor.
            __m256i x0 = _mm256_cvttps_epi32(sx), y0 = _mm256_cvttps_epi32(sy);
            __m256 fx = _mm256_sub_ps(sx, _mm256_cvtepi32_ps(x0));
            __m256 fy = _mm256_sub_ps(sy, _mm256_cvtepi32_ps(y0));
            __m256i off = _mm256_add_epi32(_mm256_mullo_epi32(y0, vstride), _mm256_mullo_epi32(x0, three));
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
            const __m256i ra = _mm256_setr_epi64x(ld(frame, 0), ld(frame, 1), ld(frame, 4), ld(frame, 5));
            const __m256i rb = _mm256_setr_epi64x(ld(frame, 2), ld(frame, 3), ld(frame, 6), ld(frame, 7));
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

bool cpu_has_avx2() {
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
}
#endif

}  // namespace

const char* warp_simd_level() {
#if ATPN_X86_DISPATCH
    if (cpu_has_avx2()) return "avx2";
#endif
    return "scalar";
}

void warp_crop_batch(const uint8_t* frame, int height, int width, long long stride,
                     const float* inv_affines, int n, int size, const Norm& norm, float* out,
                     bool allow_simd) {
    const long long per_crop = 3LL * size * size;
#if ATPN_X86_DISPATCH
    const bool simd = allow_simd && cpu_has_avx2() && width >= 3 && height >= 2 &&
                      (long long)height * stride < (1LL << 31);
#else
    (void)allow_simd;
    const bool simd = false;
#endif
    for (int i = 0; i < n; ++i) {
        const float* m = inv_affines + 6 * i;
        float* o = out + per_crop * i;
#if ATPN_X86_DISPATCH
        if (simd) {
            warp_one_avx2(frame, height, width, stride, m, size, norm, o);
            continue;
        }
#endif
        warp_one_scalar(frame, height, width, stride, m, size, norm, o);
    }
}

}  // namespace cpu
}  // namespace atpn
