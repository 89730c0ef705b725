// CPU kernels (SPEC section 4). Callers validate shapes; these functions trust their sizes.
#pragma once

#include <stdint.h>

#include "atpn/pixel_math.h"

namespace atpn {
namespace cpu {

// Instruction set the warp kernel dispatches to on this machine: "avx2" or "scalar".
const char* warp_simd_level();

// Crops n faces from one BGR uint8 frame (height x width x 3, rows `stride` bytes apart) into
// out[n][3][size][size] (RGB planes, normalised). inv_affines: n crop->frame maps (2x3, row-major).
// allow_simd=false forces the scalar path (tests compare both).
void warp_crop_batch(const uint8_t* frame, int height, int width, long long stride,
                     const float* inv_affines, int n, int size, const Norm& norm, float* out,
                     bool allow_simd);

// Renders max-of-Gaussians heatmaps: landmarks [n][k][2] crop-normalised -> out [n][1][h][w].
void render_heatmap(const float* landmarks, int n, int k, int height, int width, float sigma,
                    float* out);

}  // namespace cpu
}  // namespace atpn
