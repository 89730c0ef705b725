"""`atpn-edge validate MODEL_DIR`: the shipped model's validation numbers, and clear errors."""
from __future__ import annotations

import json

import pytest

from atpn_edge.cli import main
from atpn_edge.eval.validate import read_split


@pytest.mark.data
def test_validate_shipped_model_matches_its_card(shared_data, capsys):
    assert main(["validate", "atpn68", "--data", str(shared_data), "--json"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["model"] == "atpn68-v2.1" and res["n_300w"] == 133 and res["n_aflw2000"] > 100
    # the model card's numbers (4.43 % NME, 3.89 deg MAE, AUC 0.9998), with a margin for rounding in ONNX Runtime
    assert 4.3 < res["nme_io_300w"] < 4.6 and 3.7 < res["pose_mae"] < 4.1 and res["face_auc"] > 0.999


def test_validate_errors_name_the_problem(tmp_path, capsys):
    bad = tmp_path / "split.json"
    bad.write_text('{"300w": ["a"], "aflw2000": "b", "negatives": []}')
    with pytest.raises(ValueError, match="'aflw2000' must be a list"):
        read_split(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        read_split(bad)
    assert main(["validate", "atpn68", "--data", str(tmp_path), "--split", str(tmp_path / "none.json")]) == 2
    assert "split file not found" in capsys.readouterr().err
    (tmp_path / "ok.json").write_text('{"300w": [], "aflw2000": [], "negatives": []}')
    assert main(["validate", "atpn68", "--data", str(tmp_path), "--split", str(tmp_path / "ok.json")]) == 2
    assert "300w: missing" in capsys.readouterr().err
