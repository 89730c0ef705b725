// Cross-architecture check of the CPU kernels, for scripts/cross_check_aarch64.sh: on the machine
// it runs on, every warp instruction set must equal the scalar path bit for bit; the scalar warp
// and the heatmap and letterbox outputs are written to a file so that two architectures (x86-64 natively,
// aarch64 under qemu-user) can be compared byte for byte. Inputs come from a fixed LCG so both
// sides see the same frames, affines and landmarks.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "atpn/cpu_kernels.h"

namespace {

uint64_t state = 12345;
double rnd() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(state >> 11) * (1.0 / 9007199254740992.0);
}

int check_warp(FILE* dump) {
    int bad = 0, compared = 0;
    const int frames[][2] = {{720, 1280}, {37, 53}, {2, 5}, {1, 1}, {100, 3}};
    const atpn::Norm norm{{0.017f, 0.0175f, 0.0174f}, {-2.1f, -2.03f, -1.8f}};
    for (const auto& hw : frames) {
        const int h = hw[0], w = hw[1];
        std::vector<uint8_t> frame((size_t)h * w * 3);
        for (auto& v : frame) v = (uint8_t)(rnd() * 256);
        for (int k = 0; k < 12; ++k) {
            const int s = k % 3 == 0 ? 112 : (k % 3 == 1 ? 37 : 64);
            // A rotated square crop of `side` frame pixels centred anywhere in or around the frame.
            const double side = (0.2 + 1.3 * rnd()) * (h < w ? h : w) + 2;
            const double ang = (rnd() * 2 - 1) * M_PI;
            const double cx = (rnd() * 1.6 - 0.3) * w, cy = (rnd() * 1.6 - 0.3) * h;
            const double c = std::cos(ang) * side / s, sn = std::sin(ang) * side / s;
            const float inv[6] = {(float)c, (float)-sn, (float)(cx - c * s / 2 + sn * s / 2),
                                  (float)sn, (float)c, (float)(cy - sn * s / 2 - c * s / 2)};
            std::vector<float> ref(3 * s * s), out(3 * s * s);
            atpn::cpu::warp_crop_batch(frame.data(), h, w, 3LL * w, inv, 1, s, norm, ref.data(),
                                       atpn::cpu::WarpLevel::Scalar);
            fwrite(ref.data(), sizeof(float), ref.size(), dump);
            for (auto level : {atpn::cpu::WarpLevel::Avx2, atpn::cpu::WarpLevel::Avx512,
                               atpn::cpu::WarpLevel::Neon}) {
                if (!atpn::cpu::warp_level_supported(level)) continue;
                std::fill(out.begin(), out.end(), NAN);
                atpn::cpu::warp_crop_batch(frame.data(), h, w, 3LL * w, inv, 1, s, norm,
                                           out.data(), level);
                ++compared;
                if (std::memcmp(out.data(), ref.data(), sizeof(float) * out.size()) != 0) {
                    ++bad;
                    std::printf("warp %s differs from scalar: frame %dx%d, case %d\n",
                                atpn::cpu::warp_level_name(level), w, h, k);
                }
            }
        }
    }
    std::printf("warp: best level %s, %d SIMD results compared, %d differ\n",
                atpn::cpu::warp_level_name(atpn::cpu::warp_best_level()), compared, bad);
    return bad;
}

// Every fifth case has a NaN and an infinite landmark (what a diverged network gives on the GPU,
// where landmarks are not checked): they must draw nothing, identically on both architectures.
int dump_heatmaps(FILE* dump) {
    int nonfinite = 0;
    for (int t = 0; t < 20; ++t) {
        const int n = 1 + t % 3, k = t % 2 ? 68 : 98, h = 28 + (t % 4) * 12, w = 28 + (t % 3) * 14;
        const float sigma = 0.5f + (float)rnd() * 3.f;
        std::vector<float> lm((size_t)n * k * 2), out((size_t)n * h * w);
        for (auto& v : lm) v = (float)(rnd() * 1.4 - 0.2);
        if (t % 5 == 0) {
            lm[7] = NAN;
            lm[10] = INFINITY;
        }
        atpn::cpu::render_heatmap(lm.data(), n, k, h, w, sigma, out.data());
        for (float v : out) nonfinite += !std::isfinite(v);
        fwrite(out.data(), sizeof(float), out.size(), dump);
    }
    std::printf("heatmap: 20 cases (4 with NaN/inf landmarks), %d non-finite values\n", nonfinite);
    return nonfinite;
}

// The detector's letterbox (area averaging, integer and float row sums) on frames whose sizes
// divide the output exactly and not at all.
void dump_letterboxes(FILE* dump) {
    const int cases[][4] = {{720, 1280, 128, 72}, {700, 1000, 128, 90}, {480, 641, 128, 96},
                            {30, 4000, 128, 1}, {128, 128, 128, 128}};
    const atpn::Norm norm{{1.f / 127.5f, 1.f / 127.5f, 1.f / 127.5f}, {-1.f, -1.f, -1.f}};
    for (const auto& c : cases) {
        const int h = c[0], w = c[1], ow = c[2], oh = c[3];
        std::vector<uint8_t> frame((size_t)h * w * 3);
        for (auto& v : frame) v = (uint8_t)(rnd() * 256);
        std::vector<float> out(3 * 128 * 128);
        atpn::cpu::letterbox_area(frame.data(), h, w, 3LL * w, ow, oh, 0, (128 - oh) / 2, 128, norm,
                                  out.data());
        fwrite(out.data(), sizeof(float), out.size(), dump);
    }
    std::printf("letterbox: 5 cases\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT.bin\n", argv[0]);
        return 2;
    }
    FILE* dump = std::fopen(argv[1], "wb");
    if (!dump) return 2;
    const int bad = check_warp(dump);
    const int nonfinite = dump_heatmaps(dump);
    dump_letterboxes(dump);
    std::fclose(dump);
    return bad == 0 && nonfinite == 0 ? 0 : 1;
}
