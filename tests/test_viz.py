"""Figures: Chinese renders with real glyphs, the county map, the run's PNG files."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch

from sim import store
from sim.metrics_schema import DAILY_COLUMNS
from sim.viz.figures import (
    FIGURE_FILES,
    MISSING_COLOUR,
    county_map,
    load_counties,
    save_run_figures,
)
from sim.viz.fonts import has_glyphs, setup_cjk_font

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COUNTY_NAMES = [f["properties"]["name_zh"] for f in load_counties()["features"]]


@pytest.fixture(scope="module")
def family() -> str:
    return setup_cjk_font()


def _render(char: str, family: str) -> np.ndarray:
    """Dark pixels of one character drawn alone on an Agg canvas."""
    fig = Figure(figsize=(1.0, 1.0), dpi=100)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, char, family=family, fontsize=48, ha="center", va="center")
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0] < 128


def test_setup_is_idempotent(family):
    assert setup_cjk_font() == family
    assert matplotlib.rcParams["font.sans-serif"][0] == family
    assert matplotlib.rcParams["font.sans-serif"].count(family) == 1
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_font_has_chinese_glyphs(family):
    assert has_glyphs("获得感幸福感安全感网格盐城亭湖区", family)
    assert has_glyphs("12345热线 (via 12345 hotline)", family)
    assert not has_glyphs("获得感", "DejaVu Sans")  # the check can fail
    assert not has_glyphs("a", "No Such Font Family")


def test_chinese_characters_render_as_distinct_glyphs(family):
    bitmaps = [_render(char, family) for char in "获得感"]
    for bitmap in bitmaps:
        assert bitmap.sum() > 50  # ink on the canvas
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.array_equal(bitmaps[i], bitmaps[j])


def test_missing_glyph_font_draws_identical_boxes():
    """Control for the test above: without a CJK font every character is the same box."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first, second = (_render(char, "DejaVu Sans") for char in "获得")
    assert np.array_equal(first, second)


def test_county_map_draws_nine_polygons(tmp_path, family):
    values = {name: 60.0 + i for i, name in enumerate(COUNTY_NAMES[:-1])}
    fig = county_map(values, "gain_index")
    (ax,) = [a for a in fig.axes if a.patches]
    patches = [p for p in ax.patches if isinstance(p, PathPatch)]
    assert len(patches) == 9
    assert sorted(p.get_label() for p in patches) == sorted(COUNTY_NAMES)
    grey = matplotlib.colors.to_rgba(MISSING_COLOUR)
    missing = [p for p in patches if p.get_label() == COUNTY_NAMES[-1]][0]
    assert missing.get_facecolor() == pytest.approx(grey)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert all(name in texts for name in COUNTY_NAMES)
    assert any("cnmaps" in t.get_text() for t in fig.texts)  # attribution footnote
    path = tmp_path / "map.png"
    fig.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_county_map_rejects_unknown_county():
    with pytest.raises(ValueError, match="unknown counties"):
        county_map({"Tinghu": 1.0}, "gain_index")


def _synthetic_daily(n: int = 30) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    daily = {key: rng.poisson(4, n).astype(float) for key in DAILY_COLUMNS}
    daily["day"] = np.arange(n)
    for key in ("gain_index", "happiness_index", "security_index"):
        daily[key] = 70 + rng.normal(0, 1, n)
    daily["resolution_rate"] = rng.uniform(0.6, 0.9, n)
    daily["gain_index"][3:6] = np.nan
    daily["surfaced_video"][0] = np.nan
    return daily


@pytest.mark.filterwarnings("error:Glyph:UserWarning")
def test_save_run_figures_writes_pngs(tmp_path, family):
    values = {name: 0.7 for name in COUNTY_NAMES}
    paths = save_run_figures(tmp_path / "figs", _synthetic_daily(), values, "resolution_rate")
    assert [p.name for p in paths] == list(FIGURE_FILES)
    for path in paths:
        assert path.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.filterwarnings("error:Glyph:UserWarning")
def test_figures_tolerate_missing_columns(tmp_path, family):
    daily = {"day": np.arange(4), "gain_index": np.array([1.0, np.nan, 3.0, 4.0])}
    paths = save_run_figures(tmp_path, daily, {}, "gain_index", lang="en")
    assert [p.name for p in paths] == ["indices.png", "resolution.png", "escalation.png"]
    assert all(p.is_file() for p in paths)


def test_figures_inside_a_run_folder(tmp_path, family):
    daily = _synthetic_daily(10)
    out = store.write_run(
        tmp_path / "run",
        manifest={"run_id": "x"},
        daily=daily,
        summary={},
        figures=lambda d: save_run_figures(d, daily, {COUNTY_NAMES[0]: 1.0}, "gain_index"),
    )
    assert [p.name for p in store.read_run(out)["figures"]] == sorted(FIGURE_FILES)
