"""The Yancheng baseline reproduces the public calibration figures within their bands.

Bands and sources: ``sim/calibration.py`` and docs/model.md ("Calibration").
"""

from __future__ import annotations

import pytest

from sim.calibration import TARGETS, calibration_summary


@pytest.fixture(scope="module")
def summary_1_100():
    return calibration_summary(scale=0.01, days=365)


@pytest.mark.parametrize("target", TARGETS, ids=[t.key for t in TARGETS])
def test_baseline_in_band_at_1_100(summary_1_100, target):
    v = summary_1_100[target.key]
    assert target.low <= v <= target.high, (
        f"{target.label}: {v:.3f} not in {target.low}–{target.high}"
    )


@pytest.fixture(scope="module")
def summary_1_1():
    """The whole city, 6.7 M residents, a year (about 2¼ min and 1.4 GB on 2 cores)."""
    return calibration_summary(scale=1.0, days=365)


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=[t.key for t in TARGETS])
def test_baseline_in_band_at_1_1(summary_1_1, target):
    v = summary_1_1[target.key]
    assert target.low <= v <= target.high, (
        f"{target.label}: {v:.3f} not in {target.low}–{target.high}"
    )
