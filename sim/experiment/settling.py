"""How long the warm-up must be: trust and participation settling from day 0.

A comparison is read after a warm-up (``warmup_days``, shared in
``experiments/headline_research.toml``) so that what it measures is what a configuration
does to a settled city, not the model's spin-up from its initial values. This module
shows the settling (issue 14): it simulates the experiment's reference scenario from day
0 (no warm-up) for the warm-up plus the reported days with several seeds, and finds the
day from which the 30-day rolling mean of mean trust and of the participation rate stays
within a tolerance of its level over the last year.

``python -m sim.experiment.settling EXPERIMENT.toml [--seeds 3] [--out settling.png]``
prints the settling days as JSON and draws the figure (Chinese, English beside).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

SERIES = ("trust_mean", "participation_rate")


def settle_day(x: np.ndarray, window: int = 30, tol: float = 0.01, tail: int = 365) -> int | None:
    """First day from which the ``window``-day rolling mean of ``x`` stays within ``tol``
    (relative) of the mean of its last ``tail`` days; None if it never does before the tail.

    >>> t = np.arange(1000.0)
    >>> settle_day(0.6 + 0.1 * np.exp(-t / 50), window=1, tol=0.01, tail=100)  # 50·ln(0.1/0.006)
    141
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < window + tail:
        return None
    level = x[-tail:].mean()
    roll = np.convolve(x, np.ones(window) / window, mode="valid")  # roll[i]: days i…i+w−1
    off = np.abs(roll - level) > tol * abs(level)
    if not off.any():
        return 0
    first_ok = int(np.flatnonzero(off)[-1]) + 1  # after the last window that is off
    day = first_ok + window - 1  # the window ending on this day is the first that stays in
    return day if day < n - tail else None


def settling(
    experiment: str | Path, seeds: int = 3, window: int = 30, tol: float = 0.01
) -> dict[str, Any]:
    """Simulate the reference of ``experiment`` from day 0 and find its settling days.

    Returns the per-seed daily ``series``, the ``settle_days`` per series and seed, and
    ``warmup_days`` of the experiment with ``warmup_enough`` (every seed settled by then).
    """
    from sim.experiment.plan import build_scenario, plan_compare, replication_seed
    from sim.experiment.spec import load_experiment
    from sim.model import GovernanceModel  # lazy: numba

    path = Path(experiment)
    exp = load_experiment(path, expect="compare")
    plan = plan_compare(exp, base_dir=path.parent, where=str(path))
    ref = build_scenario(plan.groups[0]["scenario"], {}, plan.runs[0]["seed"])
    warmup, days = ref.warmup_days, ref.days
    total = warmup + max(days, 365 + window)
    out: dict[str, Any] = {
        "experiment": str(path),
        "scenario": ref.name,
        "scale": ref.scale,
        "warmup_days": warmup,
        "days_simulated": total,
        "window": window,
        "tol": tol,
        "series": {k: [] for k in SERIES},
        "settle_days": {k: [] for k in SERIES},
    }
    for r in range(seeds):
        seed = replication_seed(plan.seed, r)
        sc = ref.model_copy(update={"seed": seed, "warmup_days": 0, "days": total})
        model = GovernanceModel(sc)
        model.run(total)
        daily = model.metrics.daily_arrays()
        for k in SERIES:
            x = np.asarray(daily[k], dtype=np.float64)
            out["series"][k].append(x.tolist())
            out["settle_days"][k].append(settle_day(x, window, tol))
    days_needed = [d for v in out["settle_days"].values() for d in v]
    out["warmup_enough"] = all(d is not None and d <= warmup for d in days_needed)
    return out


def settling_figure(result: dict[str, Any], lang: str = "zh"):
    """Mean trust and participation rate from day 0, one line per seed, with the
    experiment's warm-up and each series' latest settling day marked."""
    from sim.viz.figures import _label, _new_figure, _text

    fig, axes = _new_figure((8.0, 5.5), nrows=len(SERIES))
    warm = result["warmup_days"]
    for ax, key in zip(axes, SERIES, strict=True):
        for x in result["series"][key]:
            ax.plot(np.arange(len(x)), x, lw=1.0, alpha=0.8)
        ax.axvline(warm, color="0.2", ls="--", lw=1.0)
        end = _text(" 预热结束", " end of warm-up", lang)
        ax.text(warm, 1.0, end, transform=ax.get_xaxis_transform(), va="top", fontsize=8)
        settled = [d for d in result["settle_days"][key] if d is not None]
        if settled:
            ax.axvline(max(settled), color="#d1495b", ls=":", lw=1.2)
        ax.set_ylabel(_label(key, lang))
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel(_text("第几天（自第 0 天，无预热）", "day (from day 0, no warm-up)", lang))
    axes[0].set_title(
        _text(
            "预热：信任度与参与率的稳定（红色点线：最晚稳定日）",
            "warm-up: trust and participation settling (red dotted: latest settling day)",
            lang,
        )
    )
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.experiment.settling", description=__doc__)
    ap.add_argument("experiment")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--window", type=int, default=30)
    ap.add_argument("--tol", type=float, default=0.01)
    ap.add_argument("--out", help="write the figure (PNG) here")
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    a = ap.parse_args(argv)
    result = settling(a.experiment, a.seeds, a.window, a.tol)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        settling_figure(result, a.lang).savefig(a.out, dpi=120)
    shown = {k: v for k, v in result.items() if k != "series"}
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
