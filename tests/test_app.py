"""The teaching page without a browser: levers, indicators, event feed, sessions, CLI.

The page's data functions are plain Python (``sim.app.*``); the Solara ``Page`` is also
rendered in two virtual kernels (two browser sessions) to show that each gets its own
model. The notebook ``notebooks/teaching_session.ipynb`` is executed end to end at a
small scale. Browser tests are in ``test_app_browser.py`` (slow).
"""

from __future__ import annotations

import argparse
import html
import importlib
import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest
from processes import descendants, still_running

from sim.app import events as ev
from sim.app.cli import DEFAULT_HOST, DEFAULT_PORT, app_command, free_port, register
from sim.app.figures import LiveCharts, LiveMap, nice_ceiling
from sim.app.indicators import INDICATOR_KEYS, county_indicator, grid_indicator
from sim.app.levers import (
    CITY_SHAPING,
    all_levers,
    changed_levers,
    lever_groups,
    table_levers,
    with_lever,
)
from sim.app.session import AppConfig, Session, SimRun, summary_rows
from sim.app.text import GROUPS, UI, t
from sim.errors import GovsimError
from sim.issues import CAT_DISPUTE, CAT_ENQUIRY, CAT_NEED, CAT_RISK, FIRST_CLOSED, N_CHANNELS
from sim.pools import K_DEPARTMENT, K_GRID, K_MEDIATION, K_ONLINE, N_KINDS
from sim.scenario import load_scenario
from sim.scenario.schema import Levers

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "yancheng.toml"
SMALL = ["scale=0.002"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def base():
    return load_scenario(BASELINE, SMALL)


@pytest.fixture(scope="module")
def stepped(base):
    """A session stepped 20 days (shared read-only by several tests)."""
    s = Session(base)
    s.step(20)
    return s


# --------------------------------------------------------------------------- levers


def test_levers_grouped_by_the_articles_six_sections():
    groups = lever_groups()
    assert [g for g, _ in groups] == list(GROUPS) == list(Levers.model_fields)
    assert len(groups) == 6
    specs = all_levers()
    tables = table_levers()  # set in files and plans, not by slider
    assert sorted(tables) == [
        "levers.capability.county_extra_grid_workers",
        "levers.system.county_social_org_budget_yuan_per_resident",
    ]
    for group, cls_field in Levers.model_fields.items():
        for name in cls_field.annotation.model_fields:
            path = f"levers.{group}.{name}"
            assert (path in specs) != (path in tables), path
    for spec in specs.values():
        assert spec.label_zh and spec.label_en
        if spec.kind in ("int", "float"):
            assert spec.minimum <= spec.default <= spec.maximum, spec.path
        if spec.kind == "choice":
            assert spec.default in spec.choices


def test_lever_meanings_visible_with_unit_and_section():
    """Issue 15: every lever says what it means, its unit and the article's section, in
    Chinese (English in the English view); switches read 开/关, never False/True."""
    from sim.app.levers import describe_change

    for spec in all_levers().values():
        zh, en = spec.help("zh"), spec.help("en")
        assert zh.startswith("§") and en.startswith("§"), spec.path
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), spec.path
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.replace("综治", "")), en
        if spec.kind != "choice":
            assert "单位" in zh and "unit" in en, spec.path
        for lang in ("zh", "en"):
            shown = spec.format_value(spec.default, lang)
            assert shown and "False" not in shown and "True" not in shown, spec.path
    online = all_levers()["levers.capability.online_mediation"]
    assert describe_change(online, False, True, "zh") == "苏解纷在线解纷平台 关 → 开"
    assert describe_change(online, False, True, "en").endswith("Off → On")
    workers = all_levers()["levers.capability.workers_per_grid"]
    assert workers.format_value(2, "zh") == "2 人/网格"
    assert all_levers()["levers.people.public_evaluation"].format_value(0.2, "zh") == "20%"


def test_with_lever_validates_like_a_scenario_file(base):
    sc = with_lever(base, "levers.capability.workers_per_grid", 3)
    assert sc.levers.capability.workers_per_grid == 3
    assert changed_levers(base, sc) == {"levers.capability.workers_per_grid": (1, 3)}
    with pytest.raises(GovsimError, match="workers_per_grid"):
        with_lever(base, "levers.capability.workers_per_grid", 0)
    with pytest.raises(GovsimError, match="unknown lever"):
        with_lever(base, "levers.capability.nope", 1)


# --------------------------------------------------------------------------- indicators


