"""Average the weights of a run's last epoch checkpoints, recalibrate BatchNorm on training crops,
validate on the split and save a checkpoint that `atpn-edge export` takes.

Measured: averaging the medium run's last 5 epochs gave 4.59 % NME on the validation split, no
better than the best single epoch (engines/atpn68/MODEL_CARD.md); kept as a tool to try, not a step
of the recipe.

    python scripts/research/average_checkpoints.py configs/atpn68_long.yaml runs/atpn68_long/snap/*.pt \
        --last 6 --out runs/atpn68_long/avg.pt
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

from atpn_edge.train.average import average_checkpoints, recalibrate_batchnorm
from atpn_edge.train.config import load_config
from atpn_edge.train.data import FaceCrops, crop_rule, load_records
from atpn_edge.train.loop import score, validate
from atpn_edge.train.model import ATPN, ModelConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config", type=Path, help="the run's training config (data, crop rule)")
    ap.add_argument("checkpoints", type=Path, nargs="+", help="epoch checkpoints, oldest first")
    ap.add_argument("--last", type=int, default=0, help="average only the last N given (0: all)")
    ap.add_argument("--bn-batches", type=int, default=60)
    ap.add_argument("--keep-batchnorm", action="store_true",
                    help="average the BatchNorm statistics too instead of re-estimating them on regular training "
                         "crops (for runs that trained on extra crops, train.hard_crops: re-estimating cost "
                         "0.07 NME points there)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    cfg = load_config(args.config)
    paths = args.checkpoints[-args.last:] if args.last else args.checkpoints
    ckpt = average_checkpoints(paths)
    rule = crop_rule(cfg.data, cfg.model.input_size)
    train_recs, val_recs, _, _ = load_records(cfg.data, cfg.resolve(cfg.data.root), rule, cfg.resolve(cfg.data.val_split))
    model = ATPN(ModelConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    if not args.keep_batchnorm:
        train_ds = FaceCrops(train_recs, cfg.data, rule.size, train=True, seed=cfg.train.seed + 100)
        sampler = WeightedRandomSampler(train_ds.sample_weights(cfg.data.weights), args.bn_batches * cfg.train.batch_size)
        batches = (b["image"] for b in DataLoader(train_ds, batch_size=cfg.train.batch_size, sampler=sampler))
        recalibrate_batchnorm(model, batches)
    model.eval()
    metrics = validate(model, FaceCrops(val_recs, cfg.data, rule.size, train=False, seed=cfg.train.seed))
    ckpt.update(model=model.state_dict(), metrics=metrics)
    torch.save(ckpt, args.out)
    print(json.dumps({"averaged": len(paths), "metrics": metrics, "score": score(metrics), "out": str(args.out)}))


if __name__ == "__main__":
    main()
