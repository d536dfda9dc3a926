"""The warm-up's settling (issue 14): the settling day of a known curve, and a real run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.experiment.settling import settle_day, settling, settling_figure

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("tau,b", [(20.0, 0.1), (60.0, 0.2), (5.0, -0.1)])
def test_settle_day_of_an_exponential_approach(tau, b):
    t = np.arange(2000.0)
    x = 0.6 + b * np.exp(-t / tau)
    # |b|·e^(−t/τ) ≤ 0.01·0.6 from t = τ·ln(|b|/0.006) on
    want = math.ceil(tau * math.log(abs(b) / 0.006))
    assert settle_day(x, window=1, tol=0.01, tail=300) == want
    # a 30-day rolling mean settles later, never earlier
    assert settle_day(x, window=30, tol=0.01, tail=300) >= want


def test_a_series_that_never_settles_before_its_last_year_says_so():
    t = np.arange(800.0)
    assert settle_day(0.5 + 0.001 * t, tail=365) is None  # a trend, no level
    assert settle_day(np.full(100, 0.5), tail=365) is None  # too short to tell


def test_settling_of_a_real_experiment(tmp_path):
    exp = tmp_path / "e.toml"
    exp.write_text(
        'kind = "compare"\nname = "s"\nreplications = 1\ndays = 30\nscale = 0.0005\n'
        'set = ["warmup_days=20"]\n'
        f'scenarios = ["{ROOT / "scenarios" / "yancheng.toml"}"]\n',
        encoding="utf-8",
    )
    r = settling(exp, seeds=1)
    assert r["warmup_days"] == 20 and r["days_simulated"] == 20 + 365 + 30
    for key in ("trust_mean", "participation_rate"):
        assert len(r["series"][key]) == 1 and len(r["series"][key][0]) == r["days_simulated"]
        assert len(r["settle_days"][key]) == 1
    assert isinstance(r["warmup_enough"], bool)
    fig = settling_figure(r)
    fig.savefig(tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 10_000
