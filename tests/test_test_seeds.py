"""Random test inputs are replayable: the seed is printed and ATPN_TEST_SEED fixes it."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import SEED_ENV, seeded_rng


def test_seed_is_printed_and_overridable(monkeypatch, capsys):
    monkeypatch.setenv(SEED_ENV, "1234")
    rng, seed = seeded_rng()
    assert seed == 1234 and f"{SEED_ENV}=1234" in capsys.readouterr().out
    assert rng.integers(0, 1 << 30) == np.random.default_rng(1234).integers(0, 1 << 30)
    monkeypatch.delenv(SEED_ENV)
    seeds = {seeded_rng()[1] for _ in range(4)}
    assert len(seeds) > 1  # fresh draws without the variable
    monkeypatch.setenv(SEED_ENV, "twelve")
    with pytest.raises(ValueError, match=SEED_ENV):
        seeded_rng()
