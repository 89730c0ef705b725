"""The network's shapes, the torch heatmap against the SPEC formula, MAC counting, flip handling."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="model tests need torch (train extra)")

from atpn_edge.core.landmarks import IBUG68  # noqa: E402
from atpn_edge.train.config import DataConfig  # noqa: E402
from atpn_edge.train.data import FaceCrops, Record, crop_rule  # noqa: E402
from atpn_edge.train.heatmap import render_heatmap  # noqa: E402
from atpn_edge.train.macs import count_macs, count_params  # noqa: E402
from atpn_edge.train.model import ATPN, ModelConfig  # noqa: E402
from atpn_edge.core.crop import params_from_landmarks  # noqa: E402

SMALL = ModelConfig(stem=8, shallow=8, mid=16, deep=16, blocks=(1, 1, 1), expand=2, embed=32, feature_channels=8, head=(16, 16))


@pytest.mark.parametrize("k", [68, 98])
def test_shapes(k):
    cfg = ModelConfig(**{**SMALL.to_dict(), "num_landmarks": k, "blocks": (1, 1, 1), "head": (16, 16)})
    model = ATPN(cfg).eval()
    x = torch.zeros(2, 3, 112, 112)
    with torch.no_grad():
        lm, feat = model.stage1(x)
        heat = model.heatmap(lm)
        pose, logit = model.stage2(feat, heat)
        f_lm, f_pose, f_logit = model(x)
    assert lm.shape == (2, k, 2) and feat.shape == (2, cfg.feature_channels, 28, 28)
    assert heat.shape == (2, 1, 28, 28) and pose.shape == (2, 3) and logit.shape == (2, 1)
    assert torch.equal(f_lm, lm) and torch.equal(f_pose, pose) and torch.equal(f_logit, logit)


def test_shipped_sizes_within_budget():
    for cfg in (ModelConfig(), SMALL):
        model = ATPN(cfg).eval()
        assert count_params(model) <= 1_500_000
        assert count_macs(model, torch.zeros(1, 3, 112, 112)) <= 150_000_000


def _heatmap_reference(lm: np.ndarray, h: int, w: int, s: float) -> np.ndarray:
    """SPEC section 4, literally: max over k of exp(...), float64."""
    out = np.zeros((lm.shape[0], 1, h, w))
    for n in range(lm.shape[0]):
        for y in range(h):
            for x in range(w):
                d = (x + 0.5 - w * lm[n, :, 0]) ** 2 + (y + 0.5 - h * lm[n, :, 1]) ** 2
                out[n, 0, y, x] = np.max(np.exp(-d / (2 * s * s)))
    return out


@pytest.mark.parametrize("h,w,sigma", [(28, 28, 1.0), (20, 24, 2.5)])
def test_heatmap_matches_spec_formula(h, w, sigma):
    rng = np.random.default_rng(0)
    lm = rng.uniform(-0.1, 1.1, size=(2, 68, 2))  # some points outside the crop
    ref = _heatmap_reference(lm, h, w, sigma)
    got64 = render_heatmap(torch.from_numpy(lm), h, w, sigma).numpy()
    np.testing.assert_allclose(got64, ref, rtol=1e-12, atol=1e-14)
    got32 = render_heatmap(torch.from_numpy(lm).float(), h, w, sigma).numpy()
    np.testing.assert_allclose(got32, ref, atol=2e-5)  # float32 rounding of d^2 ~ 1e3
    assert got64.max() <= 1.0 and got64.max() > 0.5


def test_heatmap_peak_at_pixel_centre():
    lm = torch.tensor([[[(3 + 0.5) / 28, (5 + 0.5) / 28]]])
    heat = render_heatmap(lm, 28, 28, 1.0)[0, 0]
    assert heat[5, 3] == 1.0 and heat.argmax() == 5 * 28 + 3


def test_count_macs_known_layers():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, 2, 1), torch.nn.Conv2d(8, 8, 3, 1, 1, groups=8),
                              torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10))
    macs = count_macs(net, torch.zeros(1, 3, 8, 8))
    assert macs == 8 * 16 * 27 + 8 * 16 * 9 + 128 * 10
    assert count_params(net) == 3 * 8 * 9 + 8 + 8 * 9 + 8 + 1280 + 10


def test_flip_map_is_a_mirror_involution():
    flip = np.array(IBUG68.flip)
    assert sorted(flip) == list(range(68)) and (flip[flip] == np.arange(68)).all()
    assert flip[36] == 45 and flip[0] == 16 and flip[8] == 8 and flip[30] == 30 and flip[48] == 54


def _face_record() -> Record:
    """A synthetic face: eyes, nose, mouth, jaw at plausible places on a noise image."""
    rng = np.random.default_rng(3)
    jaw = np.stack([np.linspace(60, 140, 17), 100 + 40 * np.sin(np.linspace(0, np.pi, 17))], 1)
    pts = np.concatenate([jaw, rng.uniform(70, 130, size=(51, 2))])
    pts[36:42] = [[75, 90], [80, 87], [85, 87], [90, 90], [85, 92], [80, 92]]
    pts[42:48] = [[110, 90], [115, 87], [120, 87], [125, 90], [120, 92], [115, 92]]
    img = rng.integers(0, 256, size=(200, 200, 3), dtype=np.uint8)
    pose = np.array([30.0, -10.0, 5.0], np.float32)
    return Record("synthetic", "aflw2000", img, pts.astype(np.float32), pose, params_from_landmarks(pts))


def test_flip_mirrors_image_landmarks_and_pose():
    base = dict(shift=0.0, scale=0.0, rotate_deg=0.0, photometric=False, offface_p=0.0)
    rec = _face_record()
    plain = FaceCrops([rec], DataConfig(**base, flip_p=0.0), train=True)[0]
    flipped = FaceCrops([rec], DataConfig(**base, flip_p=1.0), train=True)[0]
    assert torch.allclose(flipped["image"], plain["image"].flip(-1))
    flip = list(IBUG68.flip)
    want = plain["landmarks"][flip].clone()
    want[:, 0] = 1.0 - want[:, 0]
    assert torch.allclose(flipped["landmarks"], want, atol=1e-6)
    # yaw and roll change sign under a mirror, pitch does not
    assert torch.allclose(flipped["pose"], plain["pose"] * torch.tensor([-1.0, 1.0, -1.0]), atol=1e-5)
    assert plain["face"].item() == 1.0


def test_crop_targets_are_in_the_crop():
    rec = _face_record()
    s = FaceCrops([rec], DataConfig(photometric=False), train=False)[0]
    lm = s["landmarks"].numpy()
    assert s["landmarks_mask"].sum() == 68
    assert lm.min() > 0.0 and lm.max() < 1.0  # the crop rule frames every point
    off = FaceCrops([rec], DataConfig(), train=False)[1]  # validation: one off-face negative per face
    assert off["face"].item() == 0.0 and off["landmarks_mask"].sum() == 0


def test_landmark_weights_and_jaw_free_shape_the_mask():
    rec = _face_record()  # source "aflw2000"
    jawless = FaceCrops([rec], DataConfig(photometric=False, jaw_free=("aflw2000",)), train=False)[0]["landmarks_mask"]
    assert jawless[:17].sum() == 0 and torch.all(jawless[17:] == 1.0)
    light = FaceCrops([rec], DataConfig(photometric=False, landmark_weights={"aflw2000": 0.25}), train=False)[0]
    assert torch.all(light["landmarks_mask"] == 0.25)
    other = FaceCrops([rec], DataConfig(photometric=False, jaw_free=("300w",)), train=False)[0]["landmarks_mask"]
    assert other.sum() == 68


def test_deeper_model_warm_starts_exactly_where_the_shallower_ended():
    torch.manual_seed(0)
    small = dict(stem=8, shallow=8, mid=16, deep=16, embed=32, feature_channels=8, head=(16, 16))
    shallow = ATPN(ModelConfig(**small, blocks=(1, 1, 1)))
    for p in shallow.parameters():  # non-trivial BN scales everywhere
        p.data.add_(0.1 * torch.randn_like(p))
    shallow.eval()
    deep = ATPN(ModelConfig(**small, blocks=(1, 2, 3)))
    fresh = deep.load_matching(shallow.state_dict())
    assert fresh and all(".s14.1." in k or ".s7.1." in k or ".s7.2." in k for k in fresh)
    x = torch.randn(2, 3, 112, 112)
    for a, b in zip(shallow(x), deep.eval()(x)):
        assert torch.allclose(a, b, atol=1e-6)


def test_pose_flip_sign_on_real_faces(shared_data):
    """Mirroring a face's landmarks and refitting the pose flips yaw and roll, keeps pitch."""
    from atpn_edge.datasets import load_aflw2000
    from atpn_edge.datasets.pose_labels import fit_pose, mean_shape_from_aflw2000
    from atpn_edge.core.landmarks import flip_landmarks

    mats = sorted((shared_data / "aflw2000").glob("*.mat"))[:40]
    shape = mean_shape_from_aflw2000(mats)
    faces = [s for s in load_aflw2000(shared_data / "aflw2000")[:60] if 20 < abs(s.pose[0]) < 60][:4]
    assert faces
    for s in faces:
        a, _ = fit_pose(s.landmarks, shape)
        b, _ = fit_pose(flip_landmarks(s.landmarks, 450), shape)
        np.testing.assert_allclose(b, a * np.array([-1, 1, -1]), atol=1.0)
        assert np.sign(a[0]) == np.sign(s.pose[0])
