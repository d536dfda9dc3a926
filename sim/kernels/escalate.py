"""Stage 5 — disputes that wait too long climb the dispute pyramid.

An open dispute not being handled (hidden, waiting for routing or in a queue) faces,
after a grace period of ``grace_days`` since it arose, daily hazards of going to court
(``litigation_hazard``) and — unless already petitioned — of petitioning 信访. The
escalation fires with probability 1 − exp(−Σh) and its kind is drawn in proportion to the
hazards (competing risks). Litigation closes the dispute for the governance system (unless
first diverted to online pre-filing mediation, see :mod:`sim.kernels.diversion`); a
petition goes to the county's petition office.

**Rule of law acts through legitimacy and legal channels, not on the hazards.** The
petition hazard of a dispute raised by a resident of trust x_i is

    h_pet,i = petition_hazard · ((1 − x_i) / (1 − x̄₀))^κ,

x̄₀ the city's initial mean trust and κ = ``legitimacy.petition_distrust_elasticity``:
residents who see the formal channels as legitimate use them (Tyler 2006 [5]_), those who
distrust them petition (Li 2004 [6]_); trust moves with lawful, explained handling
(:mod:`sim.kernels.trust`). Of that hazard a share ρ = ``legal_channel_share``·rule_of_law
is taken by legal aid and court-annexed mediation into the legal channel (诉访分离): it is
added to the litigation hazard (and so first offered online pre-filing mediation when the
platform is on). Nothing multiplies the total hazard: rule of law lowers petitions and
collective incidents only through trust, activation and the legal channel.

**Collective incidents (群体性事件): a precipitating event meets a mobilised grid.** A
severe dispute (severity above ``collective_severity``) that escalates is a precipitating
event (Smelser 1962 [3]_: strain and a precipitating factor, with mobilisation and social
control deciding whether collective behaviour follows). It turns into a collective
incident, once per dispute, with probability

    p = collective_prob · m_g,
    m_g = min(1, A_g / max(incident_min_active, incident_share·n_g))^γ,

with A_g the active residents of its grid yesterday (Epstein's activation rule,
:mod:`sim.kernels.activation`) and γ = ``mobilisation_exponent``: m_g grows with the share
of the critical mass (Oliver, Marwell & Teixeira 1985 [4]_) present in the grid,
accelerating for γ > 1, so the same dispute ignites in a grid full of
aggrieved residents and fizzles out where legitimacy (trust) is high or enforcement is
present.
The incident then continues as a petition (集体访).

**Early control (早期控制).** When early warning is on, a work team goes to each grid
flagged the day before and takes up its known disputes (包案化解): the escalation hazards
of a known (surfaced) dispute in such a grid are multiplied by ``c_g = 1 − response_effect``
(``warning.response_effect``); hidden disputes are out of its reach.

The pyramid's shape (Felstiner, Abel & Sarat 1980; Miller & Sarat 1980: of 1,000
grievances ~700 claims, ~50 court filings) is a calibration target, not an input.

References
----------
1. Felstiner, W. L. F., Abel, R. L., & Sarat, A. (1980). The emergence and transformation
   of disputes: naming, blaming, claiming... Law & Society Review 15(3/4), 631–654.
   doi:10.2307/3053505
2. Miller, R. E., & Sarat, A. (1980). Grievances, claims, and disputes: assessing the
   adversary culture. Law & Society Review 15(3/4), 525–566. doi:10.2307/3053502
.. [3] Smelser, N. J. (1962). Theory of Collective Behavior. New York: Free Press.
.. [4] Oliver, P., Marwell, G., & Teixeira, R. (1985). A theory of the critical mass. I.
   Interdependence, group heterogeneity, and the production of collective action.
   American Journal of Sociology 91(3), 522–556. doi:10.1086/228313
.. [5] Tyler, T. R. (2006). Why People Obey the Law (2nd ed.). Princeton University Press.
.. [6] Li, L. (2004). Political trust in rural China. Modern China 30(2), 228–258.
   doi:10.1177/0097700403261824
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim.issues import (
    CAT_DISPUTE,
    CH_ESCALATION,
    LATENT,
    LEVEL_NONE,
    LEVEL_PETITION,
    NEXT_PETITION,
    QUEUED,
    ROUTING,
    rows_by_grid,
)
from sim.kernels.diversion import go_to_court, mark_declined, platform_accepts
from sim.rng import S_ESCALATE, S_ESCALATE_COLLECTIVE, S_ESCALATE_KIND, uniform

# Outcome codes written per row (0: nothing happened).
E_PETITION, E_LITIGATION, E_COLLECTIVE, E_DIVERTED = 1, 2, 3, 4


@njit(cache=True, inline="always")
def petition_propensity(x, distrust_ref, kappa):
    """((1 − x) / (1 − x̄₀))^κ: petitioning relative to a resident of the initial mean trust."""
    d = 1.0 - x
    if d <= 0.0:
        return 0.0
    return (d / distrust_ref) ** kappa


@njit(cache=True, parallel=True)
def _escalate_kernel(
    status, iid, category, severity, level, collective, channel, next_step, grid, resident,
    t_created, t_surfaced, t_ready, t_closed, diverted, trust, h_lit, h_pet, grace_h, p_coll,
    sev_coll, distrust_ref, kappa, legal_share, mobilisation, control, platform_open, seed,
    day, out,
):  # fmt: skip
    """Escalate waiting disputes; ``out[k]`` gets the E_* code of what happened to row k."""
    now = 24.0 * day + 24.0  # escalations are decided at the end of the day
    n = status.shape[0]
    for k in prange(n):
        out[k] = 0
        st = status[k]
        if category[k] != CAT_DISPUTE or not (st == LATENT or st == ROUTING or st == QUEUED):
            continue
        if now - t_created[k] < grace_h:
            continue
        hp = 0.0
        if level[k] == LEVEL_NONE:
            hp = h_pet * petition_propensity(trust[resident[k]], distrust_ref, kappa)
        c = 1.0 if st == LATENT else control[grid[k]]  # a work team takes up known disputes
        tot = (h_lit + hp) * c
        h_l = (h_lit + legal_share * hp) * c  # legal aid takes a share into court (诉访分离)
        if tot <= 0.0:
            continue
        q = iid[k]
        if uniform(seed, S_ESCALATE, day, q) >= 1.0 - np.exp(-tot):
            continue
        at = 24.0 * day + 24.0 * uniform(seed, S_ESCALATE_KIND, day, q + 0x1F3D5B79)
        # not before the issue arose, nor before its last event (surfacing, service end)
        at = max(at, t_created[k])
        if t_surfaced[k] == t_surfaced[k] and t_surfaced[k] > at:
            at = t_surfaced[k]
        if t_ready[k] == t_ready[k] and t_ready[k] > at:
            at = t_ready[k]
        if st == LATENT:
            channel[k] = CH_ESCALATION
            t_surfaced[k] = at
        if uniform(seed, S_ESCALATE_KIND, day, q) * tot < h_l:
            litigated = go_to_court(
                k, at, status, level, next_step, t_ready, t_closed, diverted, platform_open
            )
            out[k] = E_LITIGATION if litigated else E_DIVERTED
            continue
        out[k] = E_PETITION
        if (
            collective[k] == 0
            and severity[k] > sev_coll
            and uniform(seed, S_ESCALATE_COLLECTIVE, day, q) < p_coll * mobilisation[grid[k]]
        ):
            collective[k] = 1
            out[k] = E_COLLECTIVE
        level[k] = LEVEL_PETITION
        status[k] = ROUTING
        next_step[k] = NEXT_PETITION
        t_ready[k] = at


@dataclass(frozen=True)
class Params:
    """Escalation parameters, built once from the scenario.

    Attributes
    ----------
    h_lit, h_pet : float
        ``escalation.litigation_hazard``, ``escalation.petition_hazard`` per day.
    grace_h : float
        24·``escalation.grace_days``.
    p_coll : float
        ``escalation.collective_prob``.
    sev_coll : float
        ``escalation.collective_severity``.
    distrust_ref : float
        1 − x̄₀, x̄₀ = ``city.trust_mean`` (at least 10⁻⁶).
    kappa : float
        ``legitimacy.petition_distrust_elasticity``.
    legal_share : float
        ρ = ``legitimacy.legal_channel_share``·``levers.capability.rule_of_law``.
    uptake_digital, elderly_ability, severe_uptake_factor, sev_severe : float
        Online-mediation uptake (:func:`sim.kernels.diversion.mark_declined`); a severe
        dispute is one above ``escalation.collective_severity``.
    max_backlog_days : float
        ``online_mediation.max_backlog_days``.
    """

    h_lit: float
    h_pet: float
    grace_h: float
    p_coll: float
    sev_coll: float
    distrust_ref: float
    kappa: float
    legal_share: float
    uptake_digital: float
    elderly_ability: float
    severe_uptake_factor: float
    sev_severe: float
    max_backlog_days: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        e, lg, om = sc.escalation, sc.legitimacy, sc.online_mediation
        return cls(
            h_lit=e.litigation_hazard,
            h_pet=e.petition_hazard,
            grace_h=24.0 * e.grace_days,
            p_coll=e.collective_prob,
            sev_coll=e.collective_severity,
            distrust_ref=max(1.0 - sc.city.trust_mean, 1e-6),
            kappa=lg.petition_distrust_elasticity,
            legal_share=lg.legal_channel_share * sc.levers.capability.rule_of_law,
            uptake_digital=om.uptake_digital,
            elderly_ability=om.elderly_ability,
            severe_uptake_factor=om.severe_uptake_factor,
            sev_severe=e.collective_severity,
            max_backlog_days=om.max_backlog_days,
        )


class Escalated(NamedTuple):
    """What escalated today (:func:`escalate_step`)."""

    petitions: int  # a collective incident is also a petition (集体访)
    litigations: int
    collective: int
    collective_by_grid: np.ndarray  # int64[n_grids]: collective incidents per grid
    codes: np.ndarray  # uint8[issues.n]: per row, the E_* code of what happened (0: nothing)


def escalate_step(
    issues, n_grids: int, mobilisation, control, pools, queue_len, trust, age_group, p: Params,
    seed: int, day: int,
) -> Escalated:  # fmt: skip
    """Stage 5: escalate waiting disputes.

    Parameters
    ----------
    issues : sim.issues.IssueTable
    n_grids : int
    mobilisation : float64[n_grids]
        m_g, left by yesterday's activation (:func:`sim.kernels.activation.mobilisation`).
    control : float64[n_grids]
        c_g, the early-control factor (:func:`sim.kernels.warning.early_control`).
    pools : sim.pools.Pools
    queue_len : float64[n_pools]
        Today's queues (the online platform takes diversions only below its backlog limit).
    trust : float32[n_residents]
        Residents' trust x (legitimacy): distrust drives petitions.
    age_group : uint8[n_residents]
        ``City.age_group`` (online-mediation uptake).
    p : Params
    seed, day : int
    """
    t = issues
    mark_declined(t, age_group, p, seed)
    platform_open = platform_accepts(pools, queue_len, p.max_backlog_days)
    out = np.empty(t.n, dtype=np.uint8)  # per row: the E_* code of what happened
    _escalate_kernel(
        t.status, t.iid, t.category, t.severity, t.level, t.collective, t.channel, t.next_step,
        t.grid, t.resident, t.t_created, t.t_surfaced, t.t_ready, t.t_closed, t.diverted, trust,
        p.h_lit, p.h_pet, p.grace_h, p.p_coll, p.sev_coll, p.distrust_ref, p.kappa,
        p.legal_share, mobilisation, control, platform_open, seed, day, out,
    )  # fmt: skip
    counts = np.bincount(out, minlength=5)
    return Escalated(
        int(counts[E_PETITION] + counts[E_COLLECTIVE]),
        int(counts[E_LITIGATION]),
        int(counts[E_COLLECTIVE]),
        rows_by_grid(out, t.grid, E_COLLECTIVE, int(n_grids)),
        out,
    )
