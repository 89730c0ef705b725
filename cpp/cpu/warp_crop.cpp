// CPU warp_crop: bilinear affine crop of a BGR uint8 frame, fused with RGB reordering,
// normalisation and the NCHW layout (the fusion is what makes it beat warpAffine + blob).
//
// Every pixel goes through atpn::sample_bgr_normalised (shared with the CUDA kernel) except runs
// of pixels whose four taps are all inside the frame, which the x86 SIMD paths (AVX2,
// AVX-512; picked at run time, the wheel's baseline being SSE2) and NEON (aarch64, e.g. the
// Jetson's CPU) handle 16, 8 or 4 at a time with the same sequence of float operations, so all
// paths give identical floats.
#include "warp_internal.h"

namespace atpn {
namespace cpu {
namespace {

void warp_one_scalar(const uint8_t* frame, int height, int width, long long stride,
                     const float* m, int size, const Norm& norm, float* out) {
    const long long plane = (long long)size * size;
    for (int y = 0; y < size; ++y) {
        float* o0 = out + (long long)y * size;
        for (int x = 0; x < size; ++x)
            detail::warp_pixel(frame, height, width, stride, m, x, y, norm, o0, o0 + plane,
                               o0 + 2 * plane);
    }
}

WarpLevel detect_best() {
#if ATPN_X86_DISPATCH
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return WarpLevel::Avx512;
    if (avx2) return WarpLevel::Avx2;
#endif
#if ATPN_NEON
    return WarpLevel::Neon;
#endif
    return WarpLevel::Scalar;
}

}  // namespace

WarpLevel warp_best_level() {
    static const WarpLevel best = detect_best();
    return best;
}

bool warp_level_supported(WarpLevel level) {
    const WarpLevel best = warp_best_level();
    switch (level) {
        case WarpLevel::Scalar: return true;
        case WarpLevel::Avx2: return best == WarpLevel::Avx2 || best == WarpLevel::Avx512;
        default: return level == best;
    }
}

const char* warp_level_name(WarpLevel level) {
    switch (level) {
        case WarpLevel::Avx512: return "avx512";
        case WarpLevel::Avx2: return "avx2";
        case WarpLevel::Neon: return "neon";
        default: return "scalar";
    }
}

void warp_crop_batch(const uint8_t* frame, int height, int width, long long stride,
                     const float* inv_affines, int n, int size, const Norm& norm, float* out,
                     WarpLevel level) {
    const long long per_crop = 3LL * size * size;
    if (!warp_level_supported(level)) level = warp_best_level();
    // The SIMD paths address the frame with 32-bit offsets and need a 3x2 interior.
    if (width < 3 || height < 2 || (long long)height * stride >= (1LL << 31))
        level = WarpLevel::Scalar;
    for (int i = 0; i < n; ++i) {
        const float* m = inv_affines + 6 * i;
        float* o = out + per_crop * i;
        switch (level) {
#if ATPN_X86_DISPATCH
            case WarpLevel::Avx512:
                detail::warp_one_avx512(frame, height, width, stride, m, size, norm, o);
                break;
            case WarpLevel::Avx2:
                detail::warp_one_avx2(frame, height, width, stride, m, size, norm, o);
                break;
#endif
#if ATPN_NEON
            case WarpLevel::Neon:
                detail::warp_one_neon(frame, height, width, stride, m, size, norm, o);
                break;
#endif
            default:
                warp_one_scalar(frame, height, width, stride, m, size, norm, o);
        }
    }
}

}  // namespace cpu
}  // namespace atpn
