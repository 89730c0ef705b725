#!/usr/bin/env python3
"""Random-weight graphs of candidate architectures, to time them before training anything (the
timing of these CNNs does not depend on the weights; BatchNorm statistics are randomised so the
folded graphs look like trained ones). Each NAME=JSON is a model config override of the shipped
atpn68 architecture (configs/atpn68_deep.yaml); writes OUT/NAME/{stage1,stage2,fused}.onnx.

    python scripts/research/candidate_graphs.py /tmp/cand 'b122e4={"blocks": [1, 2, 2]}' \
        'slim={"blocks": [1, 2, 2], "expand": [2, 4, 4], "stem_block": false, "shortcut": "dwconv"}'
    for d in /tmp/cand/*; do atpn-edge quantize $d --faces ../shared/data/300w --exclude engines/atpn68/val_split.json; done
    taskset -c 1 python scripts/research/bench_graphs.py ship=engines/atpn68/stage1.int8.onnx b122e4=/tmp/cand/b122e4/stage1.int8.onnx ...
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

SHIPPED = {"num_landmarks": 68, "stem": 16, "shallow": 24, "mid": 48, "deep": 96, "blocks": [1, 3, 3], "expand": 4,
           "embed": 256, "feature_channels": 32, "heatmap_size": 28, "heatmap_sigma": 1.0, "head": [64, 128]}
PREPROCESS = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "landmark_scheme": "ibug68",
              "crop_rule": {"size": 112, "landmark_scale": 1.4, "box_scale": 1.4, "box_shift_y": 0.0}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("candidates", nargs="+", help='NAME=JSON, e.g. b122e4=\'{"blocks": [1, 2, 2]}\'')
    args = ap.parse_args()
    from atpn_edge.train.export import export_model
    from atpn_edge.train.model import ATPN, ModelConfig

    for spec in args.candidates:
        name, _, override = spec.partition("=")
        cfg = ModelConfig.from_dict({**SHIPPED, **json.loads(override or "{}")})
        torch.manual_seed(0)
        model = ATPN(cfg).eval()
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
        export_model(model, args.out / name, PREPROCESS, version=f"candidate-{name}")
        print(f"{args.out / name}: {sum(p.numel() for p in model.stage1.parameters())} stage-1 parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
