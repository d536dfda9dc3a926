"""Refactors keep the numbers: daily metrics and summaries equal the recorded before-files.

The files in ``tests/golden/`` were written by ``tests/golden/make_golden.py`` before the
mechanism-contract redesign (issue 11): ``yancheng``, ``fine_grids`` and ``modernised`` at
1:100 over 120 days, seeds 1–3. A change that moves any number fails here; a deliberate
change of numbers rewrites the files in its own commit and says why.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(HERE))

from make_golden import SCENARIOS, SEEDS, golden_run  # noqa: E402


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_numbers_unchanged(name: str, seed: int) -> None:
    before = np.load(HERE / f"{name}_seed{seed}.npz")
    after = golden_run(name, seed)
    missing = sorted(set(before.files) - set(after))
    assert not missing, f"metrics no longer reported: {missing}"
    changed = [k for k in before.files if not np.array_equal(before[k], after[k], equal_nan=True)]
    assert not changed, f"{name} seed {seed}: changed {changed}"