def test_grid_indicators(stepped):
    state = stepped.runs[0].model.state
    city, issues = state.city, state.issues
    for key in INDICATOR_KEYS:
        v = grid_indicator(state, key)
        assert v.shape == (city.n_grids,)
        assert np.all(np.isfinite(v)) and np.all(v >= 0)
        c = county_indicator(state, key)
        assert c.shape == (city.n_counties,)
    pop = np.diff(city.grid_start)
    open_ = issues.status < FIRST_CLOSED
    expected = 1000 * np.bincount(issues.grid[open_], minlength=city.n_grids) / pop
    np.testing.assert_allclose(grid_indicator(state, "unresolved"), expected)
    assert grid_indicator(state, "unresolved").sum() > 0
    trust = state.residents.trust
    first = trust[city.grid_start[0] : city.grid_start[1]].astype(np.float64).mean()
    np.testing.assert_allclose(grid_indicator(state, "trust")[0], first)
    with pytest.raises(ValueError, match="unknown indicator"):
        grid_indicator(state, "happiness")


# --------------------------------------------------------------------------- event feed

COUNTIES_ZH = ["亭湖区", "盐都区", "大丰区"]
COUNTIES_EN = ["Tinghu", "Yandu", "Dafeng"]


def _event(**kw) -> ev.Event:
    d = dict(
        day=3, kind="resolved", iid=7, county=0, category=CAT_DISPUTE, sector=8,
        pool_kind=K_GRID, channel=3, tier=0, vulnerability=0, days_open=1.5,
    )  # fmt: skip
    d.update(kw)
    return ev.Event(**d)


def test_event_sentence_as_in_the_issue():
    assert (
        ev.describe(_event(), COUNTIES_ZH, COUNTIES_EN, "zh")
        == "亭湖区某网格员上门调解一起邻里纠纷，双方握手言和。"
    )
    en = ev.describe(_event(), COUNTIES_ZH, COUNTIES_EN, "en")
    assert "Tinghu" in en and "grid worker" in en


@pytest.mark.parametrize("kind", ev.KINDS)
@pytest.mark.parametrize("category", [CAT_ENQUIRY, CAT_NEED, CAT_DISPUTE, CAT_RISK])
def test_every_event_reads_in_both_languages(kind, category):
    for pool_kind in (-1, *range(N_KINDS)):
        for channel in (-1, *range(N_CHANNELS)):
            for sector in (0, 5, 9):
                e = _event(
                    kind=kind, category=category, pool_kind=pool_kind, channel=channel,
                    sector=sector, county=1, vulnerability=1,
                )  # fmt: skip
                zh = ev.describe(e, COUNTIES_ZH, COUNTIES_EN, "zh")
                en = ev.describe(e, COUNTIES_ZH, COUNTIES_EN, "en")
                assert zh.startswith("盐都区") or "盐都区" in zh
                assert zh.endswith("。") and "None" not in zh and "{" not in zh
                assert "Yandu" in en and "None" not in en and "{" not in en


def test_event_wording_by_handler():
    cases = {
        K_ONLINE: "苏解纷平台在线调解成功",
        K_MEDIATION: "人民调解委员会调解成功",
        K_DEPARTMENT: "司法部门化解",
    }
    for pool_kind, words in cases.items():
        assert words in ev.describe(_event(pool_kind=pool_kind), COUNTIES_ZH, COUNTIES_EN)
    need = _event(category=CAT_NEED, sector=1, pool_kind=K_DEPARTMENT, channel=0, vulnerability=1)
    assert ev.describe(need, COUNTIES_ZH, COUNTIES_EN) == (
        "亭湖区民政部门办结一位独居老人的困难救助诉求（经12345热线反映，用时2天）。"
    )
    pet = _event(kind="petition", days_open=9)
    assert "上访" in ev.describe(pet, COUNTIES_ZH, COUNTIES_EN)
    coll = _event(kind="collective")
    assert "群体性事件" in ev.describe(coll, COUNTIES_ZH, COUNTIES_EN)


def test_event_feed_is_deterministic_and_from_the_model(base):
    a, b = SimRun(base), SimRun(base)
    for _ in range(15):
        ea, eb = a.step(), b.step()
        assert ea == eb
        assert len(ea) <= ev.MAX_PER_DAY
    assert a.event_lines("zh") == b.event_lines("zh")
    lines = a.event_lines("zh")
    assert lines, "15 days at 1:500 produce events"
    counties = set(a.model.state.city.county_names_zh)
    assert all(any(c in text for c in counties) for _, text in lines)
    kinds = {e.kind for e in a.events}
    assert "resolved" in kinds
    # newest first, days in range
    days = [d for d, _ in lines]
    assert days == sorted(days, reverse=True) and max(days) == 14


# escalation made common, and collective regardless of mobilisation (a short grace)
ESCALATING = (
    "escalation.petition_hazard=0.1",
    "escalation.grace_days=2",
    "escalation.mobilisation_exponent=0",
    "escalation.collective_severity=0.3",
)


