"""Figures of one run: the three senses, resolution times, escalations, the county map.

Every function builds a stand-alone ``matplotlib.figure.Figure`` on an Agg canvas (no
pyplot, no window, nothing global besides the font rcParams set by ``setup_cjk_font``)
and returns it; ``save_run_figures`` writes them as PNG files. Labels come from
``sim.metrics_schema.label``: Chinese with the English beside it (``lang="zh"``, the
default) or English only (``lang="en"``). Columns missing from ``daily`` are skipped and
NaN values leave gaps, so a partial or early-stopped run still gets its pictures.
"""

from __future__ import annotations

import functools
import json
import math
import textwrap
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib.patheffects as path_effects
import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim import metrics_schema
from sim.viz.fonts import setup_cjk_font

DPI = 120
INDEX_COLUMNS = ("gain_index", "happiness_index", "security_index")
RESOLUTION_DAY_COLUMNS = ("mean_resolution_days", "median_resolution_days", "p90_resolution_days")
ESCALATION_COLUMNS = ("escalations_petition", "escalations_litigation", "escalations_collective")
SURFACED_COLUMNS = (
    "surfaced_hotline",
    "surfaced_online",
    "surfaced_grid_report",
    "surfaced_patrol",
    "surfaced_video",
    "surfaced_social_org",
    "surfaced_mass_org",
)
MISSING_COLOUR = "#d0d0d0"
COUNTY_FILE = "yancheng_counties.geojson"

# file name -> what it shows; save_run_figures writes these (the map only with values)
FIGURE_FILES = ("indices.png", "resolution.png", "escalation.png", "county_map.png")


# --------------------------------------------------------------------------- helpers


def _label(key: str, lang: str) -> str:
    try:
        return metrics_schema.label(key, lang)
    except KeyError:
        return key


def _unit(key: str) -> str:
    entry = metrics_schema.DAILY_COLUMNS.get(key) or metrics_schema.SUMMARY_KEYS.get(key)
    return entry[2] if entry else ""


def _text(zh: str, en: str, lang: str) -> str:
    return f"{zh} ({en})" if lang == "zh" else en


def _columns(daily: Mapping[str, Any] | Any) -> dict[str, np.ndarray]:
    """Daily columns as float arrays; accepts a dict of arrays or a pyarrow Table."""
    if hasattr(daily, "column_names") and hasattr(daily, "column"):  # pyarrow.Table
        raw = {
            name: daily.column(name).to_numpy(zero_copy_only=False) for name in daily.column_names
        }
    else:
        raw = dict(daily)
    out: dict[str, np.ndarray] = {}
    for name, values in raw.items():
        try:
            out[name] = np.asarray(values, dtype=float).ravel()
        except (TypeError, ValueError):
            continue  # a non-numeric column is nothing to plot
    return out


def _x_axis(cols: dict[str, np.ndarray], keys: tuple[str, ...]) -> np.ndarray | None:
    """Day numbers for the columns in ``keys`` (None when none of them is present)."""
    lengths = {len(cols[k]) for k in keys if k in cols}
    if not lengths:
        return None
    if len(lengths) > 1:
        raise ValueError(f"daily columns {keys} have different lengths {sorted(lengths)}")
    (n,) = lengths
    day = cols.get("day")
    return day if day is not None and len(day) == n else np.arange(n, dtype=float)


def _new_figure(figsize: tuple[float, float], nrows: int = 1) -> tuple[Figure, list]:
    setup_cjk_font()
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _no_data(ax, lang: str) -> None:
    ax.text(
        0.5,
        0.5,
        _text("无数据", "no data", lang),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="0.5",
    )


def _finish_time_axes(ax, lang: str, *, legend: bool = True) -> None:
    ax.grid(True, alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, framealpha=0.8)


# --------------------------------------------------------------------------- time series


def indices_figure(daily: Mapping[str, Any], lang: str = "zh") -> Figure:
    """获得感 / 幸福感 / 安全感 (0–100) over the days of the run."""
    cols = _columns(daily)
    fig, (ax,) = _new_figure((8.0, 4.5))
    x = _x_axis(cols, INDEX_COLUMNS)
    colours = ("#d1495b", "#edae49", "#00798c")
    for key, colour in zip(INDEX_COLUMNS, colours, strict=True):
        if key in cols:
            ax.plot(x, cols[key], color=colour, lw=1.8, label=_label(key, lang))
    if x is None:
        _no_data(ax, lang)
    ax.set_xlabel(_label("day", lang))
    ax.set_ylabel(_text("指数", "index, 0–100", lang))
    ax.set_title(_text("获得感、幸福感、安全感", "sense of gain, well-being and security", lang))
    _finish_time_axes(ax, lang)
    return fig


