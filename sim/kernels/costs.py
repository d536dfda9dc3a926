"""Costs: the yearly budget a configuration spends, in yuan (issue 12).

A configuration's levers add staff, platforms and programmes; comparing configurations
without their cost rewards the one that was simply given more. The yearly cost of a
configuration in the simulated city is

    C = Σ_k n_k · w_k · o                                   staff of the handler pools
        + λ_ew · T · N / 10⁵ · w_off · o                    early-warning work teams
        + B_soc · N + V · m · N / 10⁵ · s_vol               social organisations
        + Σ_j λ_j · (K_j / L + O_j) · scale                 platforms
        + N_vuln · c_vuln · (K_dev / L_dev + O_dev)         雪亮 devices for the vulnerable
        + Σ_q λ_q · e_q · N                                 programmes
        + λ_cc · (d_town + d_county + d_city) · N / 10⁵ · w_op · o   centre dispatchers

with n_k the persons of pool kind k (a slot of the hotline, a grid or the online platform
is one person; slots of case-carrying pools are ``cases_per_staff`` cases per person — the
staffing rule of :func:`sim.pools.build_pools`), w_k the yearly pay of the role, o the
employer overhead, λ_ew the early-warning switch and T its funded work-team members per
100k (``levers.capability.warning_team_staff_per_100k``: paid as planned, whether the day's
flags use them or not, :mod:`sim.kernels.warning`),
B_soc the social-organisation budget per resident (a lever, already in yuan), V the
volunteer slots per 100k at full participation m, N the simulated residents, λ_j the lever
level that switches platform j on (centre integration, data sharing: 0–1; standards,
online mediation, early warning, logging, permissions: 0 or 1), K_j its build cost
annualised over L years, O_j its yearly operation, for the whole real city (× ``scale``,
so a 1:100 run reports 1:100 costs), N_vuln the vulnerable residents, c_vuln the 雪亮
coverage lever, e_q the yuan per resident-year of programme q at lever level 1 (among
them the consultation councils of resident self-governance, λ = the share of communities
with an active council, :mod:`sim.kernels.selfgov`), λ_cc the
centre integration and d_* the dispatchers per 100k of the three levels of command centre
(``command_centre.*``), paid as 12345 operators.

Not included: buildings and land, the general public-security video network, courts,
the time of residents and volunteers beyond their subsidy, one-off reorganisation
(coordination group, role clarity, pooled or equity reallocation, urban–rural
integration move existing capacity and are costed at zero), sanctions, key-person visits
(they take hours the grid workers already have from their patrols, :mod:`sim.kernels.
keyperson`).

Every figure and its source is in the ``costs`` section of the schema and in
docs/model.md ("Costs").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.pools import (
    K_DEPARTMENT,
    K_GRID,
    K_HOTLINE,
    K_MASS,
    K_MEDIATION,
    K_ONLINE,
    K_PETITION,
    K_SOCIAL,
    N_KINDS,
    Pools,
    build_pools,
    county_social_budgets,
)

# role of each pool kind's staff (social organisations are paid through their budget)
ROLE_OF_KIND = {
    K_HOTLINE: "hotline_operator",
    K_DEPARTMENT: "department_officer",
    K_GRID: "grid_worker",
    K_MEDIATION: "mediator",
    K_ONLINE: "online_mediator",
    K_PETITION: "petition_officer",
    K_MASS: "mass_org_staff",
}
ONE_PERSON_PER_SLOT = (K_HOTLINE, K_GRID, K_ONLINE)

# cost items, in the order of the breakdown; (Chinese, English)
ITEMS: dict[str, tuple[str, str]] = {
    "grid_worker": ("网格员", "grid workers"),
    "hotline_operator": ("12345坐席", "hotline operators"),
    "department_officer": ("职能部门办件人员", "department case officers"),
    "mediator": ("人民调解员", "people's mediators"),
    "online_mediator": ("在线调解员", "online mediators"),
    "petition_officer": ("信访人员", "petition officers"),
    "mass_org_staff": ("群团组织人员", "mass-organisation staff"),
    "warning_teams": ("预警工作组", "early-warning work teams"),
    "social_org_funding": ("社会组织扶持资金", "social-organisation funding"),
    "volunteers": ("志愿者补贴", "volunteer subsidies"),
    "command_centre": ("联合指挥中心", "command centre"),
    "centre_dispatchers": ("指挥中心派单员（市县镇三级）", "command-centre dispatchers (3 levels)"),
    "data_standards": ("统一数据标准", "unified data standards"),
    "data_sharing": ("数据共享", "data sharing"),
    "online_platform": ("苏解纷平台", "online mediation platform"),
    "warning_system": ("预警系统", "early-warning system"),
    "access_logging": ("终身留痕", "access logging"),
    "permission_control": ("权限管理", "permission control"),
    "video_vulnerable": ("雪亮困难群体覆盖", "雪亮 devices for the vulnerable"),
    "publicity": ("宣传教育", "publicity and education"),
    "evaluation": ("群众评价", "public evaluation"),
    "digital_inclusion": ("数字包容", "digital inclusion"),
    "rule_of_law": ("法治建设", "rule of law"),
    "self_governance": ("村（居）协商议事", "community consultation councils"),
}


@dataclass(frozen=True)
class Params:
    """Cost parameters and the lever levels that switch costs on, built once from the scenario.

    Attributes
    ----------
    pay_by_kind : float64 [N_KINDS]
        Yearly cost of one person of each pool kind's staff, overhead included (0 for
        social organisations: their budget pays them).
    cases_per_staff : float
        Concurrent cases one person of a case-carrying pool carries.
    platforms_city : dict[str, float]
        Yearly cost of each platform switched on, for the whole real city (lever level
        applied; not yet scaled).
    scale : float
        Fraction of the real city simulated.
    per_resident : dict[str, float]
        Yuan per simulated resident-year of the social-organisation budget and each
        programme (lever level applied).
    volunteer_per_resident : float
        Volunteer subsidies per resident-year (slots per 100k × participation × subsidy).
    per_vulnerable : float
        Yearly 雪亮 cost per vulnerable resident (coverage applied).
    """

    pay_by_kind: np.ndarray
    cases_per_staff: float
    platforms_city: dict[str, float]
    scale: float
    per_resident: dict[str, float]
    volunteer_per_resident: float
    per_vulnerable: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        c, lv, h = sc.costs, sc.levers, sc.handling
        o = c.overhead
        pay = np.zeros(N_KINDS)
        pay[K_GRID] = c.grid_worker_pay * o
        pay[K_HOTLINE] = c.operator_pay * o
        pay[K_DEPARTMENT] = c.officer_pay * o
        pay[K_PETITION] = c.officer_pay * o
        pay[K_MASS] = c.officer_pay * o
        pay[K_MEDIATION] = c.mediator_pay * o
        pay[K_ONLINE] = c.mediator_pay * o
        pay[K_SOCIAL] = 0.0
        life = c.platform_life_years
        platforms = {
            "command_centre": lv.data.centre_integration
            * (c.command_centre_build / life + c.command_centre_operation),
            "data_standards": float(lv.data.unified_data_standards) * c.data_standards_build / life,
            "data_sharing": lv.data.data_sharing
            * (c.data_sharing_build / life + c.data_sharing_operation),
            "online_platform": float(lv.capability.online_mediation)
            * (c.online_mediation_build / life + c.online_mediation_operation),
            "warning_system": float(lv.capability.early_warning)
            * (c.warning_system_build / life + c.warning_system_operation),
            "access_logging": float(lv.data_governance.access_logging) * c.access_logging_operation,
            "permission_control": float(lv.data_governance.permission_control)
            * c.permission_control_operation,
        }
        per_resident = {
            "social_org_funding": _social_org_budget(sc),
            "publicity": lv.people.publicity_education * c.publicity_per_resident,
            "evaluation": lv.people.public_evaluation * c.evaluation_per_resident,
            "digital_inclusion": lv.capability.digital_inclusion * c.digital_inclusion_per_resident,
            "rule_of_law": lv.capability.rule_of_law * c.rule_of_law_per_resident,
            # funded early-warning work teams (sim.kernels.warning.assign_teams)
            "warning_teams": float(lv.capability.early_warning)
            * lv.capability.warning_team_staff_per_100k
            / 1e5
            * c.officer_pay
            * o,
            # active consultation councils (sim.kernels.selfgov): members' allowances
            "self_governance": lv.system.self_governance
            * sc.self_governance.council_cost_per_resident,
            # dispatchers of the town, county and city centres, staffed with the share of
            # channels they dispatch (sim.kernels.route.centre_capacity)
            "centre_dispatchers": lv.data.centre_integration
            * (
                sc.command_centre.town_dispatchers_per_100k
                + sc.command_centre.county_dispatchers_per_100k
                + sc.command_centre.city_dispatchers_per_100k
            )
            / 1e5
            * c.operator_pay
            * o,
        }
        return cls(
            pay_by_kind=pay,
            cases_per_staff=h.cases_per_staff,
            platforms_city=platforms,
            scale=sc.scale,
            per_resident=per_resident,
            volunteer_per_resident=h.social_org_volunteer_slots_per_100k
            * lv.community.multi_actor_participation
            / 1e5
            * c.volunteer_subsidy,
            per_vulnerable=lv.community.video_coverage_vulnerable
            * (c.video_device_cost / c.video_device_life_years + c.video_operation_per_covered),
        )


def _social_org_budget(sc) -> float:
    """Social-organisation support per resident-year, city-wide: the counties' budgets
    (``levers.system.county_social_org_budget_yuan_per_resident`` where it names them)
    weighted by their populations (``city.counties``; the simulated city keeps their
    shares)."""
    sy = sc.levers.system
    if not sy.county_social_org_budget_yuan_per_resident:
        return sy.social_org_budget_yuan_per_resident
    pop = np.array([c.population for c in sc.city.counties], dtype=np.float64)
    return float(np.sum(np.asarray(county_social_budgets(sc)) * pop) / pop.sum())


def staff_by_kind(pools: Pools, cases_per_staff: float) -> np.ndarray:
    """Persons employed per pool kind [N_KINDS]: one per slot of the hotline, the grids and
    the online platform; ``cases_per_staff`` slots per person elsewhere (the staffing rule
    of :func:`sim.pools.build_pools`)."""
    slots = np.bincount(pools.kind, weights=pools.servers, minlength=N_KINDS).astype(np.float64)
    per_slot = np.full(N_KINDS, 1.0 / cases_per_staff)
    per_slot[list(ONE_PERSON_PER_SLOT)] = 1.0
    return slots * per_slot


def yearly_cost(
    staff: np.ndarray,
    n_residents: int,
    n_vulnerable: int,
    p: Params,
) -> dict[str, float]:
    """The yearly cost (yuan) of a configuration in the simulated city, by item (:data:`ITEMS`).

    Parameters
    ----------
    staff : float [N_KINDS]
        Persons per pool kind (:func:`staff_by_kind`).
    n_residents, n_vulnerable : int
        Simulated residents, and those with a vulnerability flag.
    p : Params
    """
    out = dict.fromkeys(ITEMS, 0.0)
    for k, role in ROLE_OF_KIND.items():
        out[role] = float(staff[k] * p.pay_by_kind[k])
    for name, per in p.per_resident.items():
        out[name] = float(per * n_residents)
    out["volunteers"] = float(p.volunteer_per_resident * n_residents)
    for name, yuan in p.platforms_city.items():
        out[name] = float(yuan * p.scale)
    out["video_vulnerable"] = float(p.per_vulnerable * n_vulnerable)
    return out


def configuration_cost(sc, city) -> float:
    """Yearly cost (yuan) of scenario ``sc`` in ``city``: staff as planned (the
    early-warning work teams as funded), platforms and programmes."""
    p = Params.from_scenario(sc)
    staff = staff_by_kind(build_pools(city, sc), p.cases_per_staff)
    n_vuln = int(np.count_nonzero(city.vulnerability))
    return sum(yearly_cost(staff, city.n_residents, n_vuln, p).values())


def budget_gap(sc, baseline, city_of) -> float:
    """Relative budget gap (cost(sc) − cost(baseline)) ÷ cost(baseline), yuan per
    resident-year so that configurations with different grids compare; ``city_of(sc)``
    builds (or returns a cached) city for a scenario."""
    a, b = city_of(sc), city_of(baseline)
    per_a = configuration_cost(sc, a) / max(a.n_residents, 1)
    per_b = configuration_cost(baseline, b) / max(b.n_residents, 1)
    return (per_a - per_b) / per_b


def equal_cost_department_slots(sc, baseline, city_of, tol: float = 1e-4) -> float:
    """Department slots per 100k (``handling.department_slots_per_100k``) at which ``sc``
    costs what ``baseline`` costs per resident-year: the budget gap re-spent on (or taken
    from) the departments. Bisection; the cost rises in steps with the slots (rounding per
    county and sector), so the result is within one step of the baseline's cost."""

    def gap(slots: float) -> float:
        h = sc.handling.model_copy(update={"department_slots_per_100k": slots})
        return budget_gap(sc.model_copy(update={"handling": h}), baseline, city_of)

    lo, hi = 0.0, 4.0 * max(sc.handling.department_slots_per_100k, 1.0)
    if gap(lo) > 0 or gap(hi) < 0:
        raise ValueError(
            f"department slots cannot close the budget gap of '{sc.name}' (gap at 0 slots "
            f"{gap(lo):+.1%}, at {hi:g}: {gap(hi):+.1%})"
        )
    while hi - lo > tol * max(hi, 1.0):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    return hi if abs(gap(hi)) <= abs(gap(lo)) else lo
