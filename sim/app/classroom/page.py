"""The role-play pages (Solara): ``govsim app --roleplay`` serves this module.

One page, five views chosen by the address's query (so a reload keeps the view, the
class and the group):

- ``/`` — join: a group types the join code, its name and picks a free role;
- ``/?code=C&token=T`` — the group's desk: its role, budget, its own levers (decisions
  wait for the next round), the shared city, and the other roles' levers read-only (a
  move there is refused by the server, with the reason);
- ``/?teacher=K`` — the teacher: open a class (a new join code) or resume one; with
  ``&code=C`` the console: groups, pending decisions, the button for the next round;
- ``/?code=C&view=projector`` — the shared city for the projector (read-only);
- ``/?code=C&view=review`` — 复盘: each group's decisions per round and their cost, the
  city's and the counties' outcomes, the key events of each round.

``K`` is the teacher's secret (``runs/classroom/teacher.key``, printed by ``govsim app``),
``T`` a group's secret, given when it joins. Pages poll their class once a second, so a
round the teacher starts shows on every screen.
"""

from __future__ import annotations

import functools
import html
import json
import os
import secrets
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import solara
import solara.lab

from sim.app.classroom.roles import KIND_LABELS
from sim.app.classroom.session import (
    ESCALATION_KINDS,
    INDEX_KEYS,
    Classroom,
    ClassSession,
    _wan,
    normalise_code,
)
from sim.app.levers import all_levers, describe_change
from sim.app.page import LeverControl, config_from_env, page_css
from sim.app.session import summary_rows
from sim.app.text import INDICATORS, pick
from sim.errors import GovsimError
from sim.metrics_schema import DAILY_COLUMNS

ENV_CLASSROOM = "GOVSIM_CLASSROOM"
DEFAULT_ROOT = Path("runs") / "classroom"
POLL_SECONDS = 1.0
SUMMARY_KEYS = (*INDEX_KEYS, "resolution_rate", "mean_resolution_days", "escalations_petition")
KEY_EVENTS = 10  # per round on the 复盘 page: the largest index changes

TEXT: dict[str, tuple[str, str]] = {
    "title": ("盐城市域社会治理 · 沙盘推演", "Yancheng governance · role play"),
    "join": ("加入课堂", "Join the class"),
    "code": ("加入码", "Join code"),
    "group_name": ("小组名称", "Group name"),
    "role": ("角色", "Role"),
    "join_button": ("加入", "Join"),
    "no_class": ("没有这个加入码的课堂，请核对", "No class with this code; check it"),
    "round": ("已完成 {done} 轮 · 第 {day} 天", "{done} rounds played · day {day}"),
    "budget": ("预算：已用 {used} / 每年可追加 {total}", "Budget: {used} of {total} a year"),
    "own_levers": ("本组掌握的举措（下一轮生效）", "Your levers (applied next round)"),
    "pending": ("待下一轮生效的决定", "Decisions waiting for the next round"),
    "none": ("暂无", "none"),
    "others": ("其他角色的举措（只读）", "Other roles' levers (read-only)"),
    "city": ("共同的城市", "The shared city"),
    "teacher": ("教师控制台", "Teacher console"),
    "open_class": ("开设新课堂", "Open a new class"),
    "resume": ("继续已有课堂", "Resume a class"),
    "advance": ("推进一个月（下一轮）", "Next round (one month)"),
    "groups": ("已加入的小组", "Groups"),
    "students_go": (
        "学生在浏览器打开本服务器地址，输入加入码 {code}",
        "Students open this server's address and type the code {code}",
    ),
    "projector": ("投影视图", "Projector view"),
    "review": ("复盘", "Review (复盘)"),
    "decisions": ("各组决定与成本", "Decisions and costs by group"),
    "outcomes": ("全市结果（每轮）", "City outcomes per round"),
    "county_outcomes": ("各县结果（每轮末）", "Counties at the end of each round"),
    "key_events": ("关键事件回放", "Key events, replayed"),
    "not_teacher": ("教师地址无效", "Not a valid teacher address"),
    "county_note": (
        "说明：模型中的举措是全市统一的；各县的设定按人口加权合成全市取值，因此一个县的决定影响全市，而非只影响本县（教学设定）。",
        "Note: the model's levers are city-wide; the counties' settings are combined by "
        "resident share, so a county's decision acts on the whole city (teaching assumption).",
    ),
    "budget_note": (
        "预算为教学设定，非实际预算；成本按 sim/kernels/costs.py 折算全市每年追加支出。",
        "Budgets are teaching settings; costs are the whole city's extra yearly spending "
        "priced by sim/kernels/costs.py.",
    ),
}


