"""The training loop: seeded, resumable, checkpoints every epoch plus the best, a plain progress
line on stderr (also in ``train.log`` of the run directory) with loss and ETA."""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

from ..eval.metrics import nme_inter_ocular, pose_mae, pose_mask, roc_auc
from .checkpoint import read_checkpoint, write_checkpoint
from .config import Config
from .data import FaceCrops, crop_rule, load_records
from .distill import Teacher, distill_loss, outputs
from .hard_crops import HardCrops, hard_loss, validate_hard
from .losses import multitask_loss
from .macs import count_macs, count_params
from .model import ATPN


class Log:
    def __init__(self, path: Path):
        self.file = path.open("a", encoding="utf-8")

    def __call__(self, msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, file=sys.stderr, flush=True)
        self.file.write(line + "\n")
        self.file.flush()


def lr_at(step: int, total: int, cfg) -> float:
    """Linear warm-up, then cosine decay to 2 % of the peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = min(1.0, (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps))
    return cfg.lr * (0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * t)))


@torch.no_grad()
def validate(model: ATPN, ds: FaceCrops, batch_size: int = 128) -> dict[str, float]:
    """NME (300W val, %), pose MAE (AFLW2000 val, crop axes, deg), face AUC (all val crops)."""
    model.eval()
    lms, poses, logits, tl, tp, tf = [], [], [], [], [], []
    for b in DataLoader(ds, batch_size=batch_size, shuffle=False):
        lm, pose, logit = model(b["image"])
        lms.append(lm.numpy()); poses.append(pose.numpy()); logits.append(logit.numpy().ravel())
        tl.append(b["landmarks"].numpy()); tp.append(b["pose"].numpy()); tf.append(b["face"].numpy().ravel())
    lm, pose, logit = np.concatenate(lms), np.concatenate(poses), np.concatenate(logits)
    tl, tp, tf = np.concatenate(tl), np.concatenate(tp), np.concatenate(tf)
    src = np.array([ds.records[i].source if m == "face" else "" for i, m in ds.index])
    out: dict[str, float] = {"auc": roc_auc(logit, tf)}
    w = src == "300w"
    out["nme_300w"] = float(nme_inter_ocular(lm[w], tl[w]).mean() * 100) if w.any() else float("nan")
    a = (src == "aflw2000") & pose_mask(tp)
    if a.any():
        mae, n = pose_mae(pose[a], tp[a])
        out.update(mae_yaw=float(mae[0]), mae_pitch=float(mae[1]), mae_roll=float(mae[2]), pose_mae=float(mae.mean()))
    model.train()
    return out


def score(m: dict[str, float]) -> float:
    """One number to pick the best epoch (lower is better): NME % + pose MAE / 2 + 100 x (1 - AUC)."""
    parts = [m.get("nme_300w", float("nan")), 0.5 * m.get("pose_mae", float("nan")), 100.0 * (1.0 - m.get("auc", float("nan")))]
    return float(sum(p for p in parts if np.isfinite(p)))


def train(cfg: Config, run_dir: Path, resume: bool = False, max_steps: int | None = None, limit: int | None = None,
          init: Path | None = None) -> dict:
    """Train per ``cfg`` into ``run_dir``; returns the last validation metrics (plus ``loss``).
    ``init``: start from a checkpoint's weights (fine-tuning: new optimizer and schedule)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log = Log(run_dir / "log.txt")
    t_cfg = cfg.train
    torch.manual_seed(t_cfg.seed)
    np.random.seed(t_cfg.seed)
    torch.set_num_threads(t_cfg.threads)
    rule = crop_rule(cfg.data, cfg.model.input_size)
    root = cfg.resolve(cfg.data.root)
    t0 = time.time()
    train_recs, val_recs, template, _ = load_records(cfg.data, root, rule, cfg.resolve(cfg.data.val_split), limit=limit,
                                                     pose_cache=run_dir / "300w_pose_labels.csv")
    log(f"data: {len(train_recs)} train, {len(val_recs)} val records from {root} in {time.time() - t0:.0f} s")
    train_ds = FaceCrops(train_recs, cfg.data, rule.size, train=True, seed=t_cfg.seed)
    val_ds = FaceCrops(val_recs, cfg.data, rule.size, train=False, seed=t_cfg.seed)
    model = ATPN(cfg.model)
    model.init_landmark_bias(torch.from_numpy(template).float())
    if init is not None:
        fresh = model.load_matching(read_checkpoint(init)["model"])
        log(f"initialised from {init}" + (f"; {len(fresh)} tensors new to this size: {', '.join(fresh[:8])}"
                                          f"{' ...' if len(fresh) > 8 else ''}" if fresh else ""))
    params, macs = count_params(model), count_macs(model.eval(), torch.zeros(1, 3, rule.size, rule.size))
    # channels-last: oneDNN's depthwise and 1x1 convolutions train ~1.7x faster on one CPU thread
    model.to(memory_format=torch.channels_last).train()
    log(f"model: {params / 1e6:.3f} M parameters, {macs / 1e6:.1f} M MACs at {rule.size}x{rule.size}")
    teacher = Teacher(cfg.resolve(t_cfg.teacher)) if t_cfg.teacher else None
    if teacher is not None:
        log(f"distilling from {cfg.resolve(t_cfg.teacher)}")
    hard_ds = hard_val = None
    hard_bs = 0
    if t_cfg.hard_crops:
        folder = cfg.resolve(t_cfg.hard_crops)
        hard_ds = HardCrops(folder, t_cfg.hard_groups, cfg.data.mean, cfg.data.std, train=True, seed=t_cfg.seed)
        hard_val = HardCrops(folder, t_cfg.hard_groups, cfg.data.mean, cfg.data.std, train=False, limit=t_cfg.hard_val_limit)
        hard_bs = max(1, round(t_cfg.batch_size * t_cfg.hard_share))
        log(f"hard crops from {folder}: {hard_bs} per batch; train {hard_ds.counts()}; val {hard_val.counts()}")
    opt = torch.optim.AdamW(model.parameters(), lr=t_cfg.lr, weight_decay=t_cfg.weight_decay)
    steps_per_epoch = t_cfg.samples_per_epoch // t_cfg.batch_size
    total = steps_per_epoch * t_cfg.epochs if max_steps is None else max_steps
    weights = train_ds.sample_weights(cfg.data.weights)
    preprocess = {"mean": list(cfg.data.mean), "std": list(cfg.data.std), "landmark_scheme": "ibug68",
                  "crop_rule": {"size": rule.size, "landmark_scale": rule.landmark_scale,
                                "box_scale": rule.box_scale, "box_shift_y": rule.box_shift_y}}
    epoch, step, best = 0, 0, float("inf")
    if resume and (run_dir / "last.pt").is_file():
        ckpt = read_checkpoint(run_dir / "last.pt", need=("model", "optimizer", "epoch", "step", "best_score"))
        model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optimizer"])
        epoch, step, best = ckpt["epoch"] + 1, ckpt["step"], ckpt["best_score"]
        log(f"resumed from {run_dir / 'last.pt'} at epoch {epoch}, step {step}")
    metrics: dict = {}
    t_start, step_start = time.time(), step
    while step < total and epoch < t_cfg.epochs:
        train_ds.reseed(epoch)
        sampler = WeightedRandomSampler(weights, t_cfg.samples_per_epoch, replacement=True,
                                        generator=torch.Generator().manual_seed(t_cfg.seed * 1000 + epoch))
        running: dict[str, float] = {}
        hard_iter = iter(())
        if hard_ds is not None:
            hard_ds.reseed(epoch)
            hard_sampler = WeightedRandomSampler(hard_ds.sample_weights(), steps_per_epoch * hard_bs, replacement=True,
                                                 generator=torch.Generator().manual_seed(t_cfg.seed * 1000 + epoch + 500))
            hard_iter = iter(DataLoader(hard_ds, batch_size=hard_bs, sampler=hard_sampler, drop_last=True))
        for i, batch in enumerate(DataLoader(train_ds, batch_size=t_cfg.batch_size, sampler=sampler, drop_last=True)):
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, t_cfg)
            hard = next(hard_iter, None)
            images = batch["image"]
            if hard is not None:  # one forward pass for both: BatchNorm sees the mixed batch
                images = torch.cat([images, hard["image"]])
            images = images.contiguous(memory_format=torch.channels_last)
            out_all = outputs(model, images)
            t_all = teacher(images) if teacher is not None else None
            n = len(batch["image"])
            out = {k: v[:n] for k, v in out_all.items()}
            loss, parts = multitask_loss((out["landmarks"], out["pose"], out["face_logit"]), batch, rule.size,
                                         t_cfg.wing_w, t_cfg.wing_eps, t_cfg.w_landmarks, t_cfg.w_pose, t_cfg.w_face,
                                         t_cfg.pose_beta)
            if teacher is not None:
                kd, kd_parts = distill_loss(out, {k: v[:n] for k, v in t_all.items()}, batch["face"], rule.size, t_cfg.wing_w, t_cfg.wing_eps,
                                            t_cfg.kd_landmarks, t_cfg.kd_pose, t_cfg.kd_face, t_cfg.kd_features,
                                            t_cfg.pose_beta)
                loss = loss + kd
                parts.update(kd_parts)
            if hard is not None:
                hl, h_parts = hard_loss({k: v[n:] for k, v in out_all.items()},
                                        None if t_all is None else {k: v[n:] for k, v in t_all.items()},
                                        hard["face"], rule.size, t_cfg)
                loss = loss + hl
                parts.update(h_parts)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            parts["loss"] = loss.item()
            running = {k: 0.9 * running.get(k, v) + 0.1 * v for k, v in parts.items()}
            if step % 20 == 0 or step == total:
                rate = (step - step_start) / (time.time() - t_start)
                eta = time.strftime("%H:%M:%S", time.gmtime((total - step) / max(rate, 1e-9)))
                log(f"epoch {epoch + 1}/{t_cfg.epochs} step {step}/{total} loss {running['loss']:.3f} "
                    f"(lm {running['lm']:.3f} pose {running['pose']:.3f} face {running['face']:.3f}"
                    + (f" kd lm {running['kd_lm']:.3f} feat {running['kd_feat']:.3f}" if teacher is not None else "")
                    + (f" hard face {running['hard_face']:.3f}" if hard_ds is not None else "") + ") "
                    f"lr {lr_at(step, total, t_cfg):.2e} {rate:.2f} it/s ETA {eta}")
            if step >= total:
                break
        metrics = validate(model, val_ds) if len(val_ds) else {}
        if hard_val is not None and len(hard_val):
            metrics.update(validate_hard(model, hard_val))
        metrics["loss"] = running.get("loss", float("nan"))
        s = score(metrics)
        log(f"epoch {epoch + 1} val " + json.dumps({k: round(v, 4) for k, v in metrics.items()}) + f" score {s:.3f}")
        ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "model_config": cfg.model.to_dict(),
                "config": cfg.to_dict(), "preprocess": preprocess, "epoch": epoch, "step": step,
                "metrics": metrics, "best_score": min(best, s), "params": params, "macs": macs}
        write_checkpoint(ckpt, run_dir / "last.pt")
        if s < best:
            best = s
            write_checkpoint(ckpt, run_dir / "best.pt")
            log(f"epoch {epoch + 1}: new best (score {s:.3f}) -> {run_dir / 'best.pt'}")
        epoch += 1
    return metrics
