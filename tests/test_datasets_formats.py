"""Loaders of the public formats, on the samples in ../shared/data/formats (and tiny synthetic files)."""
import numpy as np
import pytest

from atpn_edge.datasets import (
    WFLW98_TO_68, load_300vw, load_aflw2000, load_coco_keypoints, load_ibug_folder, load_wflw_list,
)

pytestmark = pytest.mark.data


def _procrustes_residual(a: np.ndarray, b: np.ndarray) -> float:
    """Distance between the unit-size shapes after the best rotation of b onto a (0 = same shape;
    real faces vs the 300W mean: 0.1-0.3, a shuffled point order: > 1)."""
    a0, b0 = a - a.mean(0), b - b.mean(0)
    a0, b0 = a0 / np.linalg.norm(a0), b0 / np.linalg.norm(b0)
    u, _, vt = np.linalg.svd(b0.T @ a0)
    return float(np.linalg.norm(b0 @ u @ vt - a0))


@pytest.fixture(scope="module")
def mean68(shared_data):
    faces = load_ibug_folder(shared_data / "300w" / "helen_train")[:100]
    shapes = []
    for f in faces:
        p = f.landmarks - f.landmarks.mean(0)
        shapes.append(p / np.linalg.norm(p))
    return np.mean(shapes, axis=0)


def test_wflw_json_maps_onto_68(shared_data, mean68):
    faces = load_coco_keypoints(shared_data / "formats/mmpose/wflw/test_wflw.json")
    assert len(faces) == 4 and all(f.scheme == "ibug68" and f.source_points.shape == (98, 2) for f in faces)
    for f in faces:
        assert _procrustes_residual(mean68, f.landmarks) < 0.35, f.name
        shuffled = f.landmarks[np.random.default_rng(0).permutation(68)]
        assert _procrustes_residual(mean68, shuffled) > 0.8  # the check can tell a wrong map
    raw = load_coco_keypoints(shared_data / "formats/mmpose/wflw/test_wflw.json", to68=False)
    assert raw[0].landmarks.shape == (98, 2) and raw[0].scheme == "wflw98"


def test_wflw_list_file(shared_data, tmp_path, mean68):
    # a list file in WFLW's own layout, built from the json sample's points
    faces = load_coco_keypoints(shared_data / "formats/mmpose/wflw/test_wflw.json", to68=False)
    lines = []
    for f in faces:
        coords = " ".join(f"{v:.6f}" for v in f.landmarks.ravel())
        lines.append(f"{coords} 1 2 3 4 0 1 0 0 0 1 {f.image.name}")
    lines.append("1 2 3 broken.jpg")
    lst = tmp_path / "list_98pt_rect_attr_test.txt"
    lst.write_text("\n".join(lines) + "\n")
    skipped = []
    got = load_wflw_list(lst, faces[0].image.parent, skipped=skipped)
    assert len(got) == 4 and len(skipped) == 1 and "207" in skipped[0].reason
    np.testing.assert_allclose(got[1].landmarks, faces[1].landmarks[list(WFLW98_TO_68)], atol=1e-5)
    assert len(set(WFLW98_TO_68)) == 68


def test_other_mmpose_jsons(shared_data, mean68):
    for name, k in (("300w", 68), ("300wlp", 68), ("aflw", 19), ("cofw", 29), ("lapa", 106)):
        (json_file,) = (shared_data / "formats/mmpose" / name).glob("*.json")
        faces = load_coco_keypoints(json_file, origin=1.0 if k == 68 else 0.0)
        assert len(faces) == 2 and all(f.landmarks.shape == (k, 2) for f in faces), name
        if k == 68:
            assert all(_procrustes_residual(mean68, f.landmarks) < 0.35 for f in faces), name


def test_300vw_clips_and_json_agree(shared_data):
    root = shared_data / "formats/mmpose/300vw"
    skipped = []
    clips = load_300vw(root, skipped=skipped)
    assert [f.name for f in clips] == ["001/000006", "001/000009", "401/000732"]
    assert [s.name for s in skipped] == ["401/000731"]  # in broken_frames.npy
    from_json = load_coco_keypoints(root / "anno_300vw.json", origin=1.0)
    for a, b in zip(clips, from_json):
        np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-3)
        assert a.image == b.image


def test_300vw_video_clip(tmp_path, shared_data):
    clip = tmp_path / "007"
    (clip / "annot").mkdir(parents=True)
    src = shared_data / "formats/mmpose/300vw/001/annot/000006.pts"
    (clip / "annot" / "000003.pts").write_text(src.read_text())
    (clip / "vid.avi").write_bytes(b"x")
    (f,) = load_300vw(tmp_path)
    assert f.image.name == "vid.avi" and f.frame == 2


def test_300wlp_mat(shared_data):
    (f,) = load_aflw2000(shared_data / "formats/300wlp_face3d")
    assert f.landmarks.shape == (68, 2) and np.isfinite(f.pose).all()
    assert f.pose[0] == pytest.approx(-44.0, abs=0.1)  # a face turned to the image's right


def test_menpo_rejects_tongue(shared_data):
    skipped = []
    faces = load_ibug_folder(shared_data / "formats/menpo", skipped=skipped)
    assert sorted(f.name for f in faces) == ["breakingbad", "einstein", "takeo"]
    assert faces[2].image.suffix == ".ppm"
    (tongue,) = skipped
    assert tongue.name == "tongue.pts" and "19 points, expected 68" in tongue.reason