def tx(key: str, lang: str, **fmt) -> str:
    text = pick(TEXT[key], lang)
    return text.format(**fmt) if fmt else text


CSS_EXTRA = """
.govsim-code { font-size: 3rem; font-weight: 700; letter-spacing: 0.3em; }
.govsim-table td, .govsim-table th { padding: 2px 8px; border-bottom: 1px solid #dde; }
.govsim-table { border-collapse: collapse; margin: 4px 0 12px 0; }
.govsim-refusal { color: #b00020; font-weight: 600; }
.govsim-pending { color: #9a6b00; }
"""


@functools.cache
def classroom() -> Classroom:
    """This server's classroom (from ``GOVSIM_CLASSROOM`` set by ``govsim app``)."""
    raw = json.loads(os.environ.get(ENV_CLASSROOM) or "{}")
    config = config_from_env()
    return Classroom(
        raw.get("root") or DEFAULT_ROOT,
        config.load(),
        raw.get("roles"),
        raw.get("days_per_round"),
    )


def use_poll(session: ClassSession | None) -> int:
    """Re-render when ``session`` changes (another browser's decision, a new round)."""
    seen = solara.use_reactive(session.version if session else 0)
    # Set when the view unmounts or its session changes (the effect's cleanup), so the
    # polling thread ends with the page instead of keeping the server process alive.
    stop = solara.use_memo(threading.Event, dependencies=[id(session)])
    solara.use_effect(lambda: stop.set, dependencies=[stop])

    def poll():
        while session is not None and task.is_current() and not stop.is_set():
            if session.version != seen.value:
                seen.value = session.version
            stop.wait(POLL_SECONDS)

    task = solara.lab.use_task(poll, dependencies=[id(session)], prefer_threaded=True)
    return seen.value


def _query(router) -> dict[str, str]:
    q = parse_qs(router.search or "")
    return {k: v[0] for k, v in q.items() if v}


def _link(**params) -> str:
    return "/?" + urlencode(params)


@solara.component
def Page():
    config = solara.use_memo(config_from_env, [])
    router = solara.use_router()
    q = _query(router)
    lang = q.get("lang", config.lang if config.lang in ("zh", "en") else "zh")
    solara.Title(tx("title", lang))
    solara.Style(page_css(config.webfont) + CSS_EXTRA)
    try:
        room = classroom()
    except GovsimError as e:
        solara.Error(f"govsim: {e}")
        return
    if "teacher" in q:
        TeacherView(room, q, lang, router)
        return
    session = room.get(q.get("code")) if q.get("code") else None
    if session is not None and q.get("view") == "projector":
        ProjectorView(session, lang)
    elif session is not None and q.get("view") == "review":
        ReviewView(session, lang)
    elif session is not None and session.group(q.get("token")) is not None:
        GroupView(session, q["token"], lang)
    else:
        JoinView(room, q.get("code", ""), lang, router)


