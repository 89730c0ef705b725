"""Training on the tracker's own crops (train/hard_crops.py): labels per group, the weak video
labels, the draw shares, and a loss that never takes the teacher's face score on a negative."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training tests need torch (train extra)")

from atpn_edge.train.config import config_from_dict  # noqa: E402
from atpn_edge.train.hard_crops import HardCrops, hard_loss, labels_for, validate_hard  # noqa: E402
from atpn_edge.train.model import ATPN, ModelConfig  # noqa: E402

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SHARES = {"det_pos": 0.5, "video": 0.1, "det_neg": 0.4}


def _store(folder, groups, teacher):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = len(groups)
    np.savez_compressed(folder / "crops.npz", group=np.array(groups), image=np.array([f"im{i}" for i in range(n)]),
                        teacher=np.array(teacher, np.float32), fp32=np.zeros((n, 4), np.float32))
    images = rng.integers(0, 256, size=(n, 112, 112, 3), dtype=np.uint8)
    np.save(folder / "images.npy", images)
    return images


def test_labels_hard_for_groups_and_teacher_only_makes_video_positives():
    group = np.array(["det_pos", "track_pos", "det_neg", "offface", "nonface", "video", "video", "val_det_neg", "video"])
    teacher = np.array([-9, -9, 9, 9, 9, 2.0, -2.0, 9, np.nan], np.float32)
    y = labels_for(group, teacher)
    # the teacher's high score on a detector crop of a non-face image does not make it a face
    np.testing.assert_array_equal(y[:5], [1, 1, 0, 0, 0])
    assert y[5] == 1 and np.isnan(y[6]) and y[7] == 0 and np.isnan(y[8])


def test_dataset_keeps_train_groups_draws_shares_and_normalises(tmp_path):
    groups = ["det_pos"] * 6 + ["det_neg"] * 2 + ["video", "video", "offface", "val_det_pos", "val_det_neg"]
    teacher = [0] * 8 + [3.0, -3.0, 0, 0, 0]
    images = _store(tmp_path / "h", groups, teacher)
    ds = HardCrops(tmp_path / "h", SHARES, MEAN, STD, train=True)
    assert ds.counts() == {"det_pos": 6, "det_neg": 2, "video": 1}  # offface has no share, one video crop unlabelled
    w = ds.sample_weights().numpy()
    for g, share in SHARES.items():
        assert w[ds.groups == g].sum() == pytest.approx(share)
    val = HardCrops(tmp_path / "h", SHARES, MEAN, STD, train=False)
    assert val.counts() == {"val_det_pos": 1, "val_det_neg": 1} and list(val.labels) == [1.0, 0.0]
    item = val[0]  # as stored: BGR -> RGB, /255, mean/std
    expect = (images[11][:, :, ::-1].transpose(2, 0, 1) / 255.0 - np.reshape(MEAN, (3, 1, 1))) / np.reshape(STD, (3, 1, 1))
    np.testing.assert_allclose(item["image"].numpy(), expect, atol=1e-5)
    assert item["face"].item() == 1.0
    ds.reseed(3)
    assert ds[0]["image"].shape == (3, 112, 112)


def test_dataset_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="crops.npz not found.*--save-crops"):
        HardCrops(tmp_path / "missing", SHARES, MEAN, STD)
    _store(tmp_path / "h", ["det_pos", "det_neg"], [0, 0])
    with pytest.raises(ValueError, match="unknown groups.*cats"):
        HardCrops(tmp_path / "h", {"cats": 1.0}, MEAN, STD)
    np.save(tmp_path / "h" / "images.npy", np.zeros((3, 112, 112, 3), np.uint8))
    with pytest.raises(ValueError, match="3 crops"):
        HardCrops(tmp_path / "h", SHARES, MEAN, STD)


def _outs(n, seed):
    g = torch.Generator().manual_seed(seed)
    return {"landmarks": torch.rand(n, 68, 2, generator=g), "features": torch.randn(n, 8, 28, 28, generator=g),
            "pose": torch.randn(n, 3, generator=g) * 10, "face_logit": torch.randn(n, 1, generator=g)}


def test_loss_is_hard_labels_and_ignores_the_teacher_face_score():
    t_cfg = config_from_dict({"train": {"kd_landmarks": 1.0, "kd_features": 1.0}}).train
    student, teacher = _outs(4, 0), _outs(4, 1)
    face = torch.tensor([[1.0], [1.0], [0.0], [0.0]])
    loss, parts = hard_loss(student, teacher, face, 112, t_cfg)
    # the teacher's face logit, and its landmarks/pose on the negatives, do not enter
    other = {k: v.clone() for k, v in teacher.items()}
    other["face_logit"] = -other["face_logit"] + 5
    other["landmarks"][2:] = 0.0
    other["pose"][2:] = 99.0
    assert hard_loss(student, other, face, 112, t_cfg)[0].item() == pytest.approx(loss.item())
    assert parts["hard_face"] == pytest.approx(
        torch.nn.functional.binary_cross_entropy_with_logits(student["face_logit"], face).item())
    logit = student["face_logit"].clone().requires_grad_()
    hard_loss({**student, "face_logit": logit}, None, face, 112, t_cfg)[0].backward()
    assert (logit.grad[:2] < 0).all() and (logit.grad[2:] > 0).all()  # positives up, negatives down


def test_config_keys_and_validation_metrics(tmp_path):
    cfg = config_from_dict({"train": {"hard_crops": "crops", "hard_groups": {"det_neg": 1.0}, "hard_share": 0.5}})
    assert cfg.train.hard_groups == {"det_neg": 1.0} and cfg.train.hard_kd
    with pytest.raises(ValueError, match="hard_shares"):
        config_from_dict({"train": {"hard_shares": 0.5}})
    _store(tmp_path / "h", ["val_det_pos"] * 3 + ["val_det_neg"] * 3 + ["det_pos"], [0] * 7)
    tiny = ModelConfig(stem=8, shallow=8, mid=16, deep=16, blocks=(1, 1, 1), expand=2, embed=16, feature_channels=8,
                       head=(16, 16))
    m = validate_hard(ATPN(tiny), HardCrops(tmp_path / "h", SHARES, MEAN, STD, train=False))
    assert set(m) == {"hard_auc", "hard_tpr", "hard_fpr"} and 0 <= m["hard_auc"] <= 1
