// CPU render_heatmap, separable: exp(-(dx^2+dy^2)/2s^2) = gx(dx) * gy(dy), so each landmark costs
// one exp per column and per row of its window instead of one per pixel, and the max over
// landmarks is a vectorisable row loop. Values come from atpn::gauss_1d, shared with CUDA.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "atpn/cpu_kernels.h"

namespace atpn {
namespace cpu {
namespace {

// Pixels i with |i + 0.5 - centre| <= radius, clipped to [0, size). Computed in double with a
// one-pixel margin: gauss_1d itself zeroes anything beyond the radius, so a slightly wide window
// costs a few exps but can never drop a pixel the CUDA kernel would keep.
bool window(float centre, float radius, int size, int* lo, int* hi) {
    double a = std::floor((double)centre - 0.5 - radius) - 1.0;
    double b = std::ceil((double)centre - 0.5 + radius) + 1.0;
    if (!(b >= 0.0 && a <= size - 1.0)) return false;  // also false for NaN
    *lo = (int)std::max(a, 0.0);
    *hi = (int)std::min(b, size - 1.0);
    return true;
}

}  // namespace

void render_heatmap(const float* landmarks, int n, int k, int height, int width, float sigma,
                    float* out) {
    const float inv = (float)(1.0 / (2.0 * (double)sigma * sigma));
    const float radius = kHeatCutoffSigmas * sigma;
    std::vector<float> gx(width), gy(height);
    for (int i = 0; i < n; ++i) {
        float* img = out + (long long)i * height * width;
        std::memset(img, 0, sizeof(float) * (size_t)height * width);
        for (int j = 0; j < k; ++j) {
            const float* l = landmarks + ((long long)i * k + j) * 2;
            const float cx = heat_centre(l[0], width), cy = heat_centre(l[1], height);
            int x0, x1, y0, y1;
            if (!window(cx, radius, width, &x0, &x1) || !window(cy, radius, height, &y0, &y1))
                continue;
            for (int x = x0; x <= x1; ++x) gx[x] = gauss_1d(x, cx, inv, radius);
            for (int y = y0; y <= y1; ++y) gy[y] = gauss_1d(y, cy, inv, radius);
            for (int y = y0; y <= y1; ++y) {
                const float g = gy[y];
                float* row = img + (long long)y * width;
                for (int x = x0; x <= x1; ++x) {
                    const float v = mul_rn(g, gx[x]);
                    row[x] = row[x] > v ? row[x] : v;
                }
            }
        }
    }
}

}  // namespace cpu
}  // namespace atpn
