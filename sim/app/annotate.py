"""Why an index moved: each notable day-to-day change of 获得感 / 幸福感 / 安全感 with its
causes from the event log, in plain Chinese (English in the English view).

What is said follows the index definitions (:mod:`sim.metrics`, docs/model.md
"Indices": each index is the share of residents who would answer a survey item
positively, each resident's probability a logistic function of her experience, exposure
and trust), and says how firm the link is:

- 安全感: the day's metrics carry its first-order parts (:func:`sim.kernels.measure.
  survey_step`): today's new collective incidents (split by county from the log's
  ``collective`` events, in proportion to their number), the fading of remembered
  incidents (memory decays as exp(−age/τ), so an old incident's weight falls a little
  each day rather than leaving a window at once), and the change in open safety risks;
  what remains (trust, curvature) is "other". Mechanism (``linked = "mechanism"``).
- 幸福感: its exposure part (the same incidents and risks) and the rest (residents' own
  needs met or unmet, hardship, trust). Mechanism too.
- 获得感 follows residents' own needs and enquiries met or closed unmet: the day's needs
  and enquiries closed unresolved or abandoned (a fall) or resolved (a rise) are named,
  with the county that had most of them, as co-occurrence (``linked = "related"``,
  "与当日事件相关").

A change is notable when ``|Δ| ≥ threshold`` points (0.5 by default).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim import events as log_events
from sim.issues import CAT_ENQUIRY, CAT_NEED

INDEX_KEYS = ("gain_index", "happiness_index", "security_index")
INDEX_NAMES = {
    "gain_index": ("获得感", "gain"),
    "happiness_index": ("幸福感", "well-being"),
    "security_index": ("安全感", "security"),
}
THRESHOLD = 0.5  # index points


@dataclass(frozen=True)
class Cause:
    """One part of an index change: what, where (county −1: city-wide), how many."""

    what: str  # collective | fading | risk | unmet | met | security | rest
    delta: float  # index points attributed to it
    n: int = 0
    county: int = -1
    linked: str = "mechanism"  # or "related" (co-occurrence)


@dataclass(frozen=True)
class Change:
    """A notable change of one index from day ``day − 1`` to reported day ``day``."""

    day: int  # reported day (0-based; the page shows day + 1)
    key: str  # one of INDEX_KEYS
    before: float
    after: float
    causes: tuple[Cause, ...]

    @property
    def delta(self) -> float:
        return self.after - self.before


def _by_county(counties: np.ndarray) -> list[tuple[int, int]]:
    """(county, count), most first, ties by county code."""
    c = Counter(int(x) for x in counties)
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))


def _with_rest(delta: float, parts: dict[str, float]) -> list[tuple[str, float]]:
    """The named first-order parts and what remains of ``delta`` ("rest")."""
    named = [(k, float(v)) for k, v in parts.items() if math.isfinite(v) and v != 0.0]
    rest = delta - sum(v for _, v in named)
    return named + ([("rest", rest)] if abs(rest) > 1e-9 else [])


def security_causes(
    daily: Mapping[str, np.ndarray],
    i: int,
    collective_today: np.ndarray,
    collective_out: np.ndarray | None = None,
    n_residents: int = 0,
    ix=None,
) -> list[Cause]:
    """The parts of 安全感's change from row ``i − 1`` to row ``i``.

    ``collective_today`` holds the county codes of the log's collective-incident events of
    day ``i``. (``collective_out``, ``n_residents`` and ``ix`` are not needed since the
    indices remember with exponential decay instead of a window; kept for callers.)
    """
    s0, s1 = float(daily["security_index"][i - 1]), float(daily["security_index"][i])
    new = int(daily["escalations_collective"][i] + daily["unrest_incidents"][i])
    parts = _with_rest(
        s1 - s0,
        {
            "collective": daily["security_from_incidents"][i],
            "fading": daily["security_from_fading"][i],
            "risk": daily["security_from_risks"][i],
        },
    )
    causes: list[Cause] = []
    for what, d in parts:
        if what == "collective":
            rows = _by_county(collective_today) or [(-1, new)]
            logged = sum(n for _, n in rows)
            for county, n in rows:
                causes.append(Cause("collective", d * n / max(logged, 1), n, county))
        elif what == "risk":
            n_risk = int(daily["open_risk"][i] - daily["open_risk"][i - 1])
            causes.append(Cause("risk", d, n_risk))
        else:
            causes.append(Cause(what, d))
    return causes


def happiness_causes(daily: Mapping[str, np.ndarray], i: int, ix=None) -> list[Cause]:
    """The parts of 幸福感's change: exposure (incidents and risks) and the rest."""
    h0, h1 = float(daily["happiness_index"][i - 1]), float(daily["happiness_index"][i])
    parts = _with_rest(h1 - h0, {"security": daily["happiness_from_exposure"][i]})
    return [Cause(w, d) for w, d in parts]