@solara.component
def JoinView(room: Classroom, code0: str, lang: str, router):
    code = solara.use_reactive(code0)
    name = solara.use_reactive("")
    role = solara.use_reactive("")
    error = solara.use_reactive("")
    session = room.get(code.value) if len(normalise_code(code.value)) >= 6 else None
    use_poll(session)
    with solara.Column(style={"max-width": "640px", "padding": "16px"}):
        solara.HTML(tag="h2", unsafe_innerHTML=tx("join", lang))
        with solara.Div(attributes={"id": "govsim-join-code"}):
            solara.InputText(tx("code", lang), value=code, continuous_update=True)
        if normalise_code(code.value) and len(normalise_code(code.value)) >= 6 and not session:
            solara.Text(tx("no_class", lang), classes=["govsim-refusal"])
        if session is None:
            return
        with solara.Div(attributes={"id": "govsim-join-name"}):
            solara.InputText(tx("group_name", lang), value=name, continuous_update=True)
        taken = session.taken_roles()
        labels = {}
        for r in session.roles.roles.values():
            if r.id in taken:
                continue
            labels[f"{pick(KIND_LABELS[r.kind], lang)} · {r.name(lang)}"] = r.id
        with solara.Div(attributes={"id": "govsim-join-role"}):
            solara.Select(
                tx("role", lang), values=list(labels),
                value=next((k for k, v in labels.items() if v == role.value), None),
                on_value=lambda s: role.set(labels[s]),
            )  # fmt: skip
        if role.value in session.roles.roles:
            solara.Text(session.roles.role(role.value).brief(lang), classes=["govsim-help"])

        def join():
            try:
                g = session.join(name.value, role.value)
            except GovsimError as e:
                error.set(str(e))
                return
            router.push(_link(code=session.code, token=g.token, lang=lang))

        solara.Button(
            tx("join_button", lang), on_click=join, color="primary",
            disabled=not (name.value.strip() and role.value), attributes={"id": "govsim-join"},
        )  # fmt: skip
        if error.value:
            solara.Text(error.value, classes=["govsim-refusal"])


def _round_line(session: ClassSession, lang: str) -> str:
    return tx("round", lang, done=len(session.rounds), day=session.day)


@solara.component
def CityCharts(session: ClassSession, lang: str, version: int, projector: bool = False):
    png = solara.use_memo(lambda: session.city.charts_png(lang, projector), [version, lang])
    with solara.Div(classes=["govsim-figure"], attributes={"id": "govsim-charts"}):
        solara.Image(png, format="png")


@solara.component
def CitySummary(session: ClassSession, lang: str, version: int):
    """The city's latest values (the teaching page's summary rows, read-only)."""
    rows = summary_rows(session.city, SUMMARY_KEYS, lang)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    solara.HTML(tag="table", unsafe_innerHTML=body, classes=["govsim-summary"],
                attributes={"id": "govsim-summary"})  # fmt: skip


@solara.component
def CityWhy(session: ClassSession, lang: str, version: int, limit: int):
    """The latest notable index changes with their causes (:mod:`sim.app.annotate`)."""
    lines = session.run.annotation_lines(lang)[:limit]
    items = "".join(f"<li>{html.escape(text)}</li>" for _, text in lines)
    solara.HTML(tag="ul", unsafe_innerHTML=items or f"<li>{tx('none', lang)}</li>",
                classes=["govsim-why"], attributes={"id": "govsim-why"})  # fmt: skip


