// CPU kernels (formulas: docs/SPEC.md, Kernels). Callers validate shapes; these functions trust their sizes.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "atpn/pixel_math.h"

namespace atpn {
namespace cpu {

// Instruction sets of the warp kernel; the best the CPU supports is used by default.
enum class WarpLevel { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };
WarpLevel warp_best_level();
bool warp_level_supported(WarpLevel level);
const char* warp_level_name(WarpLevel level);  // "scalar", "avx2", "avx512", "neon"

// Crops n faces from one BGR uint8 frame (height x width x 3, rows `stride` bytes apart) into
// out[n][3][size][size] (RGB planes, normalised). inv_affines: n crop->frame maps (2x3, row-major).
// level caps the instruction set (tests compare every level with the scalar one).
void warp_crop_batch(const uint8_t* frame, int height, int width, long long stride,
                     const float* inv_affines, int n, int size, const Norm& norm, float* out,
                     WarpLevel level);

// Shrinks a BGR uint8 frame (height x width x 3, rows `stride` bytes apart) by area averaging to
// out_w x out_h and writes it at (x0, y0) into out[3][size][size] (RGB planes, normalised); the
// rest of out is the normalised value of a black pixel (the letterbox border). Needs
// out_w <= width, out_h <= height and the placed image inside the square.
void letterbox_area(const uint8_t* frame, int height, int width, long long stride, int out_w,
                    int out_h, int x0, int y0, int size, const Norm& norm, float* out);

// Renders max-of-Gaussians heatmaps: landmarks [n][k][2] crop-normalised -> out [n][1][h][w].
// Non-finite landmarks draw nothing (heat_centre); callers that must refuse them check first.
void render_heatmap(const float* landmarks, int n, int k, int height, int width, float sigma,
                    float* out);

// Scratch a thread keeps between calls, in floats (1 MiB: heatmaps up to about 500 x 500).
constexpr size_t kHeatmapScratchKeepFloats = (size_t)1 << 18;
// Bytes of scratch the calling thread keeps now (tests check the cap).
size_t heatmap_scratch_bytes();

}  // namespace cpu
}  // namespace atpn