def gain_causes(
    daily: Mapping[str, np.ndarray], i: int, today: Mapping[str, np.ndarray]
) -> list[Cause]:
    """获得感's change with the day's settled needs and enquiries (co-occurrence)."""
    d = float(daily["gain_index"][i] - daily["gain_index"][i - 1])
    demand = np.isin(today["category"], (CAT_NEED, CAT_ENQUIRY))
    unmet = demand & np.isin(today["kind"], (log_events.FAILED_EV, log_events.ABANDONED_EV))
    met = demand & (today["kind"] == log_events.RESOLVED_EV)
    sel = unmet if d < 0 else met
    rows = _by_county(today["county"][sel])
    top = rows[0][0] if rows else -1
    return [Cause("unmet" if d < 0 else "met", d, int(sel.sum()), top, linked="related")]


def notable_changes(
    daily: Mapping[str, np.ndarray],
    i: int,
    today: Mapping[str, np.ndarray],
    collective_out: np.ndarray,
    n_residents: int,
    ix,
    threshold: float = THRESHOLD,
) -> list[Change]:
    """The notable index changes of row ``i`` (vs. row ``i − 1``) with their causes.

    ``today`` is the day's event log (columns as :meth:`sim.events.EventLog.select`);
    ``collective_out`` (the county codes of the incidents of day ``i − window_days``) is
    no longer needed: remembered incidents fade instead of leaving a window.
    """
    if i < 1:
        return []
    out = []
    coll_today = today["county"][today["kind"] == log_events.COLLECTIVE]
    for key in INDEX_KEYS:
        a, b = float(daily[key][i - 1]), float(daily[key][i])
        if not (math.isfinite(a) and math.isfinite(b)) or abs(b - a) < threshold:
            continue
        if key == "security_index":
            causes = security_causes(daily, i, coll_today, collective_out, n_residents, ix)
        elif key == "happiness_index":
            causes = happiness_causes(daily, i, ix)
        else:
            causes = gain_causes(daily, i, today)
        out.append(Change(int(daily["day"][i]), key, a, b, tuple(causes)))
    return out


def _signed(d: float) -> str:
    return f"{'+' if d >= 0 else '−'}{abs(d):.1f}"


def cause_text(c: Cause, key: str, county_zh: Sequence[str], county_en: Sequence[str],
               lang: str = "zh") -> str:  # fmt: skip
    """One cause as '<what> → <index> ±Δ' (Chinese or English)."""
    zh = lang == "zh"
    idx = INDEX_NAMES[key][0 if zh else 1]
    where = ""
    if 0 <= c.county < len(county_zh):
        where = county_zh[c.county] if zh else county_en[c.county]
    if c.what == "collective":
        place = where or ("全市" if zh else "the city")
        what = (f"{place}发生聚集性事件{c.n}起" if zh
                else f"{c.n} collective incident{'s' * (c.n != 1)} in {place}")  # fmt: skip
    elif c.what == "fading":
        what = "过去的聚集性事件逐渐淡忘" if zh else "past incidents fading from memory"
    elif c.what == "risk":
        if zh:
            what = f"未处置安全隐患{'增加' if c.n > 0 else '减少'}{abs(c.n)}处"
        else:
            what = f"open safety risks {'up' if c.n > 0 else 'down'} by {abs(c.n)}"
    elif c.what in ("unmet", "met"):
        top = f"（{where}最多）" if zh and where else (f" (most in {where})" if where else "")
        if zh:
            what = f"当日{c.n}件群众诉求{'未办结或被放弃' if c.what == 'unmet' else '办结'}{top}"
        else:
            what = (f"{c.n} residents' requests {'closed unmet' if c.what == 'unmet' else 'met'}"
                    f" today{top}")  # fmt: skip
    else:
        up = c.delta >= 0
        what = {
            "security": (
                f"安全环境{'改善' if up else '变差'}（事件与隐患）",
                f"safety {'better' if up else 'worse'} (incidents and risks)",
            ),
            "rest": ("自身诉求、困难程度与信任等其他变化", "own needs, hardship, trust and other"),
        }[c.what][0 if zh else 1]
    text = f"{what} → {idx} {_signed(c.delta)}"
    if c.linked == "related":
        text += "（与当日事件相关）" if zh else " (related to the day's events)"
    return text


def change_text(ch: Change, county_zh: Sequence[str], county_en: Sequence[str],
                lang: str = "zh") -> str:  # fmt: skip
    """'第43天 射阳县发生聚集性事件1起 → 安全感 −3.0；…' for one change."""
    zh = lang == "zh"
    day = f"第{ch.day + 1}天" if zh else f"Day {ch.day + 1}:"
    sep = "；" if zh else "; "
    causes = sorted(ch.causes, key=lambda c: -abs(c.delta))
    big = [c for c in causes if abs(c.delta) >= 0.05] or causes[:1]
    shown = [cause_text(c, ch.key, county_zh, county_en, lang) for c in big[:3]]
    if not shown:
        name = INDEX_NAMES[ch.key][0 if zh else 1]
        shown = [f"{name} {_signed(ch.delta)}"]
    return f"{day} {sep.join(shown)}"