@solara.component
def GroupView(session: ClassSession, token: str, lang: str):
    v = use_poll(session)
    refusal = solara.use_reactive("")
    refusals = solara.use_reactive(0)  # re-creates a refused control (shows the old value)
    g = session.group(token)
    role = session.roles.role(g.role)
    specs = all_levers()

    def on_change(path, value):
        why = session.decide(token, path, value, lang)
        refusal.set(why or "")
        if why:
            refusals.set(refusals.value + 1)

    with solara.Column(style={"padding": "8px 16px"}):
        solara.HTML(
            tag="h2",
            unsafe_innerHTML=html.escape(
                f"{pick(KIND_LABELS[role.kind], lang)} · {role.name(lang)}（{g.name}）"
            ),
            attributes={"id": "govsim-role"},
        )
        solara.HTML(tag="div", unsafe_innerHTML=_round_line(session, lang),
                    attributes={"id": "govsim-round"})  # fmt: skip
        used = session.role_spend(role.id)
        solara.HTML(
            tag="div",
            unsafe_innerHTML=tx("budget", lang, used=_wan(used, lang),
                                total=_wan(role.budget_yuan_per_year, lang)),
            attributes={"id": "govsim-budget"},
        )  # fmt: skip
        solara.Text(role.brief(lang), classes=["govsim-help"])
        if refusal.value:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=html.escape(refusal.value),
                classes=["govsim-refusal"],
                attributes={"id": "govsim-refusal"},
            )
        with solara.Columns([4, 7]):
            with solara.Column():
                solara.HTML(tag="b", unsafe_innerHTML=tx("own_levers", lang))
                for path in role.levers:
                    LeverControl(specs[path], session.value(role.id, path), lang, on_change).key(
                        f"own-{path}-{refusals.value}-{v}"
                    )
                pend = session.pending.get(role.id, {})
                solara.HTML(tag="b", unsafe_innerHTML=tx("pending", lang))
                items = [
                    describe_change(specs[p], session.value(role.id, p, pending=False), x, lang)
                    for p, x in pend.items()
                ]
                solara.HTML(
                    tag="ul",
                    unsafe_innerHTML="".join(f"<li>{html.escape(s)}</li>" for s in items)
                    or f"<li>{tx('none', lang)}</li>",
                    classes=["govsim-pending"], attributes={"id": "govsim-pending"},
                )  # fmt: skip
                if role.kind == "county":
                    solara.Text(tx("county_note", lang), classes=["govsim-note"])
            with solara.Column():
                solara.HTML(tag="b", unsafe_innerHTML=tx("city", lang))
                CityCharts(session, lang, v)
                CitySummary(session, lang, v)
        with solara.Details(tx("others", lang)):
            with solara.Div(attributes={"id": "govsim-others"}):
                for path, spec in specs.items():
                    if path in role.levers:
                        continue
                    owners = session.roles.owners(path)
                    if not owners:
                        continue
                    shown = session.run.scenario.levers
                    value = getattr(getattr(shown, spec.group), spec.name)
                    LeverControl(spec, value, lang, on_change).key(
                        f"other-{path}-{refusals.value}-{v}"
                    )


@solara.component
def TeacherView(room: Classroom, q: dict[str, str], lang: str, router):
    ok = secrets.compare_digest(q.get("teacher", ""), room.teacher_key())
    session = room.get(q.get("code")) if ok and q.get("code") else None
    v = use_poll(session)
    busy = solara.use_reactive(False)
    if not ok:
        solara.Error(tx("not_teacher", lang))
        return
    key = q["teacher"]
    with solara.Column(style={"padding": "8px 16px"}):
        solara.HTML(tag="h2", unsafe_innerHTML=tx("teacher", lang))
        if session is None:

            def open_class():
                s = room.create()
                router.push(_link(teacher=key, code=s.code, lang=lang))

            solara.Button(tx("open_class", lang), on_click=open_class, color="primary",
                          attributes={"id": "govsim-open-class"})  # fmt: skip
            codes = room.codes()
            if codes:
                solara.HTML(tag="b", unsafe_innerHTML=tx("resume", lang))
                links = "".join(
                    f"<li><a href='{_link(teacher=key, code=c, lang=lang)}'>{c}</a></li>"
                    for c in codes[:20]
                )
                solara.HTML(tag="ul", unsafe_innerHTML=links)
            return
        solara.HTML(tag="div", unsafe_innerHTML=session.code, classes=["govsim-code"],
                    attributes={"id": "govsim-code"})  # fmt: skip
        solara.Text(tx("students_go", lang, code=session.code), classes=["govsim-help"])
        if session.restore_note:
            solara.Warning(session.restore_note)
        solara.HTML(tag="div", unsafe_innerHTML=_round_line(session, lang),
                    attributes={"id": "govsim-round"})  # fmt: skip

        def advance():
            busy.set(True)
            try:
                session.advance()
            finally:
                busy.set(False)

        with solara.Row():
            solara.Button(tx("advance", lang), on_click=advance, color="primary",
                          disabled=busy.value, attributes={"id": "govsim-advance"})  # fmt: skip
            for view in ("projector", "review"):
                solara.HTML(
                    tag="a",
                    unsafe_innerHTML=tx(view, lang),
                    attributes={"href": _link(code=session.code, view=view, lang=lang),
                                "target": "_blank", "id": f"govsim-link-{view}"},
                    style="margin: 8px 12px",
                )  # fmt: skip
        solara.HTML(tag="b", unsafe_innerHTML=tx("groups", lang))
        specs = all_levers()
        rows = []
        for g in session.groups.values():
            role = session.roles.role(g.role)
            pend = session.pending.get(g.role, {})
            moves = "；".join(
                describe_change(specs[p], session.value(g.role, p, pending=False), x, lang)
                for p, x in pend.items()
            )
            rows.append(
                f"<tr><td>{html.escape(g.name)}</td><td>{html.escape(role.name(lang))}</td>"
                f"<td>{_wan(session.role_spend(g.role), lang)} / "
                f"{_wan(role.budget_yuan_per_year, lang)}</td>"
                f"<td>{html.escape(moves) or '—'}</td></tr>"
            )
        head = pick(("<tr><th>小组</th><th>角色</th><th>预算</th><th>待生效决定</th></tr>",
                     "<tr><th>group</th><th>role</th><th>budget</th><th>pending</th></tr>"),
                    lang)  # fmt: skip
        solara.HTML(tag="table", unsafe_innerHTML=head + "".join(rows),
                    classes=["govsim-table"], attributes={"id": "govsim-groups"})  # fmt: skip
        CityCharts(session, lang, v)


