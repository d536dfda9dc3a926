"""The event feed: what happened in the city today, in plain language.

After each step the session reads the day's notable events from the model's event log
(:mod:`sim.events`) — closed today (resolved, closed unresolved, gone to court, abandoned)
and escalated today (petition, collective incident) — and :func:`feed_kinds` marks their
issue rows (found by issue id among the open rows and those compacted away today);
:func:`select_events` keeps a few of them: every collective incident, then one of each
other kind, disputes and safety risks before needs and enquiries. The choice is a pure
function of the rows (a hash of the issue id), so the same seed gives the same feed;
nothing random happens outside the model.

:func:`describe` turns one event into a sentence such as
"亭湖区某网格员上门调解一起邻里纠纷，双方握手言和。" using the issue's category, sector,
handler pool kind, county, channel and outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import events as log_events
from sim.city.population import VULN_ASSISTANCE, VULN_ELDERLY_ALONE, VULN_LEFT_BEHIND
from sim.issues import CAT_DISPUTE, CAT_ENQUIRY, CAT_NEED, CAT_RISK
from sim.pools import (
    K_DEPARTMENT,
    K_GRID,
    K_HOTLINE,
    K_MASS,
    K_MEDIATION,
    K_ONLINE,
    K_PETITION,
    K_SOCIAL,
)
from sim.scenario.schema import SECTORS_EN, SECTORS_ZH

KINDS = ("collective", "petition", "litigated", "abandoned", "resolved", "failed")
MAX_PER_DAY = 6
# the event log's kinds shown in the feed -> KINDS; in this order a later kind of the
# same issue on the same day wins (an escalation over a closing, collective over petition)
LOG_KINDS = {
    log_events.RESOLVED_EV: "resolved",
    log_events.FAILED_EV: "failed",
    log_events.ABANDONED_EV: "abandoned",
    log_events.LITIGATION: "litigated",
    log_events.PETITION: "petition",
    log_events.COLLECTIVE: "collective",
}

# category -> sector -> (Chinese noun phrase, English noun phrase)
_DISPUTE = {
    "public_security": ("治安纠纷", "a public-order dispute"),
    "civil_affairs": ("婚姻家庭纠纷", "a family dispute"),
    "urban_management": ("噪音扰民纠纷", "a noise dispute"),
    "health": ("医疗纠纷", "a medical dispute"),
    "education": ("校园纠纷", "a school dispute"),
    "housing": ("物业纠纷", "a property-management dispute"),
    "human_resources": ("劳动争议", "a labour dispute"),
    "market_regulation": ("消费纠纷", "a consumer dispute"),
    "justice": ("邻里纠纷", "a dispute between neighbours"),
    "petitions": ("信访矛盾", "a long-standing grievance"),
}
_NEED = {
    "public_security": ("户籍办理诉求", "a household-registration request"),
    "civil_affairs": ("困难救助诉求", "a request for hardship assistance"),
    "urban_management": ("市容环境诉求", "a request about the street environment"),
    "health": ("看病就医诉求", "a request about medical care"),
    "education": ("子女入学诉求", "a school-enrolment request"),
    "housing": ("房屋维修诉求", "a housing-repair request"),
    "human_resources": ("社保就业诉求", "a pension and jobs request"),
    "market_regulation": ("食品安全投诉", "a food-safety complaint"),
    "justice": ("法律援助诉求", "a request for legal aid"),
    "petitions": ("信访诉求", "a petition request"),
}
_RISK = {
    "public_security": ("治安隐患", "a public-order hazard"),
    "urban_management": ("市政设施隐患", "a hazard in public facilities"),
    "health": ("公共卫生隐患", "a public-health hazard"),
    "housing": ("房屋安全隐患", "a building-safety hazard"),
    "market_regulation": ("食品安全隐患", "a food-safety hazard"),
}
_ENQUIRY = ("政策咨询", "a policy enquiry")

# handler pool kind -> (Chinese actor, English actor); departments take the sector name
_ACTOR = {
    K_HOTLINE: ("12345热线", "the 12345 hotline"),
    K_GRID: ("某网格员", "a grid worker"),
    K_MEDIATION: ("人民调解委员会", "the people's mediation committee"),
    K_SOCIAL: ("社会组织", "a social organisation"),
    K_ONLINE: ("苏解纷平台", "the Su Jie Fen online platform"),
    K_PETITION: ("信访部门", "the petition office"),
    K_MASS: ("群团组织", "a mass organisation"),
}

# channel (sim.issues.CH_*) -> (Chinese, English)
_CHANNEL = (
    ("经12345热线反映", "reported on the 12345 hotline"),
    ("经网上平台反映", "reported online"),
    ("居民向网格员反映", "told to the grid worker"),
    ("网格员巡查发现", "found on a grid patrol"),
    ("大数据/雪亮工程发现", "found by big data and video (雪亮)"),
    ("社会组织反映", "raised by a social organisation"),
    ("群团组织走访发现", "found on a mass-organisation visit"),
    ("因矛盾升级浮出水面", "came to light by escalating"),
)


@dataclass(frozen=True)
class Event:
    """One notable thing that happened to one issue today."""

    day: int
    kind: str  # one of KINDS
    iid: int
    county: int
    category: int
    sector: int
    pool_kind: int  # -1 if never handled
    channel: int  # -1 if never surfaced
    tier: int
    vulnerability: int  # bit mask of the resident (0 if none)
    days_open: float  # days from surfacing (or arising) to closing


def _mix(iid: np.ndarray, day: int) -> np.ndarray:
    """A fixed pseudo-random order of the rows (a hash of issue id and day)."""
    x = iid.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(day + 1)
    x ^= x >> np.uint64(31)
    return x * np.uint64(0xBF58476D1CE4E5B9)


def feed_kinds(cols: dict[str, np.ndarray], logged: dict[str, np.ndarray]) -> np.ndarray:
    """The feed kind (index into KINDS, −1 for none) of every row of ``cols``.

    ``cols`` are issue columns (the open rows and those compacted away today);
    ``logged`` are the day's events from the log (``EventLog.select``). Issue-level
    events of the kinds in :data:`LOG_KINDS` mark their issue's row; grid-level events
    (activation onsets, no issue) are not in the feed.
    """
    kind = np.full(cols["iid"].shape[0], -1, dtype=np.int8)
    issue = logged["issue"]
    order = np.argsort(cols["iid"], kind="stable")
    for code, name in LOG_KINDS.items():
        ids = issue[(logged["kind"] == code) & (issue >= 0)]
        if ids.size == 0:
            continue
        pos = np.minimum(np.searchsorted(cols["iid"], ids, sorter=order), order.size - 1)
        rows = order[pos]
        rows = rows[cols["iid"][rows] == ids]  # (every logged issue is among the rows)
        kind[rows] = KINDS.index(name)
    return kind


_CAT_ORDER = {CAT_DISPUTE: 0, CAT_RISK: 1, CAT_NEED: 2, CAT_ENQUIRY: 3}


def select_events(
    cols: dict[str, np.ndarray],
    kind: np.ndarray,
    day: int,
    pool_kind: np.ndarray,
    vulnerability: np.ndarray,
    limit: int = MAX_PER_DAY,
) -> list[Event]:
    """Choose up to ``limit`` events of the day, deterministically.

    Every collective incident first; then, in the order of ``KINDS``, one event of each
    kind; within a kind disputes, then safety risks, then needs, then enquiries, ties
    broken by a hash of the issue id. Resolved issues get up to three events (one per
    category) so the feed also shows what goes well.
    """
    rows = np.flatnonzero(kind >= 0)
    if rows.size == 0:
        return []
    order_cat = np.array([_CAT_ORDER.get(int(c), 4) for c in cols["category"][rows]])
    h = _mix(cols["iid"][rows], day)
    chosen: list[int] = []
    quota = {"collective": limit, "resolved": 3}
    for k_i, k in enumerate(KINDS):
        sel = rows[kind[rows] == k_i]
        if sel.size == 0:
            continue
        m = kind[rows] == k_i
        idx = np.lexsort((h[m], order_cat[m]))
        take = quota.get(k, 1)
        if k == "resolved":
            seen: set[int] = set()
            for j in idx:
                c = int(cols["category"][sel[j]])
                if c in seen:
                    continue
                seen.add(c)
                chosen.append(int(sel[j]))
                if len(seen) >= take:
                    break
        else:
            chosen += [int(sel[j]) for j in idx[:take]]
        if len(chosen) >= limit:
            break
    out = []
    for r in chosen[:limit]:
        pool = int(cols["pool"][r])
        res = int(cols["resident"][r])
        if KINDS[kind[r]] in ("petition", "collective"):  # still open: days since it arose
            t0, t1 = cols["t_created"][r], 24.0 * (day + 1)
        else:
            t0 = cols["t_surfaced"][r] if cols["channel"][r] >= 0 else cols["t_created"][r]
            t1 = cols["t_closed"][r]
        out.append(
            Event(
                day=day,
                kind=KINDS[kind[r]],
                iid=int(cols["iid"][r]),
                county=int(cols["county"][r]),
                category=int(cols["category"][r]),
                sector=int(cols["sector"][r]),
                pool_kind=int(pool_kind[pool]) if pool >= 0 else -1,
                channel=int(cols["channel"][r]),
                tier=int(cols["tier"][r]),
                vulnerability=int(vulnerability[res]) if 0 <= res < vulnerability.shape[0] else 0,
                days_open=max(0.0, float(t1 - t0) / 24.0),
            )
        )
    return out


def _thing(ev: Event) -> tuple[str, str]:
    sector = SECTORS_EN[ev.sector] if 0 <= ev.sector < len(SECTORS_EN) else ""
    if ev.category == CAT_DISPUTE:
        zh, en = _DISPUTE.get(sector, ("矛盾纠纷", "a dispute"))
        return "一起" + zh, en
    if ev.category == CAT_NEED:
        zh, en = _NEED.get(sector, ("民生诉求", "a request"))
        return "一件" + zh, en
    if ev.category == CAT_RISK:
        zh, en = _RISK.get(sector, ("安全隐患", "a safety hazard"))
        return "一处" + zh, en
    return "一件" + _ENQUIRY[0], _ENQUIRY[1]


def _actor(ev: Event) -> tuple[str, str]:
    if ev.pool_kind == K_DEPARTMENT and 0 <= ev.sector < len(SECTORS_ZH):
        return (
            f"{SECTORS_ZH[ev.sector]}部门",
            f"the {SECTORS_EN[ev.sector].replace('_', ' ')} office",
        )
    return _ACTOR.get(ev.pool_kind, ("有关部门", "the authorities"))


def _who(ev: Event) -> tuple[str, str]:
    v = ev.vulnerability
    if v & VULN_ELDERLY_ALONE:
        return "一位独居老人", "an elderly person living alone"
    if v & VULN_LEFT_BEHIND:
        return "一名留守儿童家庭", "a left-behind child's family"
    if v & VULN_ASSISTANCE:
        return "一户困难群众", "a family on social assistance"
    return "一位居民", "a resident"


def _days(d: float, lang: str) -> str:
    if d < 1.0:
        return "当天办结" if lang == "zh" else "the same day"
    n = int(round(d))
    return f"用时{n}天" if lang == "zh" else f"after {n} day{'s' if n != 1 else ''}"


def describe(ev: Event, county_zh: list[str], county_en: list[str], lang: str = "zh") -> str:
    """One event as a plain-language sentence (Chinese or English)."""
    zh = lang == "zh"
    where = county_zh[ev.county] if zh else county_en[ev.county]
    thing_zh, thing_en = _thing(ev)
    actor_zh, actor_en = _actor(ev)
    ch_zh, ch_en = _CHANNEL[ev.channel] if 0 <= ev.channel < len(_CHANNEL) else ("", "")
    who_zh, who_en = _who(ev)
    k = ev.kind
    if k == "collective":
        return (
            f"{where}{thing_zh}久拖未决，引发群体性事件（集体访）。"
            if zh
            else f"In {where}, {thing_en} left unresolved turned into a collective incident."
        )
    if k == "petition":
        return (
            f"{where}{thing_zh}等待{int(ev.days_open)}天仍未解决，当事人到信访部门上访。"
            if zh
            else f"In {where}, {thing_en} still open after {int(ev.days_open)} days: "
            "the parties went to the petition office."
        )
    if k == "litigated":
        how = "调解未成" if ev.tier > 0 else "久拖未决"
        how_en = "mediation failed" if ev.tier > 0 else "it dragged on"
        return (
            f"{where}{thing_zh}{how}，当事人诉至法院。"
            if zh
            else f"In {where}, {thing_en} went to court ({how_en})."
        )
    if k == "abandoned":
        if ev.category == CAT_RISK:
            return (
                f"{where}{thing_zh}未被及时发现和处置，酿成事故。"
                if zh
                else f"In {where}, {thing_en} was not found in time and caused an accident."
            )
        if ev.category == CAT_DISPUTE:
            return (
                f"{where}{thing_zh}长期无人过问，当事人心存怨气。"
                if zh
                else f"In {where}, nobody took up {thing_en}; the parties are left aggrieved."
            )
        if ev.category == CAT_ENQUIRY:
            return (
                f"{where}居民{thing_zh}迟迟无人答复。"
                if zh
                else f"In {where}, {thing_en} from a resident went unanswered."
            )
        return (
            f"{where}{who_zh}的{thing_zh[2:]}长期无人回应，需求没有得到满足。"
            if zh
            else f"In {where}, {thing_en} of {who_en} went unanswered for too long."
        )
    if k == "failed":
        return (
            f"{where}{thing_zh}（{ch_zh}）经{actor_zh}办理，未能解决。"
            if zh
            else f"In {where}, {thing_en} ({ch_en}) was handled by {actor_en} but not resolved."
        )
    # resolved
    if ev.category == CAT_DISPUTE:
        if ev.pool_kind == K_GRID:
            return (
                f"{where}某网格员上门调解{thing_zh}，双方握手言和。"
                if zh
                else f"In {where}, a grid worker went door to door and settled {thing_en}."
            )
        if ev.pool_kind == K_ONLINE:
            return (
                f"{where}{thing_zh}通过苏解纷平台在线调解成功。"
                if zh
                else f"In {where}, {thing_en} was settled online on the Su Jie Fen platform."
            )
        if ev.pool_kind == K_MEDIATION:
            return (
                f"{where}{thing_zh}经镇(街道)人民调解委员会调解成功。"
                if zh
                else f"In {where}, the town's people's mediation committee settled {thing_en}."
            )
        return (
            f"{where}{actor_zh}化解{thing_zh}（{_days(ev.days_open, 'zh')}）。"
            if zh
            else f"In {where}, {actor_en} settled {thing_en} ({_days(ev.days_open, 'en')})."
        )
    if ev.category == CAT_RISK:
        return (
            f"{where}{thing_zh}（{ch_zh}）已由{actor_zh}处置。"
            if zh
            else f"In {where}, {thing_en} ({ch_en}) was dealt with by {actor_en}."
        )
    if ev.category == CAT_NEED:
        return (
            f"{where}{actor_zh}办结{who_zh}的{thing_zh[2:]}"
            f"（{ch_zh}，{_days(ev.days_open, 'zh')}）。"
            if zh
            else f"In {where}, {actor_en} met {thing_en} of {who_en} ({ch_en}, "
            f"{_days(ev.days_open, 'en')})."
        )
    return (
        f"{actor_zh}答复{where}居民{thing_zh}。"
        if zh
        else f"{actor_en[0].upper()}{actor_en[1:]} answered {thing_en} from {where}."
    )