def test_escalation_events_match_the_days_counts():
    """Every collective incident of the day is in the feed, and one lone petition when
    there is one (a collective incident also counts as a petition). Escalation is made
    common (and collective regardless of mobilisation) so the days test something."""
    sc = load_scenario(BASELINE, [*SMALL, *ESCALATING])
    run = SimRun(sc)
    days_with = {"petition": 0, "collective": 0}
    for day in range(30):
        events = run.step()
        row = run.model.last_row
        shown = {k: sum(e.kind == k for e in events) for k in ("petition", "collective")}
        n_coll = int(row["escalations_collective"])
        lone = int(row["escalations_petition"]) - n_coll  # petitions not collective
        assert lone >= 0, f"day {day}: {row['escalations_petition']} petitions < {n_coll}"
        assert shown["collective"] == min(n_coll, ev.MAX_PER_DAY), f"day {day}"
        assert shown["petition"] == (lone > 0 and n_coll < ev.MAX_PER_DAY), f"day {day}"
        for k in days_with:
            days_with[k] += shown[k] > 0
    assert days_with["petition"] >= 3 and days_with["collective"] >= 3, days_with


# --------------------------------------------------------------------------- sessions


def test_step_changes_model_charts_and_maps(base):
    s = Session(base)
    charts0 = s.charts_png("zh")
    maps0 = s.maps_png("unresolved", "zh")
    assert charts0.startswith(PNG) and maps0[0].startswith(PNG)
    s.step(3)
    assert s.day == 3 and s.version > 0
    assert s.latest()[0]["gain_index"] > 0
    charts1 = s.charts_png("zh")
    assert charts1 != charts0
    assert s.maps_png("unresolved", "zh")[0] != maps0[0]
    for key in INDICATOR_KEYS:
        assert s.maps_png(key, "en")[0].startswith(PNG)
    assert s.charts_png("en") != charts1
    rows = summary_rows(s, ["gain_index", "resolution_rate"], "zh")
    assert rows[0][0] == "获得感" and rows[1][1].endswith("%")


def test_lever_mid_run_keeps_the_day_city_lever_restarts(base):
    s = Session(base)
    s.step(5)
    assert s.set_lever(0, "levers.capability.online_mediation", True)
    assert s.day == 5 and s.runs[0].scenario.levers.capability.online_mediation
    assert s.runs[0].model.config.levers.capability.online_mediation
    s.step()
    assert s.day == 6
    path = next(iter(CITY_SHAPING))
    spec = all_levers()[path]
    new = spec.default + (1 if spec.kind == "int" else 0.5)  # valid for every such lever
    assert s.set_lever(0, path, new)
    assert s.day == 0  # the city was rebuilt
    assert not s.set_lever(0, "levers.capability.workers_per_grid", 99)
    assert "workers_per_grid" in s.message
    assert s.runs[0].scenario.levers.capability.workers_per_grid == 1


def test_ab_same_seed_same_config_identical_other_config_differs(base):
    s = Session(base)
    s.step(2)
    s.set_ab(True)
    assert s.ab and s.day == 0 and s.runs[1].day == 0
    assert s.runs[0].seed == s.runs[1].seed
    s.step(10)
    a, b = (r.daily() for r in s.runs)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    s.reset()
    s.set_lever(1, "levers.capability.workers_per_grid", 3)
    assert s.lever_diff() == {"levers.capability.workers_per_grid": (1, 3)}
    s.step(20)
    a, b = (r.daily() for r in s.runs)
    assert not np.array_equal(a["gain_index"], b["gain_index"])
    np.testing.assert_array_equal(a["new_issues"], b["new_issues"])  # same city, same seed
    assert len(s.maps_png("trust", "zh")) == 2
    assert len(s.titles("zh")) == 2 and s.titles("zh")[1].startswith("配置 B")
    s.set_ab(False)
    assert not s.ab and s.lever_diff() == {}


def test_city_shaping_levers_are_the_models():
    from sim.model import GovernanceModel

    assert CITY_SHAPING == {p for p in GovernanceModel.CITY_SHAPING if p.startswith("levers.")}
    assert {s.path for s in all_levers().values() if s.restarts} == CITY_SHAPING


def test_lever_mid_run_keeps_all_state(base):
    """Issue 15: moving a lever (even to the same configuration) must not reset the run."""
    plain, moved = Session(base), Session(base)
    plain.step(31)
    moved.step(31)
    moved.runs[0].set_scenario(base.model_copy(deep=True))  # the same levers again
    moved.set_lever(0, "levers.capability.workers_per_grid", 2)
    moved.set_lever(0, "levers.capability.workers_per_grid", 1)
    plain.step(29)
    moved.step(29)
    a, b = plain.runs[0].daily(), moved.runs[0].daily()
    for k in ("unrest_incidents", "escalations_collective", "new_issues"):
        np.testing.assert_array_equal(a[k][:31], b[k][:31], err_msg=k)
    # activation and incidents go on from where they were (no burst after the change)
    assert b["unrest_incidents"][31:].sum() <= a["unrest_incidents"][31:].sum() + 2
    assert abs(b["security_index"][-1] - a["security_index"][-1]) < 3.0


