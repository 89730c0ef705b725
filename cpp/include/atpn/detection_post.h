// What follows the face detector's network: BlazeFace anchor decoding and MediaPipe's weighted
// non-maximum suppression (docs/DETECTION.md). One native call each instead of ~30 numpy calls:
// they run on the detector's worker thread, and every Python step there holds the GIL that the
// tracking thread needs. Callers validate shapes; these functions trust their sizes.
#pragma once

#include <vector>

namespace atpn {
namespace cpu {

// The anchors whose score, sigmoid(clip(logit, -100, 100)), is >= threshold, in anchor order.
// reg: n rows of `reg_stride` floats (box centre offset x, y, size w, h, then 6 keypoints x, y,
// all in input pixels from the anchor centre); anchors: n (x, y) centres in [0, 1].
// Each point p (input pixels) is written as (p - offset) / scale + shift: the letterbox undone
// and a tile's origin added. Appends boxes (x0, y0, x1, y1), keypoints (6 x 2) and scores.
void decode_blazeface(const float* reg, int reg_stride, const float* logits, const float* anchors,
                      int n, int input_size, double threshold, double scale, double offset_x,
                      double offset_y, double shift_x, double shift_y, std::vector<double>& boxes,
                      std::vector<double>& keypoints, std::vector<double>& scores);

// MediaPipe's weighted NMS: candidates best score first (ties: input order); every free one
// overlapping the best by IoU > iou joins its group, whose boxes and keypoints (k points each;
// keypoints may be null when k == 0) are averaged with the scores as weights; the group keeps the
// best score. Appends the groups, best first.
void weighted_nms(const double* boxes, const double* scores, const double* keypoints, int n, int k,
                  double iou, std::vector<double>& out_boxes, std::vector<double>& out_scores,
                  std::vector<double>& out_keypoints);

}  // namespace cpu
}  // namespace atpn
