#!/usr/bin/env python3
"""Start a slimmer stage 1 from a shipped model (no training checkpoint needed): rebuild the
teacher in torch from its ONNX graphs, give its folded BatchNorms real statistics, prune and
refit a student of another config (`atpn_edge.train.prune`), and write both as training
checkpoints: ``teacher.pt`` (for ``train.teacher``, distillation) and ``init.pt`` (for
``atpn-edge train CONFIG --init``). Prints the training-time validation of both.

    python scripts/research/slim_student.py --teacher engines/atpn68 --teacher-config configs/atpn68_deep.yaml \
        --config configs/atpn68s.yaml --faces ../shared/data/300w --exclude engines/atpn68/val_split.json --out runs/atpn68s_init
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teacher", type=Path, required=True, help="model directory with stage1.onnx and stage2.onnx")
    ap.add_argument("--teacher-config", type=Path, required=True, help="the training config of the teacher's architecture")
    ap.add_argument("--config", type=Path, required=True, help="the student's training config")
    ap.add_argument("--faces", type=Path, required=True, help="labelled faces (300W layout) for the statistics and the refit")
    ap.add_argument("--exclude", type=Path, required=True, help="validation split: its faces are never used")
    ap.add_argument("--count", type=int, default=256, help="faces (each cropped twice: as tracked and moved)")
    ap.add_argument("--no-validate", action="store_true")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from atpn_edge.commands.quantize import calibration_crops
    from atpn_edge.runtime.models import load_info, resolve_model
    from atpn_edge.train.checkpoint import write_checkpoint
    from atpn_edge.train.config import load_config
    from atpn_edge.train.from_onnx import model_from_onnx, unfold_batchnorm
    from atpn_edge.train.prune import student_from_teacher

    t_cfg, s_cfg = load_config(args.teacher_config), load_config(args.config)
    files = resolve_model(args.teacher)
    info = load_info(files)
    exclude = set(json.loads(args.exclude.read_text()).get("300w", []))
    crops = torch.from_numpy(calibration_crops(args.faces, info, args.count, exclude, jitter=True))
    teacher = model_from_onnx(args.teacher, t_cfg.model)
    unfold_batchnorm(teacher, crops)
    student, log = student_from_teacher(teacher, s_cfg.model, crops)
    print("\n".join(log))
    preprocess = {"mean": list(info.mean), "std": list(info.std), "landmark_scheme": info.landmark_scheme,
                  "crop_rule": {"size": info.input_size, "landmark_scale": info.crop_landmark_scale,
                                "box_scale": info.crop_box_scale, "box_shift_y": info.crop_box_shift_y}}
    args.out.mkdir(parents=True, exist_ok=True)
    for name, model, cfg in (("teacher", teacher, t_cfg), ("init", student, s_cfg)):
        write_checkpoint({"model": model.state_dict(), "model_config": cfg.model.to_dict(), "preprocess": preprocess,
                          "source": f"{args.teacher} ({info.model_version})"}, args.out / f"{name}.pt")
    print(f"wrote {args.out / 'teacher.pt'} and {args.out / 'init.pt'}")
    if not args.no_validate:
        from atpn_edge.train.data import FaceCrops, crop_rule, load_records
        from atpn_edge.train.loop import validate

        rule = crop_rule(s_cfg.data, s_cfg.model.input_size)
        _, val_recs, _, _ = load_records(s_cfg.data, s_cfg.resolve(s_cfg.data.root), rule,
                                         s_cfg.resolve(s_cfg.data.val_split), pose_cache=args.out / "300w_pose_labels.csv")
        val = FaceCrops(val_recs, s_cfg.data, rule.size, train=False, seed=0)
        for name, model in (("teacher", teacher), ("student init", student)):
            m = validate(model, val)
            print(name, json.dumps({k: round(v, 4) for k, v in m.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
