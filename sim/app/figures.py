"""Live figures of the teaching page: matplotlib on Agg, rendered to PNG bytes.

No charting library is loaded from a CDN: the page shows PNG images drawn here. Each
session owns one :class:`LiveCharts`, and one :class:`LiveMap` per configuration. They
keep their Figure and artists and redraw only what a step changes: the axes, ticks,
titles, legends, county shapes and colour bar are drawn once into a background (again
only when the axis limits, the language or the indicator change; limits grow in "nice"
steps so that is rare) and each frame pastes that background and draws the data
artists on top (matplotlib blitting). The page shows the live frames as JPEG (quality
:data:`LIVE_JPEG_QUALITY`, no chroma subsampling, so text and thin lines stay sharp):
encoding a frame takes ~1–2 ms against ~7 ms for PNG, which was most of the figures'
time; exports (charts PNG, the class record) stay PNG. A step's render is then a few
ms at 1:100 (see :mod:`sim.app.bench`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.text import Text
from matplotlib.ticker import FormatStrFormatter, MaxNLocator, PercentFormatter
from PIL import Image

from sim import metrics_schema
from sim.app.text import INDICATORS, pick, t
from sim.viz.figures import _county_path, load_counties
from sim.viz.fonts import setup_cjk_font

DPI = 90
LIVE_FORMAT = "jpeg"  # the page's live charts and map (downloads and the record: PNG)
LIVE_JPEG_QUALITY = 92
FORMATS = ("png", "jpeg")
PROJECTOR_FONT_PT = 14.0  # 17.5 px in the PNG at DPI 90

INDEX_KEYS = ("gain_index", "happiness_index", "security_index")
INDEX_COLOURS = ("#d1495b", "#edae49", "#00798c")
RESOLUTION_KEY = "mean_resolution_days"
ESCALATION_KEYS = ("escalations_petition", "escalations_litigation", "escalations_collective")
ESCALATION_COLOURS = ("#8f2d56", "#218380", "#d81159")
RUN_STYLES = ("-", "--")
RUN_COLOURS = ("#30638e", "#e07a1f")
INDICATOR_CMAPS = {
    "unresolved": "YlOrRd",
    "trust": "viridis",
    "participation": "viridis",
    "risk": "OrRd",
}


def nice_ceiling(x: float, minimum: float = 1.0) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ ``x`` (and ≥ ``minimum``)."""
    x = max(float(x), float(minimum))
    if not math.isfinite(x):
        return float(minimum)
    k = math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        v = m * 10.0**k
        if v >= x * (1 - 1e-12):
            return v
    return 10.0 ** (k + 1)


def _short(key: str, lang: str) -> str:
    zh, en, _ = metrics_schema.DAILY_COLUMNS[key]
    return zh if lang == "zh" else en


