"""What a class takes away: the daily summary and the event log as CSV, a one-page class
record as HTML (the charts PNG comes from :meth:`sim.app.session.Session.charts_png`).

Days are numbered as on the page: the first simulated day is 第 1 天 (day 1). CSV files
are UTF-8 with a byte-order mark, so a spreadsheet opens the Chinese correctly. The event
log of a run keeps, for the whole run, the events a class talks about (:data:`NOTABLE`:
collective incidents, petitions, litigation, pre-filing diversion, early-warning flags,
data misuse); the page's feed only keeps the last days in memory.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sim.app.levers import all_levers, describe_change
from sim.app.text import scenario_title
from sim.events import KINDS, kind_code
from sim.metrics_schema import DAILY_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from sim.app.session import Session

NOTABLE = ("collective", "petition", "litigation", "diverted", "warning", "misuse")
NOTABLE_CODES = np.array([kind_code(k) for k in NOTABLE], dtype=np.uint8)
RECORD_KEYS = (
    "gain_index",
    "happiness_index",
    "security_index",
    "resolution_rate",
    "mean_resolution_days",
    "escalations_petition",
    "escalations_collective",
    "unrest_incidents",
)
CATEGORY_ZH = ("咨询", "求助", "矛盾纠纷", "安全隐患")
CATEGORY_EN = ("enquiry", "need", "dispute", "safety risk")


class NotableSink:
    """An :class:`~sim.events.EventLog` sink that keeps the notable events of a whole run
    (a few per day) as numpy columns."""

    def __init__(self) -> None:
        self.chunks: list[dict[str, np.ndarray]] = []

    def __call__(self, table: pa.Table) -> None:
        kind = table.column("kind").to_numpy()
        keep = np.isin(kind, NOTABLE_CODES)
        if keep.any():
            self.chunks.append({c: table.column(c).to_numpy()[keep] for c in table.column_names})

    def columns(self) -> dict[str, np.ndarray]:
        if not self.chunks:
            return {
                c: np.zeros(0, dtype=np.int64)
                for c in ("day", "kind", "issue", "grid", "county", "pool", "category")
            }
        return {c: np.concatenate([ch[c] for ch in self.chunks]) for c in self.chunks[0]}


def _csv(rows: list[list]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _fmt(v: float) -> str:
    if v != v:
        return ""
    return f"{v:.6g}"


def daily_csv(session: Session) -> bytes:
    """One row per configuration and day; columns named ``中文 (key)``."""
    present = session.runs[0].daily() if session.runs else {}
    keys = [k for k in DAILY_COLUMNS if k in present]
    head = ["配置 config", "天 day"] + [f"{DAILY_COLUMNS[k][0]} ({k})" for k in keys]
    rows: list[list] = [head]
    for i, run in enumerate(session.runs):
        d = run.daily()
        n = len(next(iter(d.values()))) if d else 0
        for day in range(n):
            rows.append(["AB"[i], day + 1] + [_fmt(float(d[k][day])) for k in keys])
    return _csv(rows)


def event_rows(session: Session) -> list[dict]:
    """The notable events of every run, in day order: dicts with day (1-based), config,
    kind, Chinese/English kind, county (Chinese/English), grid, issue, category."""
    out = []
    for i, run in enumerate(session.runs):
        cols = run.notable_events()
        city = run.model.state.city
        order = np.argsort(cols["day"], kind="stable")
        for r in order:
            k = int(cols["kind"][r])
            c = int(cols["county"][r])
            cat = int(cols["category"][r])
            out.append(
                {
                    "config": "AB"[i],
                    "day": int(cols["day"][r]) + 1,
                    "kind": KINDS[k][0],
                    "kind_zh": KINDS[k][1],
                    "kind_en": KINDS[k][2],
                    "county_zh": city.county_names_zh[c] if 0 <= c < city.n_counties else "",
                    "county_en": city.county_names_en[c] if 0 <= c < city.n_counties else "",
                    "grid": int(cols["grid"][r]),
                    "issue": int(cols["issue"][r]),
                    "category_zh": CATEGORY_ZH[cat] if 0 <= cat < 4 else "",
                    "category_en": CATEGORY_EN[cat] if 0 <= cat < 4 else "",
                }
            )
    return out


def events_csv(session: Session) -> bytes:
    head = [
        "配置 config", "天 day", "类型", "kind", "县(市、区)", "county", "网格 grid",
        "事项 issue", "类别", "category",
    ]  # fmt: skip
    rows: list[list] = [head]
    for e in event_rows(session):
        rows.append(
            [
                e["config"], e["day"], e["kind_zh"], e["kind"], e["county_zh"], e["county_en"],
                e["grid"], e["issue"] if e["issue"] >= 0 else "", e["category_zh"],
                e["category_en"],
            ]
        )  # fmt: skip
    return _csv(rows)


def _value(key: str, v: float | None) -> str:
    if v is None or v != v:
        return "—"
    unit = DAILY_COLUMNS[key][2]
    if unit == "share":
        return f"{100 * v:.1f}%"
    if unit in ("0-100", "days"):
        return f"{v:.1f}"
    return f"{v:,.0f}"


CSS = """
body { font-family: "Noto Sans SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       max-width: 960px; margin: 24px auto; color: #1a2430; line-height: 1.5; }
h1 { font-size: 1.5rem; margin-bottom: 0; } h2 { font-size: 1.15rem; margin-top: 1.2em; }
.en { color: #607080; font-size: 0.85em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccd; padding: 3px 8px; }
td.n { text-align: right; } img { max-width: 100%; }
@media print { body { margin: 0; } }
"""


def class_record_html(session: Session, charts_png: bytes, now: datetime | None = None) -> bytes:
    """The one-page class record (Chinese first, English in grey): configurations, levers
    changed and on which day, the indices (last day and mean), key events, the charts."""
    specs = all_levers()
    now = now or datetime.now()
    e = html.escape
    out = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<title>课堂记录 · 盐城市域社会治理沙盘</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>课堂记录 · 盐城市域社会治理沙盘</h1>",
        "<div class='en'>Class record · Yancheng city governance simulator</div>",
        f"<p>{now:%Y-%m-%d %H:%M} · 模拟至第 {session.day} 天 (day {session.day}) · "
        f"比例 1:{round(1 / session.runs[0].scenario.scale)} · 随机种子 seed "
        f"{session.runs[0].seed}</p>",
    ]
    for i, run in enumerate(session.runs):
        name = f"配置 {'AB'[i]} " if session.ab else ""
        out.append(
            f"<h2>{name}{e(scenario_title(run.scenario, 'zh'))} "
            f"<span class='en'>{e(scenario_title(run.scenario, 'en'))}</span></h2>"
        )
        out.append("<p><b>调整的治理举措</b> <span class='en'>levers moved</span></p><ul>")
        if not run.history:
            out.append("<li>未调整 <span class='en'>none</span></li>")
        for day, path, before, after in run.history:
            spec = specs[path]
            out.append(
                f"<li>第 {day} 天后：{e(describe_change(spec, before, after, 'zh'))} "
                f"<span class='en'>after day {day}: "
                f"{e(describe_change(spec, before, after, 'en'))}</span></li>"
            )
        out.append("</ul>")
    out.append("<h2>指标 <span class='en'>indices</span></h2><table><tr><th></th>")
    for i in range(len(session.runs)):
        tag = f"{'AB'[i]} " if session.ab else ""
        out.append(f"<th>{tag}最后一天 <span class='en'>last day</span></th>")
        out.append(f"<th>{tag}平均 <span class='en'>mean</span></th>")
    out.append("</tr>")
    dailies = [r.daily() for r in session.runs]
    for k in RECORD_KEYS:
        zh, en, unit = DAILY_COLUMNS[k]
        cells = [f"<td>{e(zh)} <span class='en'>{e(en)}</span></td>"]
        for d in dailies:
            x = np.asarray(d.get(k, []), dtype=float)
            last = float(x[-1]) if x.size else None
            if unit == "count":
                agg = float(np.nansum(x)) if x.size else None
            else:
                agg = float(np.nanmean(x)) if x.size and np.isfinite(x).any() else None
            cells.append(f"<td class='n'>{_value(k, last)}</td><td class='n'>{_value(k, agg)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table><p class='en'>counts: the mean column is the total</p>")
    events = event_rows(session)
    out.append("<h2>重要事件 <span class='en'>key events</span></h2>")
    counts: dict[tuple[str, str], int] = {}
    for ev in events:
        counts[(ev["config"], ev["kind_zh"])] = counts.get((ev["config"], ev["kind_zh"]), 0) + 1
    if counts:
        out.append(
            "<p>"
            + "；".join(f"{c if session.ab else ''}{k} {n} 起" for (c, k), n in counts.items())
            + "</p>"
        )
    key = [ev for ev in events if ev["kind"] in ("collective", "petition")][:40]
    if key:
        out.append("<ul>")
        for ev in key:
            who = f"{ev['config']} · " if session.ab else ""
            out.append(
                f"<li>{who}第 {ev['day']} 天 {e(ev['county_zh'])}某网格：{e(ev['kind_zh'])}"
                f"{'（' + e(ev['category_zh']) + '）' if ev['category_zh'] else ''} "
                f"<span class='en'>day {ev['day']}, {e(ev['county_en'])}: "
                f"{e(ev['kind_en'])}</span></li>"
            )
        out.append("</ul>")
    else:
        out.append("<p>无聚集性事件或信访 <span class='en'>no collective incident or "
                   "petition</span></p>")  # fmt: skip
    if charts_png:
        b64 = base64.b64encode(charts_png).decode("ascii")
        out.append(
            "<h2>曲线 <span class='en'>charts</span></h2>"
            f"<img alt='获得感、幸福感、安全感与矛盾升级曲线' src='data:image/png;base64,{b64}'>"
        )
    out.append("</body></html>")
    return "\n".join(out).encode("utf-8")