@solara.component
def ProjectorView(session: ClassSession, lang: str):
    v = use_poll(session)
    maps = solara.use_memo(lambda: session.city.maps_png("unresolved", lang), [v, lang])
    with solara.Column(style={"padding": "4px 12px"}, classes=["govsim-projector"]):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"<b>{tx('title', lang)}</b> · {tx('code', lang)} {session.code}"
            f" · {_round_line(session, lang)}",
            attributes={"id": "govsim-round"},
        )
        with solara.Columns([6, 5]):
            with solara.Column():
                CityCharts(session, lang, v, projector=True)
            with solara.Column(gap="2px"):
                CitySummary(session, lang, v)
                CityWhy(session, lang, v, 4)
                for png in maps:
                    with solara.Div(classes=["govsim-figure"]):
                        solara.Image(png, format="png")


def _fmt(key: str, x) -> str:
    unit = DAILY_COLUMNS[key][2] if key in DAILY_COLUMNS else ""
    if x is None or x != x:
        return "—"
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit == "count":
        return f"{int(x)}"
    return f"{x:.1f}"


@solara.component
def ReviewView(session: ClassSession, lang: str):
    v = use_poll(session)
    specs = all_levers()
    names_zh = [c.name_zh for c in session.base.city.counties]
    names_en = [c.name_en for c in session.base.city.counties]
    names = names_zh if lang == "zh" else names_en
    with solara.Column(style={"padding": "8px 16px"}):
        solara.HTML(tag="h2", unsafe_innerHTML=f"{tx('review', lang)} · {session.code}")
        solara.HTML(tag="div", unsafe_innerHTML=_round_line(session, lang))
        # each group's decisions per round, with their cost
        solara.HTML(tag="h3", unsafe_innerHTML=tx("decisions", lang))
        head = pick(("<tr><th>小组</th><th>角色</th><th>轮次</th><th>决定</th>"
                     "<th>每年成本变化</th></tr>",
                     "<tr><th>group</th><th>role</th><th>round</th><th>decision</th>"
                     "<th>yearly cost change</th></tr>"), lang)  # fmt: skip
        rows = []
        for g in session.groups.values():
            role = session.roles.role(g.role)
            mine = [x for r in session.rounds for x in r.decisions if x.role == g.role]
            for x in mine or [None]:
                cells = [html.escape(g.name), html.escape(role.name(lang))]
                if x is None:
                    cells += ["—", pick(("未作调整", "no change"), lang), "—"]
                else:
                    cells += [
                        str(x.round),
                        html.escape(describe_change(specs[x.path], x.before, x.after, lang)),
                        ("+" if x.cost_yuan > 0 else "") + _wan(x.cost_yuan, lang),
                    ]
                rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            applied = session.role_spend(g.role, session.settings.get(g.role, {}))
            rows.append(
                f"<tr><td></td><td></td><td></td><td><i>{pick(('合计', 'total'), lang)}</i></td>"
                f"<td><i>{_wan(applied, lang)} / "
                f"{_wan(role.budget_yuan_per_year, lang)}</i></td></tr>"
            )
        solara.HTML(
            tag="table",
            unsafe_innerHTML=head + "".join(rows),
            classes=["govsim-table"],
            attributes={"id": "govsim-review-decisions"},
        )
        solara.Text(tx("budget_note", lang), classes=["govsim-note"])
        # the city's outcomes per round
        solara.HTML(tag="h3", unsafe_innerHTML=tx("outcomes", lang))
        keys = (*INDEX_KEYS, "resolution_rate", "mean_resolution_days",
                *(f"escalations_{k}" for k in ESCALATION_KINDS))  # fmt: skip
        head = (
            "<tr><th></th>"
            + "".join(f"<th>{pick(DAILY_COLUMNS[k][:2], lang)}</th>" for k in keys)
            + f"<th>{pick(('全市年成本', 'city yearly cost'), lang)}</th></tr>"
        )
        rows = []
        for r in session.rounds:
            c = r.outcome["city"]
            cells = [pick((f"第{r.index}轮", f"round {r.index}"), lang)]
            cells += [_fmt(k, c[k]) for k in keys] + [_wan(c["cost_yuan_per_year"], lang)]
            rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
        solara.HTML(tag="table", unsafe_innerHTML=head + "".join(rows),
                    classes=["govsim-table"], attributes={"id": "govsim-review-city"})  # fmt: skip
        CityCharts(session, lang, v)
        # the counties that groups played
        played = [session.roles.role(g.role) for g in session.groups.values()]
        counties = [r.county for r in played if r.kind == "county"]
        if counties and session.rounds:
            solara.HTML(tag="h3", unsafe_innerHTML=tx("county_outcomes", lang))
            head = (
                "<tr><th></th><th></th>"
                + "".join(f"<th>{pick(INDICATORS[k][:2], lang)}</th>" for k in INDICATORS)
                + pick(
                    (
                        "<th>聚集性事件</th><th>信访</th><th>诉讼</th></tr>",
                        "<th>collective</th><th>petitions</th><th>litigation</th></tr>",
                    ),
                    lang,
                )
            )
            rows = []
            for c in counties:
                for r in session.rounds:
                    o = r.outcome["counties"][c]
                    cells = [names[c], pick((f"第{r.index}轮", f"round {r.index}"), lang)]
                    cells += [
                        f"{100 * o[k]:.0f}%" if INDICATORS[k][2] == "share" else f"{o[k]:.1f}"
                        for k in INDICATORS
                    ] + [str(o[k]) for k in ESCALATION_KINDS]
                    rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
            solara.HTML(
                tag="table",
                unsafe_innerHTML=head + "".join(rows),
                classes=["govsim-table"],
                attributes={"id": "govsim-review-counties"},
            )
            solara.Text(tx("county_note", lang), classes=["govsim-note"])
        # key events of each round, from the event log
        solara.HTML(tag="h3", unsafe_innerHTML=tx("key_events", lang))
        with solara.Div(attributes={"id": "govsim-review-events"}):
            for r in session.rounds:
                shown = session.key_events(r.index, lang, limit=KEY_EVENTS)
                items = "".join(f"<li>{html.escape(s)}</li>" for s in shown) or (
                    f"<li>{tx('none', lang)}</li>"
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=f"<b>{pick((f'第{r.index}轮', f'Round {r.index}'), lang)}"
                    f"</b><ul class='govsim-why'>{items}</ul>",
                )
