// BlazeFace decoding and weighted NMS (atpn/detection_post.h).
#include "atpn/detection_post.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace atpn::cpu {
namespace {

constexpr int kKeypoints = 6;
constexpr double kScoreClip = 100.0;  // MediaPipe's score_clipping_thresh

double iou_of(const double* a, const double* b) {
    const double w = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
    const double h = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
    const double inter = w * h;
    const double area_a = std::max(0.0, a[2] - a[0]) * std::max(0.0, a[3] - a[1]);
    const double area_b = std::max(0.0, b[2] - b[0]) * std::max(0.0, b[3] - b[1]);
    const double uni = area_a + area_b - inter;
    return uni > 0.0 ? inter / uni : 0.0;
}

}  // namespace

void decode_blazeface(const float* reg, int reg_stride, const float* logits, const float* anchors,
                      int n, int input_size, double threshold, double scale, double offset_x,
                      double offset_y, double shift_x, double shift_y, std::vector<double>& boxes,
                      std::vector<double>& keypoints, std::vector<double>& scores) {
    const auto fx = [&](double x) { return (x - offset_x) / scale + shift_x; };
    const auto fy = [&](double y) { return (y - offset_y) / scale + shift_y; };
    for (int i = 0; i < n; ++i) {
        const double z = std::clamp((double)logits[i], -kScoreClip, kScoreClip);
        const double score = 1.0 / (1.0 + std::exp(-z));
        if (!(score >= threshold)) continue;
        const float* r = reg + (long long)i * reg_stride;
        const double cx = (double)anchors[2 * i] * input_size, cy = (double)anchors[2 * i + 1] * input_size;
        const double mx = cx + r[0], my = cy + r[1], hw = r[2] / 2.0, hh = r[3] / 2.0;
        boxes.insert(boxes.end(), {fx(mx - hw), fy(my - hh), fx(mx + hw), fy(my + hh)});
        for (int j = 0; j < kKeypoints; ++j) {
            keypoints.push_back(fx(cx + r[4 + 2 * j]));
            keypoints.push_back(fy(cy + r[5 + 2 * j]));
        }
        scores.push_back(score);
    }
}

void weighted_nms(const double* boxes, const double* scores, const double* keypoints, int n, int k,
                  double iou, std::vector<double>& out_boxes, std::vector<double>& out_scores,
                  std::vector<double>& out_keypoints) {
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
    std::vector<char> free_(n, 1);
    std::vector<int> group;
    for (int oi = 0; oi < n; ++oi) {
        const int best = order[oi];
        if (!free_[oi]) continue;
        group.clear();
        for (int oj = oi; oj < n; ++oj) {  // earlier ones are taken already
            if (!free_[oj]) continue;
            if (oj == oi || iou_of(boxes + 4LL * best, boxes + 4LL * order[oj]) > iou) {
                group.push_back(order[oj]);
                free_[oj] = 0;
            }
        }
        double total = 0.0;
        for (int g : group) total += scores[g];
        double box[4] = {0, 0, 0, 0};
        std::vector<double> kp(2 * (size_t)k, 0.0);
        for (int g : group) {
            const double w = scores[g] / total;
            for (int c = 0; c < 4; ++c) box[c] += w * boxes[4LL * g + c];
            for (int c = 0; c < 2 * k; ++c) kp[c] += w * keypoints[2LL * k * g + c];
        }
        out_boxes.insert(out_boxes.end(), box, box + 4);
        out_scores.push_back(scores[best]);
        out_keypoints.insert(out_keypoints.end(), kp.begin(), kp.end());
    }
}

}  // namespace atpn::cpu