class _Blit:
    """A figure whose static part is cached; each frame draws only the animated artists."""

    def __init__(self, figsize: tuple[float, float]) -> None:
        setup_cjk_font()
        self.fig = Figure(figsize=figsize, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        self._bg = None
        self._bg_key = None
        self.full_draws = 0  # how often the background was redrawn (for tests and bench)

    def frame(self, key, animated: Sequence, fmt: str = "png") -> bytes:
        """Draw a frame and return it as PNG or JPEG (``fmt``); ``key`` changes when the
        background must."""
        if fmt not in FORMATS:
            raise ValueError(f"fmt={fmt!r}: must be one of {FORMATS}")
        for a in animated:
            a.set_animated(True)
        if key != self._bg_key or self._bg is None:
            self.canvas.draw()  # animated artists are left out
            self._bg = self.canvas.copy_from_bbox(self.fig.bbox)
            self._bg_key = key
            self.full_draws += 1
        else:
            self.canvas.restore_region(self._bg)
        for a in animated:
            if a.get_visible():
                self.fig.draw_artist(a)
        w, h = self.canvas.get_width_height()
        buf = io.BytesIO()
        if fmt == "jpeg":
            # the figure is opaque, so its alpha byte is padding (RGBX): the JPEG encoder
            # reads the canvas as it is, with no RGB copy (the same bytes as converting)
            img = Image.frombuffer("RGBX", (w, h), self.canvas.buffer_rgba(), "raw", "RGBX", 0, 1)
            img.save(buf, format="jpeg", quality=LIVE_JPEG_QUALITY, subsampling=0)
        else:
            img = Image.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            img.convert("RGB").save(buf, format="png", compress_level=1)
        return buf.getvalue()


class LiveCharts(_Blit):
    """获得感/幸福感/安全感 (with markers on the days an index moved notably), mean
    resolution time and the daily escalations (petitions, litigation, collective
    incidents) on the same days, for 1–2 runs.

    In A/B mode run A is drawn solid and run B dashed, in the same colours. With
    ``projector`` the figure has two panels (indices and escalations, no resolution
    time) and its smallest text is :data:`PROJECTOR_FONT_PT` (≥ 14 px on the page at a
    1280×720 projector, see ``font_px``).
    """

    def __init__(self, projector: bool = False) -> None:
        self.projector = projector
        super().__init__((6.4, 4.9) if projector else (6.6, 6.6))
        self.font_pt = PROJECTOR_FONT_PT if projector else 8.0  # smallest text, points
        self.title_pt = PROJECTOR_FONT_PT + 1 if projector else 11.0
        n_ax = 2 if projector else 3
        axes = self.fig.subplots(n_ax, 1, sharex=True)
        if projector:
            self.fig.subplots_adjust(left=0.11, right=0.98, top=0.93, bottom=0.12, hspace=0.42)
            self.axes = (axes[0], None, axes[1])
        else:
            self.fig.subplots_adjust(left=0.1, right=0.97, top=0.95, bottom=0.08, hspace=0.38)
            self.axes = tuple(axes)
        for ax in axes:
            ax.grid(True, alpha=0.3)
            ax.yaxis.set_major_locator(MaxNLocator(4 if projector else 5))
            ax.tick_params(labelsize=self.font_pt)
        self.axes[2].yaxis.set_major_locator(MaxNLocator(4, integer=True))
        self.axes[0].set_ylim(0, 102)  # a line at 100 stays visible above the frame
        self._lines: dict[tuple[int, str], object] = {}
        self._note = self.fig.text(0.99, 0.005, "", ha="right", va="bottom", fontsize=self.font_pt)

    @property
    def font_px(self) -> float:
        """The smallest text's height in the PNG's pixels (font size at :data:`DPI`)."""
        return self.font_pt * DPI / 72.0

    def _line(self, ax_i: int, run: int, key: str, colour: str, **kw):
        k = (run, key)
        if k not in self._lines:
            style = {"ls": RUN_STYLES[run], "lw": 1.6, **kw}
            (line,) = self.axes[ax_i].plot([], [], color=colour, **style)
            self._lines[k] = line
        return self._lines[k]

    def render(
        self,
        runs: Sequence[Mapping[str, np.ndarray]],
        lang: str = "zh",
        marks: Sequence[Sequence[tuple[int, str]]] = (),
        fmt: str = "png",
    ) -> bytes:
        """PNG (or JPEG, ``fmt``) of the charts for ``runs`` (each a dict of daily
        columns); ``marks`` per run: (day, index key) of the notable changes, drawn as
        markers on that curve."""
        for (run, key), line in list(self._lines.items()):
            if run >= len(runs):
                line.remove()
                del self._lines[(run, key)]
        n_days, y_res, y_esc = 1, 0.0, 0.0
        for r, daily in enumerate(runs):
            x = np.asarray(daily.get("day", np.arange(0)), dtype=float)
            n_days = max(n_days, x.shape[0])
            run_marks = marks[r] if r < len(marks) else ()
            for key, c in zip(INDEX_KEYS, INDEX_COLOURS, strict=True):
                y = np.asarray(daily.get(key, []), float)
                self._line(0, r, key, c).set_data(x, y)
                days = np.array([d for d, k in run_marks if k == key], dtype=np.int64)
                days = days[(days >= 0) & (days < y.shape[0])]
                m = self._line(0, r, "mark_" + key, c, ls="none", marker="v",
                               ms=9 if self.projector else 6, mec="black", mew=0.6)  # fmt: skip
                m.set_data(x[days] if days.size else [], y[days] if days.size else [])
            colour = RUN_COLOURS[r] if len(runs) > 1 else RUN_COLOURS[0]
            if self.axes[1] is not None:
                y = np.asarray(daily.get(RESOLUTION_KEY, []), float)
                if np.isfinite(y).any():
                    y_res = max(y_res, float(np.nanmax(y)))
                line = self._line(1, r, RESOLUTION_KEY, colour)
                line.set_data(x, y)
                line.set_color(colour)
            for key, c in zip(ESCALATION_KEYS, ESCALATION_COLOURS, strict=True):
                y = np.nan_to_num(np.asarray(daily.get(key, []), float))
                if key == "escalations_collective":  # both kinds of collective incident
                    y = y + np.nan_to_num(np.asarray(daily.get("unrest_incidents", []), float))
                    line = self._line(2, r, key, c, ls="none", marker="o",
                                      ms=8 if self.projector else 5)  # fmt: skip
                    keep = y > 0
                    line.set_data(x[keep], y[keep])
                else:
                    self._line(2, r, key, c, drawstyle="steps-mid", lw=1.2).set_data(x, y)
                if y.size:
                    y_esc = max(y_esc, float(y.max()))
        x_max = nice_ceiling(n_days - 1, 30.0)
        res_max = nice_ceiling(y_res, 2.0)
        esc_max = nice_ceiling(y_esc, 5.0)
        key = (lang, len(runs), x_max, res_max, esc_max)
        if key != self._bg_key:
            self._layout(len(runs), lang, x_max, res_max, esc_max)
        return self.frame(key, list(self._lines.values()), fmt)

    def _layout(self, n_runs: int, lang: str, x_max: float, res_max: float, esc_max: float):
        ax0, ax1, ax2 = self.axes
        fs, ts = self.font_pt, self.title_pt
        ax0.set_title(t("chart_indices", lang) + t("chart_marks", lang), fontsize=ts, loc="left")
        ax2.set_title(t("chart_escalation", lang), fontsize=ts, loc="left")
        ax2.set_xlabel(t("axis_day", lang), fontsize=fs)
        ax0.set_xlim(0, x_max)
        ax2.set_ylim(0, esc_max)
        ax0.legend(
            [self._lines[(0, k)] for k in INDEX_KEYS],
            [_short(k, lang) for k in INDEX_KEYS],
            loc="lower left", fontsize=fs, ncols=3, framealpha=0.8,
        )  # fmt: skip
        labels = [_short(k, lang) for k in ESCALATION_KEYS[:2]]
        labels.append(pick(("聚集性事件", "collective incidents"), lang))
        ax2.legend(
            [self._lines[(0, k)] for k in ESCALATION_KEYS], labels,
            loc="upper left", fontsize=fs, ncols=3, framealpha=0.8,
        )  # fmt: skip
        if ax1 is not None:
            ax1.set_title(t("chart_resolution", lang), fontsize=ts, loc="left")
            ax1.set_ylim(0, res_max)
            if n_runs > 1:
                ax1.legend(
                    [self._lines[(r, RESOLUTION_KEY)] for r in range(n_runs)],
                    ["A", "B"][:n_runs], loc="upper left", fontsize=fs, ncols=2,
                    framealpha=0.8,
                )  # fmt: skip
            elif ax1.get_legend() is not None:
                ax1.get_legend().remove()
        self._note.set_text(t("solid_dashed", lang) if n_runs > 1 else "")

    def font_sizes(self) -> list[float]:
        """The font sizes (points) of every visible text of the figure (for tests)."""
        self.canvas.draw()
        return [
            a.get_fontsize()
            for a in self.fig.findobj(Text)
            if a.get_visible() and a.get_text().strip()
        ]


def _nice_range(values: Sequence[np.ndarray], unit: str) -> tuple[float, float]:
    finite = [v[np.isfinite(v)] for v in values]
    finite = [v for v in finite if v.size]
    if not finite:
        return 0.0, 1.0
    lo = min(float(v.min()) for v in finite)
    hi = max(float(v.max()) for v in finite)
    if unit == "per_1000":
        return 0.0, nice_ceiling(hi, 1.0)
    lo, hi = math.floor(lo * 20) / 20, math.ceil(hi * 20) / 20
    if hi - lo < 0.05:
        hi = lo + 0.05
    return max(0.0, lo), min(1.0, hi)


def shared_range(values: Sequence[np.ndarray], indicator: str) -> tuple[float, float]:
    """One colour range for all maps shown at once (A and B compare on the same scale)."""
    return _nice_range(values, INDICATORS[indicator][2])


class LiveMap(_Blit):
    """The nine county-level divisions with each grid as a point coloured by an indicator."""

    def __init__(self) -> None:
        super().__init__((4.6, 5.4))
        self.ax = self.fig.add_axes((0.0, 0.01, 0.8, 0.9))
        self.cax = self.fig.add_axes((0.82, 0.2, 0.035, 0.55))
        counties = load_counties()["features"]
        self._labels = []
        for f in counties:
            patch = PathPatch(
                _county_path(f["geometry"]), facecolor="#eef1f4", edgecolor="#8a96a3", lw=0.8
            )
            self.ax.add_patch(patch)
        self.ax.autoscale_view()
        lat_mid = 0.5 * sum(self.ax.get_ylim())
        self.ax.set_aspect(1.0 / math.cos(math.radians(lat_mid)))
        self.ax.set_axis_off()
        for f in counties:
            p = f["properties"]
            label = self.ax.text(
                p["centroid_lon"], p["centroid_lat"], p["name_zh"], fontsize=8, color="#36414d",
                ha="center", va="bottom", alpha=0.9, zorder=3,
            )  # fmt: skip
            self._labels.append((label, p["name_zh"]))
        self.scatter = None
        self.colorbar = None
        self._title = self.fig.text(0.02, 0.97, "", ha="left", va="top", fontsize=11)

    def render(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        values: np.ndarray,
        indicator: str,
        lang: str = "zh",
        vrange: tuple[float, float] | None = None,
        title: str = "",
        county_en: Mapping[str, str] | None = None,
        fmt: str = "png",
    ) -> bytes:
        """PNG (or JPEG, ``fmt``) of the map with grid points at ``(lon, lat)`` coloured
        by ``values``."""
        zh, en, unit = INDICATORS[indicator]
        vmin, vmax = vrange if vrange is not None else _nice_range([values], unit)
        cmap = colormaps[INDICATOR_CMAPS[indicator]]
        n = len(values)
        if self.scatter is None or self.scatter.get_offsets().shape[0] != n:
            if self.scatter is not None:
                self.scatter.remove()
            size = float(np.clip(9000.0 / max(n, 1), 6.0, 60.0))
            self.scatter = self.ax.scatter(
                lon, lat, c=values, s=size, cmap=cmap, vmin=vmin, vmax=vmax,
                edgecolors="white", linewidths=0.4, zorder=2,
            )  # fmt: skip
            self._bg_key = None
        else:
            self.scatter.set_array(values)
        key = (lang, indicator, vmin, vmax, title, n)
        if key != self._bg_key:
            self.scatter.set_cmap(cmap)
            self.scatter.set_clim(vmin, vmax)
            if self.colorbar is None:
                self.colorbar = self.fig.colorbar(self.scatter, cax=self.cax)
            else:
                self.colorbar.update_normal(self.scatter)
            self.colorbar.set_label(pick((zh, en), lang), fontsize=9)
            self.colorbar.formatter = (
                PercentFormatter(xmax=1.0, decimals=0)
                if unit == "share"
                else FormatStrFormatter("%.3g")
            )
            self.colorbar.update_ticks()
            for label, name_zh in self._labels:
                name = name_zh
                if lang == "en" and county_en is not None:
                    name = county_en.get(name_zh, name_zh)
                label.set_text(name)
            self._title.set_text(title or t("county_map_title", lang))
        return self.frame(key, [self.scatter], fmt)
