"""Why an index moved: each notable day-to-day change of 获得感 / 幸福感 / 安全感 with its
causes from the event log, in plain Chinese (English in the English view).

What is said follows the index definitions (:mod:`sim.metrics`), and says how firm the
link is:

- 安全感 ``S = 100·exp(−(w_r·R + w_c·C)/100)``, R the open safety risks per 1,000
  residents now, C the collective incidents of the last ``window_days`` days per 100,000
  residents. Its change is split exactly in log terms into: new collective incidents
  today (by county, from the log's ``collective`` events), incidents of day
  ``d − window_days`` leaving the window (the rectangles' falling edge), and the change
  in open risks. This is mechanism (``linked = "mechanism"``).
- 幸福感 is the weighted geometric mean of 获得感, 安全感, mean trust and one minus mean
  hardship: its change is split by the log changes of those parts (hardship is not in
  the daily table; it is what remains). Mechanism too.
- 获得感 is the mean satisfaction of the needs and enquiries settled in its window: the
  day's needs and enquiries closed unresolved or abandoned (a fall) or resolved (a rise)
  are named, with the county that had most of them, as co-occurrence
  (``linked = "related"``, "与当日事件相关"): the log does not say which settled need
  entered or left the window's mean with which weight.

The split of a change into parts is proportional in log terms (exact when only one part
moved). A change is notable when ``|Δ| ≥ threshold`` points (0.5 by default).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim import events as log_events
from sim.issues import CAT_ENQUIRY, CAT_NEED
from sim.metrics import security_terms

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

    what: str  # collective | window_out | risk | unmet | met | gain | security | trust | rest
    delta: float  # index points attributed to it
    n: int = 0
    county: int = -1
    ref_day: int = -1  # for window_out: the day the incidents happened
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


def _split(delta: float, parts: Sequence[float]) -> list[float]:
    """``delta`` shared in proportion to ``parts`` (log-space contributions)."""
    tot = sum(parts)
    if tot == 0 or not math.isfinite(tot):
        return [0.0] * len(parts)
    return [delta * p / tot for p in parts]


def _by_county(counties: np.ndarray) -> list[tuple[int, int]]:
    """(county, count), most first, ties by county code."""
    c = Counter(int(x) for x in counties)
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))


def security_causes(
    daily: Mapping[str, np.ndarray],
    i: int,
    collective_today: np.ndarray,
    collective_out: np.ndarray,
    n_residents: int,
    ix,
) -> list[Cause]:
    """The parts of 安全感's change from row ``i − 1`` to row ``i``.

    ``collective_today`` and ``collective_out`` are the county codes of the log's
    collective-incident events of day ``i`` and of day ``i − window_days`` (which leaves
    the window today).
    """
    s0, s1 = float(daily["security_index"][i - 1]), float(daily["security_index"][i])
    w = int(ix.window_days)
    coll = daily["escalations_collective"] + daily["unrest_incidents"]
    new = int(coll[i])
    out = int(coll[i - w]) if i - w >= 0 else 0
    n = max(n_residents, 1)
    d_risk = float(daily["open_risk"][i] - daily["open_risk"][i - 1])
    parts = {  # the exponent's terms (sim.metrics.security_terms), linear in their counts
        "collective": security_terms(ix, 0.0, new, n)[1],  # adds to −ln S·100, lowers S
        "window_out": -security_terms(ix, 0.0, out, n)[1],
        "risk": security_terms(ix, d_risk, 0.0, n)[0],
    }
    # S1/S0 = exp(−ΣL/100): a part's share of ΔS is its share of ΣL
    shares = _split(s1 - s0, list(parts.values()))
    causes: list[Cause] = []
    for (what, _), d in zip(parts.items(), shares, strict=True):
        if d == 0:
            continue
        if what == "collective":
            rows = _by_county(collective_today) or [(-1, new)]
            logged = sum(n for _, n in rows)
            for county, n in rows:
                causes.append(Cause("collective", d * n / max(logged, 1), n, county))
        elif what == "window_out":
            rows = _by_county(collective_out) or [(-1, out)]
            logged = sum(n for _, n in rows)
            for county, n in rows:
                causes.append(Cause("window_out", d * n / max(logged, 1), n, county, i - w))
        else:
            n_risk = int(daily["open_risk"][i] - daily["open_risk"][i - 1])
            causes.append(Cause("risk", d, n_risk))
    return causes


def happiness_causes(daily: Mapping[str, np.ndarray], i: int, ix) -> list[Cause]:
    """The parts of 幸福感's change: 获得感, 安全感, trust, and the rest (hardship)."""
    h0, h1 = float(daily["happiness_index"][i - 1]), float(daily["happiness_index"][i])
    w1, w2, w3, _ = ix.happiness_weights
    vals = []
    for k in ("gain_index", "security_index", "trust_mean"):
        a, b = float(daily[k][i - 1]), float(daily[k][i])
        if not (a > 0 and b > 0 and h0 > 0 and h1 > 0):
            return [Cause("rest", h1 - h0)]
        vals.append(math.log(b / a))
    parts = [w1 * vals[0], w2 * vals[1], w3 * vals[2]]
    total = math.log(h1 / h0)
    parts.append(total - sum(parts))
    names = ("gain", "security", "trust", "rest")
    shares = _split(h1 - h0, parts) if abs(total) > 1e-12 else [0.0] * 4
    return [Cause(n, d) for n, d in zip(names, shares, strict=True)]


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
    ``collective_out`` the county codes of the collective incidents of day
    ``i − window_days``.
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
    elif c.what == "window_out":
        what = (f"第{c.ref_day + 1}天{where}的聚集性事件{c.n}起移出统计窗口" if zh
                else f"{c.n} incident{'s' * (c.n != 1)} of day {c.ref_day + 1}"
                f"{' in ' + where if where else ''} left the window")  # fmt: skip
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
            "gain": (f"获得感{'上升' if up else '下降'}", f"gain {'up' if up else 'down'}"),
            "security": (f"安全感{'上升' if up else '下降'}", f"security {'up' if up else 'down'}"),
            "trust": (f"群众信任{'上升' if up else '下降'}", f"trust {'up' if up else 'down'}"),
            "rest": ("困难程度等其他变化", "hardship and other parts"),
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