def resolution_figure(daily: Mapping[str, Any], lang: str = "zh") -> Figure:
    """Mean / median / p90 resolution time (top) and the resolution rate (bottom)."""
    cols = _columns(daily)
    fig, (ax_days, ax_rate) = _new_figure((8.0, 6.5), nrows=2)
    x = _x_axis(cols, RESOLUTION_DAY_COLUMNS)
    styles = {"mean_resolution_days": "-", "median_resolution_days": "--"}
    for key in RESOLUTION_DAY_COLUMNS:
        if key in cols:
            ax_days.plot(
                x,
                cols[key],
                ls=styles.get(key, ":"),
                lw=1.8,
                color="#30638e",
                label=_label(key, lang),
            )
    if x is None:
        _no_data(ax_days, lang)
    ax_days.set_ylabel(_text("天", "days", lang))
    ax_days.set_title(_text("办结时间与解决率", "resolution time and resolution rate", lang))
    _finish_time_axes(ax_days, lang)

    x_rate = _x_axis(cols, ("resolution_rate",))
    if x_rate is None:
        _no_data(ax_rate, lang)
    else:
        ax_rate.plot(x_rate, cols["resolution_rate"], color="#00798c", lw=1.8)
        ax_rate.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax_rate.set_ylabel(_label("resolution_rate", lang))
    ax_rate.set_xlabel(_label("day", lang))
    _finish_time_axes(ax_rate, lang, legend=False)
    return fig


def escalation_figure(daily: Mapping[str, Any], lang: str = "zh") -> Figure:
    """Cumulative escalations by kind (top) and issues surfaced per day by channel (bottom).

    The ``escalations_*`` columns are daily counts; the top panel shows their running
    totals (NaN days add nothing). The bottom panel stacks the ``surfaced_*`` channels,
    a NaN drawn as 0.
    """
    cols = _columns(daily)
    fig, (ax_esc, ax_surf) = _new_figure((9.0, 7.5), nrows=2)
    x = _x_axis(cols, ESCALATION_COLUMNS)
    colours = ("#8f2d56", "#218380", "#d81159")
    for key, colour in zip(ESCALATION_COLUMNS, colours, strict=True):
        if key in cols:
            ax_esc.plot(x, np.nancumsum(cols[key]), color=colour, lw=1.8, label=_label(key, lang))
    if x is None:
        _no_data(ax_esc, lang)
    ax_esc.set_ylabel(_text("累计", "cumulative", lang))
    ax_esc.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_esc.set_title(_text("矛盾升级(累计)", "escalations, cumulative", lang))
    _finish_time_axes(ax_esc, lang)

    present = [key for key in SURFACED_COLUMNS if key in cols]
    x_surf = _x_axis(cols, tuple(present))
    if x_surf is None:
        _no_data(ax_surf, lang)
    else:
        stack = np.nan_to_num(np.vstack([cols[key] for key in present]), nan=0.0)
        palette = colormaps["tab10"]
        ax_surf.stackplot(
            x_surf,
            stack,
            labels=[_label(key, lang) for key in present],
            colors=[palette(SURFACED_COLUMNS.index(key)) for key in present],
            alpha=0.85,
        )
        ax_surf.legend(
            loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, reverse=True
        )
    ax_surf.set_ylabel(_text("每日发现事项", "issues surfaced per day", lang))
    ax_surf.set_xlabel(_label("day", lang))
    ax_surf.set_title(_text("事项发现渠道", "how issues come to light", lang), fontsize=11)
    ax_surf.grid(True, alpha=0.3)
    return fig


# --------------------------------------------------------------------------- county map


