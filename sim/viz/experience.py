"""Trust and participation over a multi-year run, one figure per scenario (issue 12, 4).

Residents' trust (:mod:`sim.kernels.trust`: own experience, fair procedure, word of mouth)
and participation (:mod:`sim.kernels.participation`: efficacy, neglect, trust carried over)
respond to how the city handles their reports; the figure shows a configuration's daily
means against the baseline's, so a reader sees whether it raised or lowered them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim import metrics_schema
from sim.viz.fonts import setup_cjk_font

SERIES = ("trust_mean", "participation_rate")


def _label(key: str, lang: str) -> str:
    zh, en, _ = metrics_schema.DAILY_COLUMNS[key]
    return zh if lang == "zh" else en


def trust_participation_figure(
    daily: Mapping[str, Any],
    baseline: Mapping[str, Any] | None = None,
    *,
    title: str = "",
    lang: str = "zh",
) -> Figure:
    """Mean trust and participation rate by day (two panels), with the baseline dashed.

    Parameters
    ----------
    daily : mapping of column → array
        A run's daily metrics (``RunResult.daily``), with ``day``, ``trust_mean`` and
        ``participation_rate``.
    baseline : mapping, optional
        The baseline's daily metrics over the same days, drawn dashed for comparison.
    title : str
        The scenario's title.
    lang : {"zh", "en"}
    """
    setup_cjk_font()
    fig = Figure(figsize=(8.0, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 1, sharex=True)
    base_name = "基线" if lang == "zh" else "baseline"
    for ax, key in zip(axes, SERIES, strict=True):
        day = np.asarray(daily["day"], dtype=float)
        years = day / 365.0
        if baseline is not None:
            bd = np.asarray(baseline["day"], dtype=float) / 365.0
            ax.plot(bd, np.asarray(baseline[key]), color="0.45", ls="--", lw=1.4, label=base_name)
        ax.plot(years, np.asarray(daily[key]), color="#00798c", lw=1.8, label=title or key)
        ax.set_ylabel(_label(key, lang))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8, framealpha=0.8)
    axes[-1].set_xlabel("年" if lang == "zh" else "years")
    fig.suptitle(
        f"{title}：信任与参与随经历变化" if lang == "zh" else f"{title}: trust and participation"
    )
    return fig
