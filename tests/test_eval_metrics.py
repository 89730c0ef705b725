import numpy as np
import pytest

from atpn_edge.eval.metrics import (
    auc, box_size, ced, failure_rate, inter_ocular, nme_box, nme_inter_ocular, point_errors, pose_mae,
)


def _face(iod: float = 100.0) -> np.ndarray:
    g = np.zeros((68, 2))
    g[:, 0] = np.linspace(0, iod, 68)
    g[:, 1] = np.linspace(0, 50, 68)
    g[36] = (0, 20)
    g[45] = (iod, 20)
    return g


def test_nme_inter_ocular_hand_computed():
    gt = _face(100.0)
    pred = gt.copy()
    pred[:, 0] += 3.0  # every point 3 px off
    pred[0] += (0.0, 4.0)  # point 0: (3, 4) -> 5 px
    expected = (67 * 3.0 + 5.0) / 68 / 100.0
    assert nme_inter_ocular(pred, gt)[0] == pytest.approx(expected)
    assert inter_ocular(gt)[0] == pytest.approx(100.0)


def test_nme_skips_missing_ground_truth_points():
    gt = _face()
    pred = gt + (6.0, 8.0)  # 10 px everywhere
    gt_missing = gt.copy()
    gt_missing[10:20] = np.nan
    pred[10:20] = 1e6  # must not count
    np.testing.assert_allclose(point_errors(pred, gt_missing), [10.0])
    with pytest.raises(ValueError, match="no valid point"):
        point_errors(pred, np.full((68, 2), np.nan))


def test_nme_box():
    gt = np.array([[[0.0, 0.0], [40.0, 0.0], [40.0, 90.0], [0.0, 90.0]]])  # box 40 x 90 -> sqrt = 60
    assert box_size(gt)[0] == pytest.approx(60.0)
    pred = gt + (0.0, 6.0)
    assert nme_box(pred, gt)[0] == pytest.approx(0.1)


def test_ced_fr_auc():
    nme = np.array([0.0, 0.02, 0.05, 0.2])
    np.testing.assert_allclose(ced(nme, [0.0, 0.02, 0.049, 0.05, 0.1, 1.0]), [0.25, 0.5, 0.5, 0.75, 0.75, 1.0])
    assert failure_rate(nme) == pytest.approx(0.25)
    assert failure_rate(np.array([0.1])) == 0.0  # at the threshold is not a failure
    # area under the step CED on [0, 0.1]: 0.25*0.02 + 0.5*0.03 + 0.75*0.05 = 0.0575 -> / 0.1
    assert auc(nme) == pytest.approx(0.575)
    assert auc(np.zeros(5)) == pytest.approx(1.0) and auc(np.full(3, 0.5)) == 0.0
    grid = np.linspace(0, 0.1, 100001)
    assert auc(nme) == pytest.approx(np.trapezoid(ced(nme, grid), grid) / 0.1, abs=1e-4)


def test_pose_mae_filters_large_angles():
    gt = np.array([[10.0, 0, 0], [0, 0, 0], [120.0, 0, 0], [0, np.nan, 0]])
    pred = np.array([[12.0, -1, 3], [0, 2, 0], [0.0, 0, 0], [0, 0, 0]])
    mae, n = pose_mae(pred, gt)
    assert n == 2
    np.testing.assert_allclose(mae, [1.0, 1.5, 1.5])
    mae, _ = pose_mae(np.array([[0.0, 0, 185]]), np.array([[0.0, 0, -90]]))  # 275 apart = 85 the short way
    np.testing.assert_allclose(mae, [0, 0, 85])
    mae, _ = pose_mae(np.array([[-170.0, 0, 0]]), np.array([[20.0, 0, 0]]))
    np.testing.assert_allclose(mae, [170, 0, 0])
    with pytest.raises(ValueError, match="99"):
        pose_mae(pred[2:3], gt[2:3])