@functools.cache
def load_counties() -> dict[str, Any]:
    """The county boundaries GeoJSON shipped in ``sim.data`` (parsed once; do not mutate)."""
    text = resources.files("sim.data").joinpath(COUNTY_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _ring_path(ring: list[list[float]], *, exterior: bool) -> MplPath:
    """A closed ring, oriented counter-clockwise if exterior, clockwise if a hole.

    Matplotlib fills with the nonzero rule, so holes only stay empty when they wind the
    other way; GeoJSON files do not always follow RFC 7946's orientation.
    """
    xy = np.asarray(ring, dtype=float)
    x, y = xy[:, 0], xy[:, 1]
    signed_area = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    if (signed_area > 0) != exterior:
        xy = xy[::-1]
    return MplPath(xy, closed=True)


def _county_path(geometry: dict[str, Any]) -> MplPath:
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise ValueError(f"county geometry must be Polygon or MultiPolygon, not {geometry['type']}")
    rings = [
        _ring_path(ring, exterior=(i == 0))
        for polygon in polygons
        for i, ring in enumerate(polygon)
    ]
    return MplPath.make_compound_path(*rings)


def _format_value(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "–"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "count" and abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def county_map(
    county_values: Mapping[str, float],
    indicator_key: str,
    lang: str = "zh",
    *,
    cmap: str = "viridis",
) -> Figure:
    """The county-level divisions of Yancheng coloured by one indicator.

    Parameters
    ----------
    county_values : mapping of county name (``name_zh`` in the GeoJSON) to value
        Counties absent or NaN are drawn grey ("no data").
    indicator_key : str
        A key of ``metrics_schema.DAILY_COLUMNS`` or ``SUMMARY_KEYS``; gives the colour
        bar's label and the number format (shares as percentages).
    lang : "zh" or "en"
    cmap : matplotlib colormap name

    Notes
    -----
    The axes use the local equal-distance aspect of longitude/latitude, 1/cos(latitude),
    so the map is not stretched east–west. County names stay Chinese in both languages.
    """
    counties = load_counties()
    features = counties["features"]
    names = [feature["properties"]["name_zh"] for feature in features]
    unknown = sorted(set(county_values) - set(names))
    if unknown:
        raise ValueError(f"county_values has unknown counties {unknown}; known: {names}")

    values = {name: float(county_values.get(name, math.nan)) for name in names}
    finite = [v for v in values.values() if math.isfinite(v)]
    if finite:
        vmin, vmax = min(finite), max(finite)
        if vmin == vmax:
            pad = 0.05 * abs(vmin) or 0.5
            vmin, vmax = vmin - pad, vmax + pad
    else:
        vmin, vmax = 0.0, 1.0
    norm = Normalize(vmin=vmin, vmax=vmax)
    colourmap = colormaps[cmap]
    unit = _unit(indicator_key)

    fig, (ax,) = _new_figure((7.2, 8.4))
    for feature, name in zip(features, names, strict=True):
        value = values[name]
        face = colourmap(norm(value)) if math.isfinite(value) else MISSING_COLOUR
        patch = PathPatch(
            _county_path(feature["geometry"]), facecolor=face, edgecolor="white", lw=1.0
        )
        patch.set_label(name)
        patch.set_gid(name)
        ax.add_patch(patch)
    halo = [path_effects.withStroke(linewidth=2.5, foreground="white")]
    for feature, name in zip(features, names, strict=True):
        props = feature["properties"]
        text = (
            name
            if not math.isfinite(values[name])
            else f"{name}\n{_format_value(values[name], unit)}"
        )
        ax.text(
            props["centroid_lon"],
            props["centroid_lat"],
            text,
            ha="center",
            va="center",
            fontsize=9,
            linespacing=1.1,
            path_effects=halo,
        )

    ax.autoscale_view()
    lat_mid = 0.5 * sum(ax.get_ylim())
    ax.set_aspect(1.0 / math.cos(math.radians(lat_mid)))
    ax.set_axis_off()

    mappable = ScalarMappable(norm=norm, cmap=colourmap)
    colourbar = fig.colorbar(mappable, ax=ax, shrink=0.6, pad=0.02)
    colourbar.set_label(_label(indicator_key, lang))
    if unit == "share":
        colourbar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    if len(finite) < len(names):
        ax.legend(
            handles=[Patch(facecolor=MISSING_COLOUR, label=_text("无数据", "no data", lang))],
            loc="lower left",
            fontsize=8,
            frameon=False,
        )
    ax.set_title(
        _text("盐城市各县(市、区)", "Yancheng by county", lang) + "\n" + _label(indicator_key, lang)
    )

    attribution = counties.get("attribution", "")
    if attribution:
        lines = textwrap.wrap(attribution, width=165)
        fig.text(0.01, 0.005, "\n".join(lines), fontsize=6, color="0.35", ha="left", va="bottom")
        reserved = 0.012 + 0.013 * len(lines)
        fig.get_layout_engine().set(rect=(0.0, reserved, 1.0, 1.0 - reserved))
    return fig


# --------------------------------------------------------------------------- run folder


def save_run_figures(
    out_dir: Path,
    daily: Mapping[str, np.ndarray],
    county_values: Mapping[str, float],
    county_indicator: str,
    lang: str = "zh",
) -> list[Path]:
    """Write the run's figures as PNG files into ``out_dir`` and return their paths.

    Writes ``indices.png``, ``resolution.png``, ``escalation.png`` and, when
    ``county_values`` is not empty, ``county_map.png`` (coloured by ``county_indicator``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, Figure]] = [
        ("indices.png", indices_figure(daily, lang)),
        ("resolution.png", resolution_figure(daily, lang)),
        ("escalation.png", escalation_figure(daily, lang)),
    ]
    if county_values:
        figures.append(("county_map.png", county_map(county_values, county_indicator, lang)))
    paths = []
    for name, fig in figures:
        path = out_dir / name
        fig.savefig(path, dpi=DPI)
        paths.append(path)
    return paths
