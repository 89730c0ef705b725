import numpy as np
import pytest

from atpn_edge.datasets import FaceSample, load_ibug_folder
from atpn_edge.datasets.pose_labels import (
    ALL_POINTS, NO_SILHOUETTE, attach_fitted_poses, fit_pose, mean_shape, mean_shape_from_aflw2000,
    read_pose_csv, write_pose_csv,
)
from atpn_edge.core.pose import euler_to_matrix

rng = np.random.default_rng(1)


def _random_face() -> np.ndarray:
    shape = rng.normal(0, 1, (68, 3))
    return shape - shape.mean(axis=0)


def _project(shape, pose, scale=80.0, t=(200.0, 150.0)):
    return scale * (shape @ euler_to_matrix(*pose).T)[:, :2] + np.asarray(t)


@pytest.mark.parametrize("pose", [(0, 0, 0), (40, -20, 10), (-70, 15, -30), (10, 50, 160)])
def test_fit_recovers_exact_pose(pose):
    shape = _random_face()
    est, rms = fit_pose(_project(shape, pose), shape)
    np.testing.assert_allclose(est, pose, atol=1e-3)
    assert rms < 1e-6


def test_fit_ignores_nan_and_unlisted_points():
    shape = _random_face()
    pts = _project(shape, (25, 10, -5))
    pts[:17] = 1e4  # a wrong jaw must not matter when the jaw is not used
    pts[20] = np.nan
    est, _ = fit_pose(pts, shape, points=range(17, 68))
    np.testing.assert_allclose(est, (25, 10, -5), atol=1e-3)
    with pytest.raises(ValueError, match="at least 6"):
        fit_pose(np.full((68, 2), np.nan), shape)


def test_mean_shape_undoes_pose_and_is_symmetric():
    base = _random_face()
    poses = [(30, 10, 5), (-45, -5, 20), (0, 25, -10)]
    shape = mean_shape([2.5 * base @ euler_to_matrix(*p).T + 7.0 for p in poses], poses)
    # mirror of the mean shape is the mean shape (x negated, points swapped left/right)
    from atpn_edge.core.landmarks import IBUG68
    np.testing.assert_allclose(shape[list(IBUG68.flip)] * [-1, 1, 1], shape, atol=1e-12)
    est, _ = fit_pose(_project(shape, (20, -10, 5)), shape)
    np.testing.assert_allclose(est, (20, -10, 5), atol=1e-3)


def test_pose_csv_round_trip_and_cache(tmp_path):
    poses = {"b": np.array([1.5, -2.25, 3.0], np.float32), "a": np.array([0, 0, -90], np.float32)}
    write_pose_csv(tmp_path / "p.csv", poses)
    back = read_pose_csv(tmp_path / "p.csv")
    assert list(back) == ["a", "b"]
    np.testing.assert_allclose(back["b"], poses["b"])
    (tmp_path / "bad.csv").write_text("name,yaw\n")
    with pytest.raises(ValueError, match="bad.csv"):
        read_pose_csv(tmp_path / "bad.csv")
    samples = [FaceSample("a", tmp_path / "a.jpg", np.zeros((68, 2))), FaceSample("b", tmp_path / "b.jpg", np.zeros((68, 2)))]
    assert attach_fitted_poses(samples, tmp_path / "no_aflw", cache_csv=tmp_path / "p.csv") == 2
    np.testing.assert_allclose(samples[1].pose, poses["b"])


@pytest.mark.data
def test_labels_agree_with_aflw2000(shared_data):
    mats = sorted((shared_data / "aflw2000").glob("*.mat"))
    shape = mean_shape_from_aflw2000(mats[0::2])
    from atpn_edge.datasets.aflw2000 import read_face3d_mat
    errs = {ALL_POINTS: [], NO_SILHOUETTE: []}
    for path in mats[1:200:2]:
        lm, pose = read_face3d_mat(path)
        if np.abs(pose).max() > 99:
            continue
        for pts in errs:
            errs[pts].append(np.abs(fit_pose(lm, shape, pts)[0] - pose))
    # docs/POSE_LABELS.md: 0.8/1.6/1.0 and 1.9/3.1/1.5 on the whole half
    assert (np.mean(errs[ALL_POINTS], axis=0) < 2.5).all()
    assert (np.mean(errs[NO_SILHOUETTE], axis=0) < 4.5).all()


@pytest.mark.data
def test_300w_labels(shared_data, tmp_path):
    faces = load_ibug_folder(shared_data / "300w" / "afw")[:40]
    assert attach_fitted_poses(faces, shared_data / "aflw2000", cache_csv=tmp_path / "c.csv") == 40
    yaws = np.array([f.pose[0] for f in faces])
    assert np.isfinite(yaws).all() and np.abs(yaws).max() < 99 and yaws.std() > 3
    assert (tmp_path / "c.csv").is_file()
