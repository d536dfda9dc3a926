"""Role play (沙盘推演): roles, permissions, budgets, rounds and restoring a class from disk.

Everything runs the real model at 1:1000 with rounds of a few days. The browser test
(teacher + three groups) is ``test_classroom_browser.py`` (slow).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.app.classroom.roles import ROLES_FILE, RoleSet
from sim.app.classroom.session import (
    CODE_ALPHABET,
    CODE_LENGTH,
    SESSION_FILE,
    Classroom,
    ClassSession,
    new_code,
    normalise_code,
)
from sim.app.cli import CLASSROOM_HOST, DEFAULT_HOST, ROLEPLAY_PAGE, app_command, register
from sim.app.levers import CITY_SHAPING, all_levers, get_lever
from sim.app.session import Session
from sim.errors import GovsimError
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "yancheng.toml"
SMALL = ["scale=0.001"]
DAYS = 4  # days per round in these tests

ONLINE = "levers.capability.online_mediation"
PATROL = "levers.capability.patrol_hours_per_day"
VIDEO = "levers.community.video_coverage_vulnerable"
INTEGRATION = "levers.data.centre_integration"


@pytest.fixture(scope="module")
def base():
    return load_scenario(BASELINE, SMALL)


@pytest.fixture(scope="module")
def roles(base):
    return RoleSet.load(base)


def _session(base, roles, folder=None) -> ClassSession:
    return ClassSession("TEST22", base, roles, folder, days_per_round=DAYS)


def _same_daily(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)  # NaN == NaN, bit for bit


# --------------------------------------------------------------------------- roles


def test_roles_file_gives_centre_lines_and_nine_counties(base, roles):
    kinds = [r.kind for r in roles.roles.values()]
    assert kinds.count("centre") == 1
    assert kinds.count("line") >= 3
    counties = [r for r in roles.roles.values() if r.kind == "county"]
    assert [r.name_zh for r in counties] == [c.name_zh for c in base.city.counties]
    assert len(counties) == 9
    assert abs(sum(roles.county_weights) - 1.0) < 1e-12
    specs = all_levers()
    for r in roles.roles.values():
        assert r.name_zh and r.budget_yuan_per_year > 0 and r.levers
        assert all(p in specs and p not in CITY_SHAPING for p in r.levers)
    # every lever has one kind of owner: one centre/line role, or the counties
    line_levers = [p for r in roles.roles.values() if r.kind != "county" for p in r.levers]
    assert len(line_levers) == len(set(line_levers))
    assert not set(line_levers) & set(roles.county_levers)
    assert roles.days_per_round == 30


def _move(data: dict, role: int, to: str, path: str) -> None:
    data["role"][role]["levers"].remove(path)
    data[to]["levers"].append(path)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["role"][0]["levers"].append("levers.data.centre_integraton"),
         ["role[0].levers[5]", "centre_integraton", "centre_integration"]),
        (lambda d: d["role"][1]["levers"].append("levers.data.centre_integration"),
         ["role[1].levers", "already owned by 'command'"]),
        (lambda d: _move(d, 1, "counties", "levers.capability.workers_per_grid"),
         ["counties.levers[4]", "continuous lever", "int"]),
        (lambda d: d["role"][0]["levers"].append("levers.capability.residents_per_grid"),
         ["role[0].levers[5]", "shapes the city"]),
        (lambda d: d["role"][0].update(budget_yuan_per_year=-1),
         ["role.0.budget_yuan_per_year = -1", "greater than or equal to 0"]),
        (lambda d: d["role"][0].update(kind="boss"), ["role.0.kind = 'boss'", "centre"]),
    ],
)  # fmt: skip
def test_bad_roles_file_is_one_line_naming_key_and_value(base, tmp_path, edit, words):
    import tomllib

    data = tomllib.loads(ROLES_FILE.read_text(encoding="utf-8"))
    edit(data)
    with pytest.raises(GovsimError) as e:
        RoleSet.from_data(data, base, "my_roles.toml")
    msg = str(e.value)
    assert msg.startswith("my_roles.toml: ") and "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_county_levers_take_the_resident_weighted_mean(base, roles):
    sheyang = roles.role("county_sheyang")
    w = roles.county_weights[sheyang.county]
    start = get_lever(base, PATROL)
    sc = roles.city_scenario(base, {"county_sheyang": {PATROL: 5.0}})
    assert get_lever(sc, PATROL) == pytest.approx(start + (5.0 - start) * w, abs=1e-12)
    # all nine counties at 5 hours: the city is at 5 hours
    every = {r.id: {PATROL: 5.0} for r in roles.roles.values() if r.kind == "county"}
    assert get_lever(roles.city_scenario(base, every), PATROL) == pytest.approx(5.0)
    # a line role's lever is its value
    assert get_lever(roles.city_scenario(base, {"justice": {ONLINE: True}}), ONLINE) is True
    assert roles.city_scenario(base, {}) == base


# --------------------------------------------------------------------------- permissions


def test_a_group_moves_only_its_own_levers(base, roles):
    s = _session(base, roles)
    centre = s.join("一组", "command")
    justice = s.join("二组", "justice")
    county = s.join("三组", "county_sheyang")
    # the centre tries the justice bureau's platform: refused, in Chinese, naming the owner
    why = s.decide(centre.token, ONLINE, True)
    assert why is not None
    assert "苏解纷在线解纷平台" in why and "市司法局" in why and "无权" in why
    assert "市社会治理现代化指挥中心" in why
    # a county tries a line's lever; the centre tries a county lever
    assert "市社会治理现代化指挥中心" in s.decide(county.token, INTEGRATION, 1.0)
    assert "各县" in s.decide(centre.token, PATROL, 5.0)
    assert "belongs to" in s.decide(centre.token, ONLINE, True, lang="en")
    # an unknown token, a city-shaping lever, an out-of-range value
    assert "未识别的小组" in s.decide("not-a-token", ONLINE, True)
    assert "不在本次沙盘推演之中" in s.decide(
        centre.token, "levers.capability.residents_per_grid", 500
    )
    assert "取值无效" in s.decide(county.token, PATROL, 99.0)
    assert s.pending == {}
    # own levers are accepted and wait for the round
    assert s.decide(justice.token, ONLINE, True) is None
    assert s.decide(county.token, PATROL, 5.0) is None
    assert s.pending == {"justice": {ONLINE: True}, "county_sheyang": {PATROL: 5.0}}
    assert get_lever(s.run.scenario, ONLINE) is False  # not before the round
    # moving back to the applied value withdraws the decision
    assert s.decide(county.token, PATROL, get_lever(base, PATROL)) is None
    assert "county_sheyang" not in s.pending
    # a role is taken once
    with pytest.raises(GovsimError, match="已由「二组」担任"):
        s.join("四组", "justice")


def test_budget_priced_with_the_cost_model_refuses_overspending(base, roles):
    s = _session(base, roles)
    centre = s.join("一组", "command")
    county = s.join("二组", "county_tinghu")
    # the command centre at full integration: its cost is the costs model's, whole city
    assert s.decide(centre.token, INTEGRATION, 1.0) is None
    c, cc = base.costs, base.command_centre
    platform = c.command_centre_build / c.platform_life_years + c.command_centre_operation
    dispatchers_per_100k = (
        cc.town_dispatchers_per_100k + cc.county_dispatchers_per_100k + cc.city_dispatchers_per_100k
    )
    real_residents = s.run.model.state.city.n_residents / base.scale
    dispatchers = dispatchers_per_100k * real_residents / 1e5 * c.operator_pay * c.overhead
    expected = 0.5 * (platform + dispatchers)  # integration 0.5 → 1.0
    assert s.role_spend("command") == pytest.approx(expected, rel=1e-9)
    assert s.role_spend("command") <= roles.role("command").budget_yuan_per_year
    # 雪亮 coverage for all of Tinghu's vulnerable residents costs more than a county may add
    why = s.decide(county.token, VIDEO, 1.0)
    assert why is not None and why.startswith("超出预算") and "万元" in why
    assert "county_tinghu" not in s.pending
    assert s.decide(county.token, VIDEO, 0.4) is None  # a smaller step fits


# --------------------------------------------------------------------------- rounds


def test_a_round_applies_every_pending_decision_at_its_boundary(base, roles):
    s = _session(base, roles)
    justice = s.join("二组", "justice")
    county = s.join("三组", "county_sheyang")
    s.decide(justice.token, ONLINE, True)
    s.decide(county.token, PATROL, 5.0)
    r = s.advance()
    assert (r.index, r.start_day, r.end_day, s.day) == (1, 0, DAYS, DAYS)
    assert s.pending == {}
    assert get_lever(s.run.scenario, ONLINE) is True
    w = roles.county_weights[roles.role("county_sheyang").county]
    assert get_lever(s.run.scenario, PATROL) == pytest.approx(2.0 + 3.0 * w)
    by_path = {x.path: x for x in r.decisions}
    assert by_path[ONLINE].group == "二组" and by_path[ONLINE].before is False
    assert by_path[ONLINE].cost_yuan > 0  # the platform's build and operation
    assert by_path[PATROL].cost_yuan == 0  # patrols are not costed (costs.py)
    # the round's outcomes: city and every county
    city = r.outcome["city"]
    for k in ("gain_index", "happiness_index", "security_index", "resolution_rate"):
        assert np.isfinite(city[k])
    assert city["cost_yuan_per_year"] == pytest.approx(s._cost(s.base) + by_path[ONLINE].cost_yuan
                                                       + by_path[PATROL].cost_yuan)  # fmt: skip
    assert len(r.outcome["counties"]) == 9
    assert all(np.isfinite(row["trust"]) for row in r.outcome["counties"])
    assert isinstance(s.key_events(1), list)
    assert len(s.key_events(1, limit=2)) <= 2


def test_rounds_without_decisions_equal_an_untouched_run(base, roles):
    """The round boundary keeps every state: two rounds with nothing decided are the
    same days as a plain run (bit-identical daily metrics)."""
    s = _session(base, roles)
    s.advance()
    s.advance()
    plain = Session(base)
    plain.step(2 * DAYS)
    _same_daily(s.run.daily(), plain.runs[0].daily())


# --------------------------------------------------------------------------- saving


def _played(base, roles, folder) -> ClassSession:
    s = _session(base, roles, folder)
    centre = s.join("一组", "command")
    justice = s.join("二组", "justice")
    county = s.join("三组", "county_sheyang")
    s.decide(justice.token, ONLINE, True)
    s.decide(centre.token, INTEGRATION, 0.8)
    s.advance()
    s.decide(county.token, PATROL, 4.0)
    s.decide(centre.token, INTEGRATION, 1.0)
    s.advance()
    s.decide(county.token, VIDEO, 0.35)  # pending when the server stops
    return s


def test_restore_from_disk_is_bit_identical(base, roles, tmp_path):
    s = _played(base, roles, tmp_path / "TEST22")
    saved = json.loads((tmp_path / "TEST22" / SESSION_FILE).read_text(encoding="utf-8"))
    assert saved["seed"] == base.seed and len(saved["rounds"]) == 2
    assert saved["pending"] == {"county_sheyang": {VIDEO: 0.35}}
    r = ClassSession.load(tmp_path / "TEST22")
    assert r.restore_note == ""
    assert r.day == s.day == 2 * DAYS
    _same_daily(r.run.daily(), s.run.daily())
    assert r.run.scenario == s.run.scenario
    assert r.pending == s.pending and r.settings == s.settings
    assert {t: g.role for t, g in r.groups.items()} == {t: g.role for t, g in s.groups.items()}
    assert [x.digest for x in r.rounds] == [x.digest for x in s.rounds]
    assert [x.decisions for x in r.rounds] == [x.decisions for x in s.rounds]
    assert r.rounds[1].outcome == s.rounds[1].outcome
    assert r.key_events(2) == s.key_events(2)
    # and it goes on like the original
    s.advance()
    r.advance()
    _same_daily(r.run.daily(), s.run.daily())


@pytest.mark.slow
def test_restore_in_a_new_process_is_bit_identical(base, roles, tmp_path):
    """A server restart: a fresh interpreter loads the folder and replays the rounds
    (slow: ~9 s, mostly the interpreter loading numba and the kernels)."""
    s = _played(base, roles, tmp_path / "TEST22")
    code = (
        "import sys, hashlib, numpy as np\n"
        "from sim.app.classroom.session import ClassSession\n"
        "s = ClassSession.load(sys.argv[1])\n"
        "d = s.run.daily(); h = hashlib.sha256()\n"
        "for k in sorted(d): h.update(k.encode()); h.update(np.ascontiguousarray(d[k]).tobytes())\n"
        "print(s.day, s.restore_note or 'ok', h.hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "TEST22")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=True,
    ).stdout.split()  # fmt: skip
    import hashlib

    d, h = s.run.daily(), hashlib.sha256()
    for k in sorted(d):
        h.update(k.encode())
        h.update(np.ascontiguousarray(d[k]).tobytes())
    assert out == [str(s.day), "ok", h.hexdigest()]


def test_a_tampered_record_is_reported_not_hidden(base, roles, tmp_path):
    _played(base, roles, tmp_path / "TEST22")
    path = tmp_path / "TEST22" / SESSION_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["rounds"][1]["digest"] = "0" * 32
    path.write_text(json.dumps(data), encoding="utf-8")
    assert "第 2 轮" in ClassSession.load(tmp_path / "TEST22").restore_note
    path.write_text("{", encoding="utf-8")
    with pytest.raises(GovsimError, match="session.json: not valid JSON"):
        ClassSession.load(tmp_path / "TEST22")


def test_join_codes_and_the_classroom_survive_a_new_classroom_object(base, tmp_path):
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set(CODE_ALPHABET)
    room = Classroom(tmp_path, base, days_per_round=DAYS)
    key = room.teacher_key()
    assert len(key) >= 16 and (tmp_path / "teacher.key").stat().st_mode & 0o077 == 0
    s = room.create()
    g = s.join("一组", "justice")
    s.decide(g.token, ONLINE, True)
    s.advance()
    assert room.get(s.code.lower()[:3] + " " + s.code.lower()[3:]) is s
    assert normalise_code(" ab-cd ef") == "ABCDEF"
    assert room.get("ZZZZZZ") is None and room.get("../etc") is None and room.get("") is None
    # a restarted server: a new Classroom on the same folder finds and restores the class
    again = Classroom(tmp_path, base, days_per_round=DAYS)
    assert again.teacher_key() == key
    assert again.codes() == [s.code]
    r = again.get(s.code)
    assert r is not s and r.day == s.day and r.group(g.token).role == "justice"
    _same_daily(r.run.daily(), s.run.daily())


# --------------------------------------------------------------------------- CLI


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    register(p.add_subparsers())
    return p.parse_args(["app", str(BASELINE), "--scale", "0.001", *argv])


def test_cli_roleplay_serves_the_classroom_page_on_loopback(tmp_path):
    cmd, env, url = app_command(_args("--roleplay", "--port", "0", "--classroom-dir",
                                      str(tmp_path)))  # fmt: skip
    assert ROLEPLAY_PAGE in cmd
    assert cmd[cmd.index("--host") + 1] == DEFAULT_HOST and url.startswith("http://127.0.0.1:")
    cfg = json.loads(env["GOVSIM_CLASSROOM"])
    assert cfg["root"] == str(tmp_path.resolve())
    assert (tmp_path / "teacher.key").is_file()
    cmd, _, _ = app_command(_args("--roleplay", "--classroom", "--port", "0",
                                  "--classroom-dir", str(tmp_path)))  # fmt: skip
    assert cmd[cmd.index("--host") + 1] == CLASSROOM_HOST
    cmd, env, _ = app_command(_args("--port", "0"))
    assert ROLEPLAY_PAGE not in cmd and "GOVSIM_CLASSROOM" not in env


def test_cli_roleplay_bad_options(tmp_path):
    with pytest.raises(GovsimError, match="--roles: only with --roleplay"):
        app_command(_args("--roles", str(ROLES_FILE), "--port", "0"))
    bad = tmp_path / "roles.toml"
    text = ROLES_FILE.read_text(encoding="utf-8")
    text = text.replace('"levers.system.coordination_group"', '"levers.system.coordination"')
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(GovsimError, match=r"roles.toml: role\[0\].levers\[4\]"):
        app_command(_args("--roleplay", "--roles", str(bad), "--port", "0",
                          "--classroom-dir", str(tmp_path)))  # fmt: skip
    with pytest.raises(GovsimError, match="--round-days 0"):
        app_command(_args("--roleplay", "--round-days", "0", "--port", "0",
                          "--classroom-dir", str(tmp_path)))  # fmt: skip


# --------------------------------------------------------------------------- pages


def _texts(rc) -> str:
    """Every HTML string and text of a rendered page, joined."""
    import ipywidgets

    seen, queue, out = set(), list(rc.find().widgets), []
    while queue:
        w = queue.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if isinstance(w, ipywidgets.Widget):
            for k in ("unsafe_innerHTML", "value", "label"):
                v = getattr(w, k, None)
                if isinstance(v, str):
                    out.append(v)
            queue += [getattr(w, k) for k in w.keys]
        elif isinstance(w, list | tuple):
            queue += list(w)
        elif isinstance(w, dict):
            queue += list(w.values())
        elif isinstance(w, str):
            out.append(w)
    return "\n".join(out)


@pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
def test_pages_render_the_group_desk_projector_and_review(base, roles):
    """The Solara views in a virtual kernel (as the server renders them): the group's
    desk shows only its role's levers as its own, the 复盘 page the decisions and costs."""
    import importlib

    solara = pytest.importorskip("solara")
    importlib.import_module("solara.server.app")
    kernel = importlib.import_module("solara.server.kernel")
    kernel_context = importlib.import_module("solara.server.kernel_context")
    from sim.app.classroom import page

    s = _played(base, roles, None)
    county = next(t for t, g in s.groups.items() if g.role == "county_sheyang")
    views = {
        "group": lambda: page.GroupView(s, county, "zh"),
        "projector": lambda: page.ProjectorView(s, "zh"),
        "review": lambda: page.ReviewView(s, "zh"),
    }
    texts = {}
    for name, view in views.items():
        ctx = kernel_context.VirtualKernelContext(id=name, kernel=kernel.Kernel(), session_id=name)
        try:
            with ctx:
                _, rc = solara.render(view(), handle_error=False)
                texts[name] = _texts(rc)
                rc.close()
        finally:
            ctx.close()
    assert "块 · 射阳县（三组）" in texts["group"]
    assert "已完成 2 轮 · 第 8 天" in texts["group"]
    assert "雪亮工程覆盖困难群体 30% → 35%" in texts["group"]  # pending
    assert "每年可追加 500 万元" in texts["group"]
    review = texts["review"]
    for words in ("一组", "市社会治理现代化指挥中心", "联合指挥中心整合度 50% → 80%",
                  "联合指挥中心整合度 80% → 100%", "二组", "苏解纷在线解纷平台 关 → 开",
                  "三组", "射阳县", "第2轮", "万元"):  # fmt: skip
        assert words in review, words
    assert "已完成 2 轮" in texts["projector"]
    # the pages' polling threads end with the pages (a live one keeps a process from exiting)
    import sys
    import time

    def polling() -> int:
        return sum(
            f.f_code.co_name == "poll" and f.f_code.co_filename == page.__file__
            for top in sys._current_frames().values()
            for f in _stack(top)
        )

    deadline = time.monotonic() + 5 * page.POLL_SECONDS
    while polling() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert polling() == 0


def _stack(frame):
    while frame is not None:
        yield frame
        frame = frame.f_back