def test_ab_with_b_equal_to_a_is_identical(base):
    """Picking A's own preset for B (at the start or mid-run) leaves B identical to A."""
    s = Session(base, {base.name: base})
    s.set_ab(True)
    s.set_preset(1, base.name)
    s.step(10)
    s.set_preset(1, base.name)
    s.runs[1].set_scenario(base.model_copy(deep=True))
    s.step(30)
    a, b = (r.daily() for r in s.runs)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert s.lever_diff() == {}


def test_presets_are_sibling_scenarios(base):
    cfg = AppConfig(str(BASELINE), tuple(SMALL))
    presets = cfg.presets(cfg.load())
    assert "yancheng" in presets and "fine_grids" in presets
    assert all(p.scale == 0.002 for p in presets.values())
    s = Session(presets["yancheng"], presets)
    s.set_ab(True)
    s.set_preset(1, "fine_grids")
    assert s.runs[1].scenario.name == "fine_grids"
    assert s.runs[1].model.state.city.n_grids > s.runs[0].model.state.city.n_grids


def test_sessions_are_independent(base):
    s1, s2 = Session(base), Session(base)
    assert s1.runs[0].model is not s2.runs[0].model
    assert s1.runs[0].model.state.city is not s2.runs[0].model.state.city
    s1.step(4)
    s1.set_lever(0, "levers.capability.workers_per_grid", 2)
    assert s2.day == 0 and s2.runs[0].scenario.levers.capability.workers_per_grid == 1
    assert s2.runs[0].model.last_row is None and not s2.runs[0].events
    s2.step(1)
    assert s1.day == 4 and s2.day == 1


def test_no_model_at_module_level():
    import sim.app.page as page
    import sim.app.session as session

    for mod in (page, session):
        for name, value in vars(mod).items():
            assert not isinstance(value, Session | SimRun), f"{mod.__name__}.{name}"
            assert type(value).__name__ != "GovernanceModel", f"{mod.__name__}.{name}"


def _by_id(rc, id_):
    """The one widget of the rendered page whose DOM id is ``id_``."""
    import ipywidgets

    seen, queue, found = set(), list(rc.find().widgets), []
    while queue:
        w = queue.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if isinstance(w, ipywidgets.Widget):
            if (getattr(w, "attributes", None) or {}).get("id") == id_:
                found.append(w)
            queue += [getattr(w, k) for k in w.keys]
        elif isinstance(w, list | tuple):
            queue += list(w)
        elif isinstance(w, dict):
            queue += list(w.values())
    assert len(found) == 1, (id_, found)
    return found[0]


@pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
def test_page_renders_per_session_state(monkeypatch):
    """Two Solara kernels (two browser sessions) each get their own model."""
    solara = pytest.importorskip("solara")
    # importing solara.server.app patches ipywidgets for virtual kernels, as the server does
    importlib.import_module("solara.server.app")
    kernel = importlib.import_module("solara.server.kernel")
    kernel_context = importlib.import_module("solara.server.kernel_context")

    import sim.app.page as page

    config = {"scenario": str(BASELINE), "overrides": SMALL, "lang": "zh"}
    monkeypatch.setenv(page.ENV_CONFIG, json.dumps(config))
    contexts = []
    try:
        for name in ("student-1", "student-2"):
            ctx = kernel_context.VirtualKernelContext(
                id=name, kernel=kernel.Kernel(), session_id=f"s-{name}"
            )
            with ctx:  # the server wraps Page in AppLayout (app bar, sidebar)
                _, rc = solara.render(solara.AppLayout(children=[page.Page()]), handle_error=False)
            contexts.append((ctx, rc))
        (c1, rc1), (c2, rc2) = contexts
        with c1:
            assert _by_id(rc1, "govsim-day").unsafe_innerHTML == "第 0 天"
            for _ in range(3):
                _by_id(rc1, "govsim-step").click()
            assert _by_id(rc1, "govsim-day").unsafe_innerHTML == "第 3 天"
            _by_id(rc1, "govsim-lang").click()
            assert _by_id(rc1, "govsim-day").unsafe_innerHTML == "Day 3"
        with c2:
            assert _by_id(rc2, "govsim-day").unsafe_innerHTML == "第 0 天"
            _by_id(rc2, "govsim-step").click()
            assert _by_id(rc2, "govsim-day").unsafe_innerHTML == "第 1 天"
        with c1:
            assert _by_id(rc1, "govsim-day").unsafe_innerHTML == "Day 3"
    finally:
        for ctx, rc in contexts:
            with ctx:
                rc.close()
            ctx.close()


@pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
def test_page_reports_a_bad_scenario(monkeypatch, tmp_path):
    solara = pytest.importorskip("solara")
    importlib.import_module("solara.server.app")
    kernel = importlib.import_module("solara.server.kernel")
    kernel_context = importlib.import_module("solara.server.kernel_context")

    import sim.app.page as page

    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[levers.capability]\nworkers_per_grid = 0\n')
    monkeypatch.setenv(page.ENV_CONFIG, json.dumps({"scenario": str(bad)}))
    ctx = kernel_context.VirtualKernelContext(id="bad", kernel=kernel.Kernel(), session_id="b")
    try:
        with ctx:
            _, rc = solara.render(page.Page(), handle_error=False)
            texts = " ".join(str(getattr(w, "children", "")) for w in rc.find().widgets)
            assert "workers_per_grid" in texts
            rc.close()
    finally:
        ctx.close()


@pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
def test_page_lesson_mode_one_button(monkeypatch):
    """``govsim app --lesson``: the page opens on the plan; 下一步 applies the step's preset
    and runs its days; the teacher's notes are folded and absent in projector mode."""
    solara = pytest.importorskip("solara")
    importlib.import_module("solara.server.app")
    kernel = importlib.import_module("solara.server.kernel")
    kernel_context = importlib.import_module("solara.server.kernel_context")

    import sim.app.page as page
    from sim.app.lessons import load_lesson

    lesson = load_lesson("silo_to_command", SMALL).lesson
    config = {"scenario": str(BASELINE), "overrides": SMALL, "lesson": "silo_to_command"}
    monkeypatch.setenv(page.ENV_CONFIG, json.dumps(config))
    ctx = kernel_context.VirtualKernelContext(id="lesson", kernel=kernel.Kernel(), session_id="l")
    try:
        with ctx:
            _, rc = solara.render(solara.AppLayout(children=[page.Page()]), handle_error=False)
            assert _by_id(rc, "govsim-lesson").attributes["data-step"] == "0"
            assert _by_id(rc, "govsim-day").unsafe_innerHTML == "第 0 天"
            day = 0
            for k, step in enumerate(lesson.steps, start=1):
                _by_id(rc, "govsim-lesson-next").click()
                day += step.days
                assert _by_id(rc, "govsim-day").unsafe_innerHTML == f"第 {day} 天"
                panel = _by_id(rc, "govsim-lesson")
                assert panel.attributes["data-step"] == str(k)
                texts = str(rc.find(tag="div").widgets)  # the panel's HTML
                assert step.passage.zh in texts and step.questions[0].zh in texts
                notes = _by_id(rc, "govsim-lesson-notes").unsafe_innerHTML
                assert notes == html.escape(step.notes_zh)
            assert _by_id(rc, "govsim-lesson-next").disabled  # the lesson is over
            _by_id(rc, "govsim-projector").click()
            assert not rc.find(attributes={"id": "govsim-lesson-notes"}).widgets
            assert _by_id(rc, "govsim-lesson").attributes["data-step"] == str(len(lesson.steps))
            rc.close()
    finally:
        ctx.close()


# --------------------------------------------------------------------------- figures


def test_nice_ceiling():
    assert nice_ceiling(0) == 1.0
    assert nice_ceiling(3) == 5.0
    assert nice_ceiling(31, 30) == 50.0
    assert nice_ceiling(100) == 100.0
    assert nice_ceiling(101) == 200.0


def test_live_figures_redraw_background_rarely(stepped):
    charts = LiveCharts()
    daily = stepped.runs[0].daily()
    frames = []
    for n in range(5, 16):
        frames.append(charts.render([{k: v[:n] for k, v in daily.items()}], "zh"))
    assert all(f.startswith(PNG) for f in frames)
    assert len(set(frames)) == len(frames)
    assert charts.full_draws <= 4
    m = LiveMap()
    city = stepped.runs[0].model.state.city
    v = grid_indicator(stepped.runs[0].model.state, "unresolved")
    a = m.render(city.grid_lon, city.grid_lat, v, "unresolved", "zh", (0.0, 50.0))
    b = m.render(city.grid_lon, city.grid_lat, v * 0.5, "unresolved", "zh", (0.0, 50.0))
    assert a != b and m.full_draws == 1


def test_text_table_complete():
    for key, (zh, en) in UI.items():
        assert zh and en, key
    assert t("day", "zh", day=3) == "第 3 天" and t("day", "en", day=3) == "Day 3"


# --------------------------------------------------------------------------- CLI


def _parse(argv):
    p = argparse.ArgumentParser(prog="govsim")
    sub = p.add_subparsers(dest="command", required=True)
    register(sub)
    return p.parse_args(argv)


