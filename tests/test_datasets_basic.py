import math

import numpy as np
import pytest

from atpn_edge.datasets import (
    AFLW21_TO_68, load_aflw2000, load_aflw_crops, load_ibug_folder, list_negative_images, read_pts,
)
from atpn_edge.datasets.aflw2000 import pose_from_pose_para
from atpn_edge.datasets.ibug_pts import PtsError


def _write_pts(path, pts, header=True):
    lines = [f"{x:.3f} {y:.3f}" for x, y in pts]
    if header:
        lines = ["version: 1", f"n_points: {len(pts)}", "{", *lines, "}"]
    path.write_text("\n".join(lines) + "\n")


def test_read_pts_subtracts_one_with_and_without_header(tmp_path):
    pts = np.arange(136, dtype=np.float64).reshape(68, 2) + 1.0
    _write_pts(tmp_path / "a.pts", pts)
    _write_pts(tmp_path / "b.pts", pts, header=False)
    for name in ("a.pts", "b.pts"):
        got = read_pts(tmp_path / name)
        assert got.dtype == np.float32 and got.shape == (68, 2)
        np.testing.assert_allclose(got, pts - 1.0)


def test_read_pts_wrong_count_names_file(tmp_path):
    _write_pts(tmp_path / "tongue.pts", np.ones((19, 2)))
    with pytest.raises(PtsError, match=r"tongue\.pts.*19 points, expected 68"):
        read_pts(tmp_path / "tongue.pts")
    bad = tmp_path / "liar.pts"
    bad.write_text("version: 1\nn_points: 68\n{\n1 2\n}\n")
    with pytest.raises(PtsError, match=r"liar\.pts.*n_points=68.*1 points"):
        read_pts(bad)


def test_load_ibug_folder_skips_bad_items(tmp_path):
    (tmp_path / "sub").mkdir()
    good = np.random.default_rng(0).uniform(1, 50, (68, 2))
    _write_pts(tmp_path / "sub" / "good.pts", good)
    (tmp_path / "sub" / "good.png").write_bytes(b"x")
    _write_pts(tmp_path / "noimage.pts", good)
    _write_pts(tmp_path / "short.pts", good[:10])
    (tmp_path / "short.jpg").write_bytes(b"x")
    skipped = []
    samples = load_ibug_folder(tmp_path, skipped=skipped)
    assert [s.name for s in samples] == ["sub/good"]
    assert sorted(s.name for s in skipped) == ["noimage.pts", "short.pts"]
    assert np.isnan(samples[0].pose).all() and samples[0].is_face


def test_pose_para_order():
    yaw, pitch, roll = pose_from_pose_para([0.1, 0.2, -0.3, 5, 6, 7, 0.001])
    assert math.isclose(yaw, math.degrees(0.2), rel_tol=1e-6)
    assert math.isclose(pitch, math.degrees(0.1), rel_tol=1e-6)
    assert math.isclose(roll, math.degrees(-0.3), rel_tol=1e-6)


def test_aflw2000_bad_mat_is_skipped(tmp_path):
    (tmp_path / "image00001.mat").write_bytes(b"not a mat file")
    (tmp_path / "image00001.jpg").write_bytes(b"x")
    skipped = []
    assert load_aflw2000(tmp_path, skipped=skipped) == []
    assert len(skipped) == 1 and "image00001.mat" in skipped[0].reason


def test_aflw_crops_map_and_empty_cells(tmp_path):
    header = ["name", "yaw_deg"] + [f"{a}{i}" for i in range(21) for a in "xy"]
    cells = [str(float(v)) for v in range(42)]
    cells[2 * 12] = cells[2 * 12 + 1] = ""  # LeftEar invisible
    (tmp_path / "labels.csv").write_text(",".join(header) + "\nimage1.jpg,12.5," + ",".join(cells) + "\n"
                                         "missing.jpg,1," + ",".join(cells) + "\n")
    (tmp_path / "image1.jpg").write_bytes(b"x")
    skipped = []
    (s,) = load_aflw_crops(tmp_path, skipped=skipped)
    assert [k.name for k in skipped] == ["missing.jpg"]
    assert s.pose[0] == 12.5 and np.isnan(s.pose[1:]).all()
    assert np.isnan(s.source_points[12]).all()
    np.testing.assert_array_equal(s.landmarks[36], [12.0, 13.0])  # AFLW point 6
    np.testing.assert_array_equal(s.landmarks[30], [28.0, 29.0])  # AFLW point 14, nose tip
    assert np.isfinite(s.landmarks).all(axis=1).sum() == len(AFLW21_TO_68)


@pytest.mark.data
def test_shared_data_loaders(shared_data):
    skipped = []
    faces = load_ibug_folder(shared_data / "300w", skipped=skipped)
    assert len(faces) == 1207 and not skipped
    assert all(np.isfinite(f.landmarks).all() for f in faces)
    aflw = load_aflw2000(shared_data / "aflw2000", skipped=skipped)
    assert len(aflw) == 955 and not skipped
    # pose_deg.csv is the README's own reading of Pose_Para: the loader must agree with it
    rows = [ln.split(",") for ln in (shared_data / "aflw2000" / "pose_deg.csv").read_text().split()[1:]]
    csv_pose = {r[0][:-4]: (float(r[2]), float(r[1]), float(r[3])) for r in rows}
    for f in aflw[:50]:
        np.testing.assert_allclose(f.pose, csv_pose[f.name], atol=1e-3)
    # pt3d_68 is used as stored (docs/DATASETS.md: the measured pixel origin)
    first = (shared_data / "aflw2000" / "landmarks68.csv").read_text().split()[1].split(",")
    assert first[0] == aflw[0].image.name
    np.testing.assert_allclose(aflw[0].landmarks.ravel(), np.array(first[1:], float), atol=2e-3)
    crops = load_aflw_crops(shared_data / "aflw_crops", skipped=skipped)
    assert len(crops) == 8000 and not skipped
    assert len(list_negative_images(shared_data / "negatives")) == 84
