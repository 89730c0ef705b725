// Area-averaging shrink of a BGR uint8 frame into normalised RGB planes: the detector's letterbox
// input (formula: docs/SPEC.md, Kernels). One pass over the frame: each output row sums its
// source rows with their coverage weights into a float row (vectorised), then each output pixel
// sums its source columns of that row.
#include <math.h>

#include <algorithm>
#include <vector>

#include "atpn/cpu_kernels.h"

namespace atpn {
namespace cpu {
namespace {

// Output cell j covers source [j*s, (j+1)*s), s = src / dst; source pixel i covers [i, i+1) and
// contributes its overlap with the cell, in (0, 1] (exactly 1 inside the cell); a cell's
// overlaps sum to s, divided out once per output pixel.
struct Taps {
    std::vector<int> first, count;
    std::vector<float> overlap;  // count[j] overlaps per cell, cell after cell
    std::vector<int> offset;     // where cell j's overlaps start
};

Taps area_taps(int src, int dst) {
    Taps t;
    const double s = (double)src / dst;
    for (int j = 0; j < dst; ++j) {
        const double lo = j * s, hi = std::min((double)src, (j + 1) * s);
        const int i0 = (int)floor(lo), i1 = std::min(src, (int)ceil(hi));
        t.first.push_back(i0);
        t.offset.push_back((int)t.overlap.size());
        int n = 0;
        for (int i = i0; i < i1; ++i) {
            t.overlap.push_back((float)(std::min(hi, (double)i + 1.0) - std::max(lo, (double)i)));
            ++n;
        }
        t.count.push_back(n);
    }
    return t;
}

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define ATPN_ROW_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define ATPN_ROW_LOOP
#endif

// Rows a source row covers fully are summed as integers (exact and several times faster than
// float); the at most two rows a cell covers in part are weighted in float.
ATPN_ROW_LOOP void add_row(const uint8_t* src, uint16_t* sum, int n) {
    for (int k = 0; k < n; ++k) sum[k] = (uint16_t)(sum[k] + src[k]);
}

ATPN_ROW_LOOP void add_weighted_row(const uint8_t* src, float w, float* acc, int n) {
    for (int k = 0; k < n; ++k) acc[k] += w * (float)src[k];
}

ATPN_ROW_LOOP void add_sums(const uint16_t* sum, float* acc, int n) {
    for (int k = 0; k < n; ++k) acc[k] += (float)sum[k];
}

constexpr int kMaxExactRows = 257;  // 257 * 255 < 2^16

}  // namespace

void letterbox_area(const uint8_t* frame, int height, int width, long long stride, int out_w,
                    int out_h, int x0, int y0, int size, const Norm& norm, float* out) {
    const size_t plane = (size_t)size * size;
    for (int c = 0; c < 3; ++c) std::fill(out + c * plane, out + (c + 1) * plane, norm.bias[c]);
    const Taps rows = area_taps(height, out_h), cols = area_taps(width, out_w);
    const int n = width * 3;
    // the mean of the cell's area: the overlaps of rows and columns each sum to the cell's side
    const float inv_area = (float)((double)out_h / height * out_w / width);
    std::vector<float> acc(n);
    std::vector<uint16_t> sum(n);
    for (int r = 0; r < out_h; ++r) {
        std::fill(acc.begin(), acc.end(), 0.f);
        std::fill(sum.begin(), sum.end(), (uint16_t)0);
        int exact = 0;
        for (int t = 0; t < rows.count[r]; ++t) {
            const uint8_t* src = frame + (rows.first[r] + t) * stride;
            const float cover = rows.overlap[rows.offset[r] + t];
            if (cover < 1.f) {
                add_weighted_row(src, cover, acc.data(), n);
                continue;
            }
            add_row(src, sum.data(), n);
            if (++exact == kMaxExactRows) {
                add_sums(sum.data(), acc.data(), n);
                std::fill(sum.begin(), sum.end(), (uint16_t)0);
                exact = 0;
            }
        }
        if (exact) add_sums(sum.data(), acc.data(), n);
        float* o = out + (size_t)(y0 + r) * size + x0;
        for (int j = 0; j < out_w; ++j) {
            const float* a = acc.data() + 3 * cols.first[j];
            const float* w = cols.overlap.data() + cols.offset[j];
            float b = 0.f, g = 0.f, red = 0.f;
            for (int t = 0; t < cols.count[j]; ++t, a += 3) {
                b += w[t] * a[0];
                g += w[t] * a[1];
                red += w[t] * a[2];
            }
            // The overlaps sum to the cell's area up to float rounding: clamp so white stays 255.
            o[j] = std::min(red * inv_area, 255.f) * norm.scale[0] + norm.bias[0];  // RGB planes, BGR frame
            o[plane + j] = std::min(g * inv_area, 255.f) * norm.scale[1] + norm.bias[1];
            o[2 * plane + j] = std::min(b * inv_area, 255.f) * norm.scale[2] + norm.bias[2];
        }
    }
}

}  // namespace cpu
}  // namespace atpn
