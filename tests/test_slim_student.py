"""A slimmer student from a shipped model: the new architecture options, the teacher rebuilt from
ONNX with real BatchNorm statistics, pruning + layer-wise refit, and the distillation loss."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training tests need torch (train extra)")
pytest.importorskip("onnxruntime", reason="the ONNX round trip needs onnxruntime")

from atpn_edge.train.distill import distill_loss, outputs  # noqa: E402
from atpn_edge.train.export import export_model  # noqa: E402
from atpn_edge.train.from_onnx import model_from_onnx, unfold_batchnorm  # noqa: E402
from atpn_edge.train.model import ATPN, ModelConfig  # noqa: E402
from atpn_edge.train.prune import student_from_teacher  # noqa: E402

TEACHER = ModelConfig(stem=8, shallow=8, mid=16, deep=16, blocks=(1, 2, 2), expand=4, embed=32, feature_channels=8, head=(16, 16))
STUDENT = ModelConfig(**{**TEACHER.to_dict(), "blocks": (1, 1, 1), "expand": (2, 4, 4), "stem_block": False,
                         "shortcut": "dwconv"})
PREPROCESS = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "landmark_scheme": "ibug68",
              "crop_rule": {"size": 112, "landmark_scale": 1.4, "box_scale": 1.4, "box_shift_y": 0.0}}


def _trained_looking(cfg: ModelConfig, seed: int = 0) -> ATPN:
    """Random weights with BatchNorm statistics that are not the identity (as after training)."""
    torch.manual_seed(seed)
    model = ATPN(cfg).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2); m.running_var.uniform_(0.5, 2.0)
    return model


def _images(n: int = 32, seed: int = 1) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, 3, 112, 112)).astype(np.float32))


def test_slim_options_build_and_dwconv_shortcut_starts_as_the_average():
    model = ATPN(STUDENT).eval()
    assert len(model.stage1.stem) == 1 and len(model.stage1.s14) == 1
    assert model.stage1.s28[0].body[0][0].out_channels == 8 * 2 and model.stage1.s14[0].body[0][0].out_channels == 8 * 4
    x = torch.rand(2, 8, 28, 28)
    torch.testing.assert_close(model.stage1.shortcut(x), torch.nn.functional.avg_pool2d(x, 4))
    with torch.no_grad():
        lm, pose, logit = model(_images(2))
    assert lm.shape == (2, 68, 2) and pose.shape == (2, 3) and logit.shape == (2, 1)
    assert ModelConfig.from_dict(STUDENT.to_dict() | {"expand": [2, 4, 4]}) == STUDENT
    with pytest.raises(ValueError, match="shortcut"):
        ATPN(ModelConfig(**{**TEACHER.to_dict(), "shortcut": "max"}))


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """(original, rebuilt from its ONNX export with unfolded BatchNorms, images)."""
    model = _trained_looking(TEACHER)
    out = tmp_path_factory.mktemp("teacher")
    export_model(model, out, PREPROCESS, version="test")
    images = _images(48)
    teacher = model_from_onnx(out, TEACHER)
    unfold_batchnorm(teacher, images)
    return model, teacher, images


def test_rebuilt_teacher_is_the_model_in_eval_and_about_it_in_training_mode(rebuilt):
    model, teacher, images = rebuilt
    with torch.no_grad():
        ref = outputs(model, images)
        got = outputs(teacher.eval(), images)
        for k in ref:
            torch.testing.assert_close(got[k], ref[k], atol=1e-4, rtol=1e-4)
        # Training mode on the same crops: every BatchNorm's batch statistics are the ones it
        # was given, so the function stays (a folded BatchNorm would renormalise everything).
        train_mode = outputs(teacher.train(), images)
        teacher.eval()
    torch.testing.assert_close(train_mode["features"], ref["features"], atol=2e-3, rtol=2e-3)
    torch.testing.assert_close(train_mode["landmarks"], ref["landmarks"], atol=2e-3, rtol=2e-3)


def test_student_refit_brings_it_closer_to_the_teacher(rebuilt):
    _, teacher, images = rebuilt
    plain, _ = student_from_teacher(teacher, STUDENT, images, refit=False)
    refit, log = student_from_teacher(teacher, STUDENT, images)
    assert any("kept 16 of 32 hidden channels" in line for line in log)
    assert refit.stage1.s28[0].body[0][0].weight.shape == (16, 8, 1, 1)
    torch.testing.assert_close(refit.stage2.state_dict()["gdconv.0.weight"], teacher.stage2.state_dict()["gdconv.0.weight"])
    held_out = _images(16, seed=7)
    with torch.no_grad():
        t = outputs(teacher, held_out)
        errs = [float((outputs(s, held_out)["features"] - t["features"]).pow(2).mean()) for s in (plain, refit)]
    assert errs[1] < 0.8 * errs[0]


def test_distill_loss_is_zero_for_the_teacher_and_pulls_a_student(rebuilt):
    _, teacher, images = rebuilt
    face = torch.tensor([1.0, 1.0, 0.0, 1.0])
    with torch.no_grad():
        t = outputs(teacher, images[:4])
    _, parts = distill_loss(t, t, face, 112, 10.0, 2.0, 1.0, 0.1, 1.0, 1.0)
    assert parts["kd_lm"] == 0 and parts["kd_pose"] == 0 and parts["kd_feat"] == 0
    student = ATPN(STUDENT).train()
    total, parts = distill_loss(outputs(student, images[:4]), t, face, 112, 10.0, 2.0, 1.0, 0.1, 1.0, 1.0)
    total.backward()
    assert parts["kd_lm"] > 0 and parts["kd_feat"] > 0
    assert student.stage1.stem[0][0].weight.grad.abs().sum() > 0


def test_train_with_a_teacher_logs_the_distillation(shared_data, tmp_path):
    from atpn_edge.train.checkpoint import write_checkpoint
    from atpn_edge.train.config import config_from_dict
    from atpn_edge.train.loop import train

    write_checkpoint({"model": _trained_looking(TEACHER).state_dict(), "model_config": TEACHER.to_dict()}, tmp_path / "t.pt")
    d = {"model": STUDENT.to_dict(), "data": {"root": str(shared_data), "val_split": str(tmp_path / "split.json")},
         "train": {"epochs": 1, "samples_per_epoch": 16, "batch_size": 8, "warmup_steps": 2, "teacher": str(tmp_path / "t.pt")}}
    metrics = train(config_from_dict(d), tmp_path / "run", limit=12)
    assert np.isfinite(metrics["loss"])
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "distilling from" in log and "kd lm" in log