def test_app_cli_defaults_to_localhost():
    args = _parse(["app"])
    assert args.command == "app" and args.host is None and args.port == DEFAULT_PORT
    assert args.lang == "zh" and args.scenario is None


def test_app_command_serves_localhost_offline(tmp_path):
    args = _parse(["app", str(BASELINE), "--port", "0", "--scale", "0.002", "--seed", "7"])
    cmd, env, url = app_command(args)
    assert cmd[1:4] == ["-m", "sim.app.server", "run"]  # solara run, uncompressed websocket
    assert cmd[cmd.index("--host") + 1] == DEFAULT_HOST == "127.0.0.1"
    assert "--production" in cmd and "--no-open" in cmd
    port = int(cmd[cmd.index("--port") + 1])
    assert port > 0 and url == f"http://127.0.0.1:{port}/"
    cfg = json.loads(env["GOVSIM_APP_CONFIG"])
    assert cfg["scenario"] == str(BASELINE.resolve())
    assert cfg["overrides"] == ["scale=0.002", "seed=7"]
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_ASSETS_PROXY"] == "True"
    assert env["SOLARA_ASSETS_CDN"].startswith(
        ("http://127.0.0.1", os.environ.get("SOLARA_ASSETS_CDN", "http://127.0.0.1"))
    )
    args = _parse(["app", "--host", "0.0.0.0", "--port", "0"])
    cmd, _, _ = app_command(args)
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"


def test_app_command_opens_a_lesson():
    args = _parse(["app", str(BASELINE), "--port", "0", "--lesson", "mediation"])
    _, env, _ = app_command(args)
    cfg = json.loads(env["GOVSIM_APP_CONFIG"])
    assert cfg["lesson"] == str(ROOT / "lessons" / "mediation.toml")
    assert cfg["scenario"] == str(BASELINE.resolve())


@pytest.mark.parametrize(
    "argv, words",
    [
        (["app", "missing.toml"], "missing.toml"),
        (
            ["app", str(BASELINE), "--set", "levers.capability.workers_per_grid=0"],
            "workers_per_grid",
        ),
        (["app", str(BASELINE), "--lang", "fr"], "--lang"),
        (["app", str(BASELINE), "--port", "70000"], "--port"),
        (["app", str(BASELINE), "--lesson", "silo"], "--lesson 'silo': no such lesson"),
    ],
)
def test_app_cli_user_errors_are_one_line(argv, words):
    with pytest.raises(GovsimError) as e:
        app_command(_parse(argv))
    assert words in str(e.value) and "\n" not in str(e.value)


def test_app_cli_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(GovsimError, match=f"--port {port}"):
            app_command(_parse(["app", str(BASELINE), "--port", str(port)]))


def test_govsim_main_exit_2_on_app_error(capsys):
    from sim.cli import build_parser, main

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    if "app" not in sub.choices:
        pytest.skip("sim.cli does not register the app subcommand yet")
    assert main(["app", "missing.toml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("govsim: error:") and "\n" not in err


# --------------------------------------------------------------------------- benchmark


def test_benchmark_function_runs(base):
    from sim.app.bench import benchmark_step_render

    r = benchmark_step_render(base, frames=3, warmup=1)
    for k in ("step_ms", "charts_ms", "map_ms", "frame_ms", "frame_cpu_ms"):
        assert r[k] > 0
    assert r["residents"] > 0 and r["frames"] == 3


def test_live_frames_are_jpeg_exports_png(stepped):
    """The page's live charts and map are JPEG (fast to encode); downloads stay PNG."""
    from sim.app.figures import LIVE_FORMAT

    assert LIVE_FORMAT == "jpeg"
    jpeg = b"\xff\xd8\xff"
    assert stepped.charts_png("zh", fmt="jpeg").startswith(jpeg)
    assert all(m.startswith(jpeg) for m in stepped.maps_png("trust", "zh", "jpeg"))
    assert stepped.charts_png("zh").startswith(PNG)
    assert stepped.maps_png("trust", "zh")[0].startswith(PNG)
    with pytest.raises(ValueError, match="fmt='gif'"):
        stepped.charts_png("zh", fmt="gif")


# --------------------------------------------------------------------------- notebook


def test_teaching_notebook_runs_end_to_end(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = ROOT / "notebooks" / "teaching_session.ipynb"
    nb = nbformat.read(path, as_version=4)
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    for english in ("Setup", "Run the baseline", "Change one lever", "Compare", "Discuss"):
        assert any(english in h for h in headings), english
    monkeypatch.setenv("GOVSIM_NB_SCALE", "0.002")
    monkeypatch.setenv("GOVSIM_NB_DAYS", "45")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "获得感" in text and "1:500" in text
    data = [o.get("data", {}) for o in outputs if o.output_type in ("display_data",)]
    assert any("image/png" in d for d in data)
    assert any("text/markdown" in d and "差值" in d["text/markdown"] for d in data)


def _assert_websocket_uncompressed(port: int) -> None:
    """The page's websocket (Solara's kernel channel) declines permessage-deflate even
    when the browser offers it (sim.app.server: the live JPEGs do not compress, and
    compressing them was ~18 ms of a step)."""
    import uuid

    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{port}/jupyter/api/kernels/{uuid.uuid4()}/channels"
    with connect(f"{url}?session_id={uuid.uuid4()}", compression="deflate", open_timeout=30) as ws:
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None


def test_no_websocket_compression_is_a_default_not_an_override():
    import uvicorn

    from sim.app.server import no_websocket_compression

    no_websocket_compression()
    no_websocket_compression()  # idempotent
    assert uvicorn.Config(app="x:app").ws_per_message_deflate is False
    assert uvicorn.Config(app="x:app", ws_per_message_deflate=True).ws_per_message_deflate


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_app_stops_server_and_children_on_signal(tmp_path, sig):
    """Issue 15: ``kill`` of the govsim process (only) frees the port, no child remains."""
    pytest.importorskip("psutil")  # with ipykernel (Solara's dependency)
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    cmd = [sys.executable, "-m", "sim.cli", "app", str(BASELINE), "--port", str(port),
           "--scale", "0.002"]  # fmt: skip
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "app.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        _assert_websocket_uncompressed(port)
        children = descendants(proc.pid)
        assert children, "the server runs as a child of govsim"
        proc.send_signal(getattr(signal, sig))  # govsim only, not its group
        assert proc.wait(timeout=20) == 0
        assert not still_running(children, 5.0), "a child of govsim app is still running"
        with socket.socket() as s:
            # the port is free again: nobody listens (SO_REUSEADDR, as a restarted server
            # binds, so that the websocket's closed connection in TIME_WAIT does not count)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for c in descendants(proc.pid):
            os.kill(c, signal.SIGKILL)
        log.close()


def test_exports_csv_and_class_record(base):
    """Issue 15: daily summary and event log as CSV, the class record as one HTML page."""
    import csv as csv_mod
    import io

    s = Session(base)
    s.set_ab(True)
    s.step(10)
    s.set_lever(1, "levers.capability.online_mediation", True)
    s.step(30)
    daily = list(csv_mod.reader(io.StringIO(s.export_daily_csv().decode("utf-8-sig"))))
    assert daily[0][:2] == ["配置 config", "天 day"] and "获得感 (gain_index)" in daily[0]
    assert len(daily) == 1 + 2 * 40 and {r[0] for r in daily[1:]} == {"A", "B"}
    events = list(csv_mod.reader(io.StringIO(s.export_events_csv().decode("utf-8-sig"))))
    assert events[0][:4] == ["配置 config", "天 day", "类型", "kind"]
    assert len(events) > 1 and all(1 <= int(r[1]) <= 40 for r in events[1:])
    # the whole run, not only the feed's last days in memory
    assert min(int(r[1]) for r in events[1:]) < 40 - 7
    page = s.export_record_html().decode()
    assert page.startswith("<!DOCTYPE html>") and "课堂记录" in page
    assert "第 10 天后：苏解纷在线解纷平台 关 → 开" in page
    assert "安全感" in page and "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page


def test_notebook_names_no_label_the_page_lacks():
    """The notebook once pointed teachers to a "待开放" label the page no longer has."""
    text = (ROOT / "notebooks" / "teaching_session.ipynb").read_text(encoding="utf-8")
    assert "待开放" not in text


# --------------------------------------------------------------------------- why (issue 15)


@pytest.fixture(scope="module")
def incident_run():
    """Escalation made common and collective regardless of mobilisation (a short grace):
    collective incidents happen within 40 days at 1:500."""
    sc = load_scenario(BASELINE, [*SMALL, *ESCALATING])
    run = SimRun(sc)
    for _ in range(40):
        run.step()
    return run


def test_annotations_name_the_incident_county_and_sign(incident_run):
    """Issue 15: a day with a collective incident and a 安全感 fall ≥ 0.5 is annotated
    with the incident's county (from the log) and a negative 安全感 change; the parts of
    the change add up to it."""
    run = incident_run
    daily = run.daily()
    city = run.model.state.city
    log = run.notable_events()
    coll = log["kind"] == 9  # sim.events.COLLECTIVE
    checked = 0
    for ch in run.index_changes:
        assert abs(ch.delta) >= 0.5
        assert sum(c.delta for c in ch.causes) == pytest.approx(ch.delta, abs=1e-6)
        if ch.key != "security_index" or ch.delta >= 0:
            continue
        new = [c for c in ch.causes if c.what == "collective"]
        today = log["county"][coll & (log["day"] == ch.day)]
        n_today = int(daily["escalations_collective"][ch.day] + daily["unrest_incidents"][ch.day])
        assert sum(c.n for c in new) == n_today == today.size
        if not new:
            continue
        assert {c.county for c in new} == {int(x) for x in today}
        assert all(c.delta < 0 for c in new)
        lines = [s for d, s in run.annotation_lines("zh") if d == ch.day]
        name = city.county_names_zh[new[0].county]
        assert any(f"第{ch.day + 1}天" in s and name in s and "安全感 −" in s for s in lines)
        en = [s for d, s in run.annotation_lines("en") if d == ch.day]
        assert any(city.county_names_en[new[0].county] in s and "security −" in s for s in en)
        checked += 1
    assert checked >= 2, "the scenario makes collective incidents that move 安全感"
    # 获得感 is only ever linked by co-occurrence, and says so (it now moves smoothly, so
    # a notable change of it is rare: tests/test_indices.py)
    gain = [c for ch in run.index_changes if ch.key == "gain_index" for c in ch.causes]
    assert all(c.linked == "related" for c in gain)
    assert all("与当日事件相关" in s for _, s in run.annotation_lines("zh") if "获得感 " in s
               and "→ 获得感" in s)  # fmt: skip


def test_security_causes_follow_the_daily_parts():
    """安全感's change is split by the day's first-order parts (sim.kernels.measure):
    today's incidents by county (from the log), fading memory raises it, and the rest."""
    from sim.app.annotate import notable_changes

    daily = {
        "day": np.arange(3), "security_index": np.array([50.0, 49.0, 49.3]),
        "escalations_collective": np.array([0, 1, 0]), "unrest_incidents": np.zeros(3, int),
        "open_risk": np.zeros(3, int), "security_from_incidents": np.array([0.0, -0.9, 0.0]),
        "security_from_fading": np.array([0.0, 0.0, 0.3]),
        "security_from_risks": np.zeros(3), "happiness_from_exposure": np.zeros(3),
        "gain_index": np.full(3, 60.0), "happiness_index": np.full(3, 50.0),
        "trust_mean": np.full(3, 0.6),
    }  # fmt: skip
    empty = {k: np.zeros(0, int) for k in ("county", "kind", "category")}
    today = {"county": np.array([4]), "kind": np.array([9]), "category": np.array([2])}
    down = notable_changes(daily, 1, today, np.zeros(0, int), 10_000, None)
    assert [(c.what, c.county) for c in down[0].causes] == [("collective", 4), ("rest", -1)]
    assert down[0].causes[0].delta == pytest.approx(-0.9)
    up = notable_changes(daily, 2, empty, np.zeros(0, int), 10_000, None, threshold=0.2)
    (c,) = up[0].causes
    assert c.what == "fading" and c.delta == pytest.approx(0.3)


def test_county_drill_down(incident_run):
    run = incident_run
    city = run.model.state.city
    log = run.notable_events()
    for county in range(city.n_counties):
        d = run.county_detail(county, "zh")
        assert d["name"] == city.county_names_zh[county]
        assert set(d["indicators"]) == set(INDICATOR_KEYS)
        assert d["indicators"]["unresolved"] == pytest.approx(
            county_indicator(run.model.state, "unresolved")[county]
        )
        assert d["counts"]["collective"] == int(
            ((log["county"] == county) & (log["kind"] == 9)).sum()
        )
        assert all(d["name"] in s for _, s in d["events"])
        assert all(d["name"] in s for _, s in d["changes"])
    assert (
        sum(run.county_detail(c, "en")["counts"]["collective"] for c in range(city.n_counties)) > 0
    )


def test_projector_chart_text_is_large(stepped):
    """Projector charts: no text under 14 pt (17.5 px in the PNG at 90 dpi)."""
    s = stepped
    png = s.charts_png("zh", projector=True)
    assert png.startswith(PNG)
    assert min(s.projector_charts.font_sizes()) >= 14.0
    assert s.chart_font_px(True) >= 17.5
    assert len(s.marks()) == len(s.runs)


def test_every_slider_default_lies_on_its_step_grid():
    """A slider whose scenario value is off its step grid snaps on first render and moves
    the lever by itself (key-person visits: 1 on a grid of 1.5 showed "1 → 1.5")."""
    from sim.app.levers import all_levers

    for path, spec in all_levers().items():
        if spec.kind not in ("int", "float") or not spec.step:
            continue
        assert spec.minimum <= spec.default <= spec.maximum, path
        k = (float(spec.default) - spec.minimum) / spec.step
        assert k == pytest.approx(round(k), abs=1e-9), (path, spec.default, spec.step)
