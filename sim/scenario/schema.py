"""The scenario schema: every parameter and lever of the model, typed and bounded.

A scenario file (TOML) is validated against :class:`Scenario` once, at the edge; the
validated, frozen object is then passed to every stage. Every field carries a range, a
unit (in its description) and the source or the article section it comes from.

Sections
--------
- ``city`` — territory and population synthesis (calibration.md: Yancheng census 2020).
- ``generation`` — how often residents have enquiries, needs, disputes and safety risks.
- ``surfacing`` — how hidden issues become known (12345, online, grid, video, organisations).
- ``routing`` — siloed department choice vs. command-centre dispatch.
- ``handling`` — handler pools, duty hours, service times, resolution probabilities.
- ``escalation`` — the dispute pyramid (petition, litigation, collective incident).
- ``indices`` — definitions of 获得感 / 幸福感 / 安全感.
- ``levers`` — the six groups of policy levers of the source article (DIGEST.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

N_SECTORS = 10
SECTORS_EN = (
    "public_security",
    "civil_affairs",
    "urban_management",
    "health",
    "education",
    "housing",
    "human_resources",
    "market_regulation",
    "justice",
    "petitions",
)
SECTORS_ZH = (
    "公安",
    "民政",
    "城管",
    "卫健",
    "教育",
    "住建",
    "人社",
    "市场监管",
    "司法",
    "信访",
)
CATEGORIES_EN = ("enquiry", "need", "dispute", "risk")
CATEGORIES_ZH = ("咨询", "民生诉求", "矛盾纠纷", "安全隐患")

Prob = Annotated[float, Field(ge=0.0, le=1.0)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class County(_Section):
    """One county-level division (区/县/县级市)."""

    name_zh: str = Field(description="Chinese name as in the boundary file, e.g. 亭湖区")
    name_en: str = Field(description="English name, e.g. Tinghu")
    population: int = Field(ge=1000, le=20_000_000, description="Resident population at 1:1")
    urban_share: Prob = Field(description="Share of residents in urban communities (0–1)")


def _default_counties() -> list[County]:
    # County populations are NOT published in an authoritative source we found
    # (calibration.md): these are approximations that sum to the 2020 census total of
    # 6,709,629. Dongtai is anchored on its 2021 bulletin (888,800). Urban shares are
    # approximate and give a city-wide share near 64 % (2018 yearbook).
    rows = [
        ("亭湖区", "Tinghu", 980_000, 0.88),
        ("盐都区", "Yandu", 860_000, 0.78),
        ("大丰区", "Dafeng", 640_000, 0.63),
        ("东台市", "Dongtai", 888_800, 0.60),
        ("响水县", "Xiangshui", 470_000, 0.52),
        ("滨海县", "Binhai", 800_000, 0.53),
        ("阜宁县", "Funing", 760_000, 0.55),
        ("射阳县", "Sheyang", 760_000, 0.55),
        ("建湖县", "Jianhu", 550_829, 0.59),
    ]
    return [County(name_zh=a, name_en=b, population=c, urban_share=d) for a, b, c, d in rows]


class CityParams(_Section):
    """Territory and population synthesis. Source: calibration.md (census 2020)."""

    total_population: int = Field(
        6_709_629, ge=1000, le=50_000_000, description="Residents at 1:1 (7th census, 2020)"
    )
    counties: list[County] = Field(
        default_factory=_default_counties,
        min_length=1,
        max_length=64,
        description="County-level divisions; populations must sum to total_population",
    )
    grids_per_community: int = Field(
        3, ge=1, le=50, description="Grids per village/community (≈6,700 grids / 2,450 units)"
    )
    communities_per_town: int = Field(
        17, ge=1, le=200, description="Villages/communities per town/street (≈2,450 / 144)"
    )
    mean_household_size: float = Field(
        2.6, ge=1.0, le=8.0, description="Mean residents per household (persons)"
    )
    child_share: Prob = Field(0.14, description="Share of residents under 18 (approx.)")
    elderly_share: Prob = Field(
        0.28, description="Share aged 60+ (approx.; Dongtai registered 32 % in 2021)"
    )
    elderly_alone_rate: Prob = Field(
        0.12, description="Share of elderly who live alone (孤寡老人) (approx.)"
    )
    left_behind_rate: Prob = Field(
        0.15, description="Share of rural children left behind (留守儿童) (approx.)"
    )
    assistance_rate: Prob = Field(
        0.03, description="Share of residents receiving social assistance (救助对象) (approx.)"
    )
    digital_access_urban: Prob = Field(
        0.85, description="Urban residents able to use online channels"
    )
    digital_access_rural: Prob = Field(
        0.55, description="Rural residents able to use online channels"
    )
    hardship_urban: Prob = Field(0.25, description="Mean hardship H of urban residents (0–1)")
    hardship_rural: Prob = Field(0.35, description="Mean hardship H of rural residents (0–1)")
    org_membership_rate: Prob = Field(
        0.15, description="Share of residents in a social or mass organisation"
    )
    trust_mean: Prob = Field(0.62, description="Initial mean trust in government (legitimacy L)")
    participation_mean: Prob = Field(
        0.5, description="Initial mean participation propensity (probability to report a need)"
    )
    neighbours_in_grid: int = Field(
        6, ge=0, le=50, description="Random social ties per resident inside the own grid"
    )
    long_ties: int = Field(
        1, ge=0, le=20, description="Random social ties per resident anywhere in the city"
    )

    @model_validator(mode="before")
    @classmethod
    def _rescale_counties(cls, data):
        """Setting total_population alone rescales the default county populations."""
        if isinstance(data, dict) and "total_population" in data and "counties" not in data:
            total = data["total_population"]
            if isinstance(total, int) and not isinstance(total, bool) and total > 0:
                base = _default_counties()
                weights = [c.population for c in base]
                s = sum(weights)
                raw = [total * w / s for w in weights]
                pops = [int(x) for x in raw]
                for i in sorted(range(len(raw)), key=lambda i: raw[i] - pops[i], reverse=True)[
                    : total - sum(pops)
                ]:
                    pops[i] += 1
                data = {
                    **data,
                    "counties": [
                        {**c.model_dump(), "population": max(p, 1000)}
                        for c, p in zip(base, pops, strict=True)
                    ],
                }
                if sum(max(p, 1000) for p in pops) != total:
                    data["total_population"] = sum(max(p, 1000) for p in pops)
        return data

    @model_validator(mode="after")
    def _populations_sum(self) -> CityParams:
        if self.child_share + self.elderly_share > 1.0:
            raise ValueError(
                f"child_share + elderly_share = {self.child_share + self.elderly_share} must be ≤ 1"
            )
        total = sum(c.population for c in self.counties)
        if total != self.total_population:
            raise ValueError(
                f"county populations sum to {total:,}, but total_population is "
                f"{self.total_population:,}; they must be equal"
            )
        return self


class CategoryRates(_Section):
    """A value per issue category: enquiry 咨询, need 民生诉求, dispute 矛盾纠纷, risk 安全隐患."""

    enquiry: float = Field(ge=0.0, le=1000.0, description="咨询 enquiries")
    need: float = Field(ge=0.0, le=1000.0, description="民生诉求 needs and service requests")
    dispute: float = Field(ge=0.0, le=1000.0, description="矛盾纠纷 disputes")
    risk: float = Field(ge=0.0, le=1000.0, description="安全隐患 safety risks")

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.enquiry, self.need, self.dispute, self.risk)


class CategoryProbs(_Section):
    """A probability per issue category."""

    enquiry: Prob = Field(description="咨询 enquiries")
    need: Prob = Field(description="民生诉求 needs and service requests")
    dispute: Prob = Field(description="矛盾纠纷 disputes")
    risk: Prob = Field(description="安全隐患 safety risks")

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.enquiry, self.need, self.dispute, self.risk)


class GenerationParams(_Section):
    """Stage 1: issues arise as independent Poisson events per resident-day."""

    rate_per_resident_year: CategoryRates = Field(
        default=CategoryRates(enquiry=0.45, need=0.32, dispute=0.045, risk=0.05),
        description="Base issues per resident-year by category, before multipliers "
        "(calibrated so ≈0.5 requests per resident-year surface; calibration.md)",
    )
    hardship_multiplier: float = Field(
        1.5, ge=0.0, le=20.0, description="Rate × (1 + m·(H − mean H)) for needs and disputes"
    )
    vulnerable_multiplier: float = Field(
        2.0, ge=1.0, le=20.0, description="Rate multiplier for needs of vulnerable residents"
    )
    rural_risk_multiplier: float = Field(
        1.2, ge=0.0, le=20.0, description="Rate multiplier for safety risks in rural grids"
    )
    dispute_hotspot_cv: float = Field(
        1.5,
        ge=0.0,
        le=5.0,
        description="Coefficient of variation of the grids' dispute-rate multiplier κ_g "
        "(Gamma, mean 1; 0 = disputes spread evenly): disputes concentrate in hot spots "
        "(Weisburd 2015, the law of concentration)",
    )
    severity_a: float = Field(
        2.0, gt=0.0, le=50.0, description="Kumaraswamy(a, b) severity shape a (Beta-like)"
    )
    severity_b: float = Field(
        5.0, gt=0.0, le=50.0, description="Kumaraswamy(a, b) severity shape b (Beta-like)"
    )


class SurfacingParams(_Section):
    """Stage 2: competing hazards per hidden issue-day; the first channel to fire surfaces it."""

    report_hazard: CategoryRates = Field(
        default=CategoryRates(enquiry=1.3, need=0.16, dispute=0.08, risk=0.033),
        description="Daily hazard of a resident reporting, × participation propensity × "
        "(0.5 + trust) (per day)",
    )
    online_share_digital: Prob = Field(
        0.20, description="Of self-reports by residents with digital access, share made online"
    )
    to_grid_worker_share: Prob = Field(
        0.25, description="Of non-enquiry self-reports, share told to the grid worker"
    )
    patrol_detection: CategoryRates = Field(
        default=CategoryRates(enquiry=0.0, need=0.02, dispute=0.025, risk=0.04),
        description="Daily detection hazard per patrol-hour per worker per 1,000 residents",
    )
    video_detection: CategoryRates = Field(
        default=CategoryRates(enquiry=0.0, need=0.10, dispute=0.05, risk=0.25),
        description="Daily detection hazard by big data/video (雪亮) at full coverage and sharing",
    )
    social_org_detection: float = Field(
        0.05,
        ge=0.0,
        le=10.0,
        description="Daily hazard for needs/disputes via social orgs at full strength",
    )
    mass_org_detection: float = Field(
        0.08,
        ge=0.0,
        le=10.0,
        description="Daily hazard for vulnerable residents' needs at full push",
    )
    hidden_patience_days: CategoryRates = Field(
        default=CategoryRates(enquiry=3.0, need=60.0, dispute=90.0, risk=120.0),
        description="Mean days before a hidden issue is abandoned (need unmet, risk realised)",
    )
    video_coverage_general: Prob = Field(
        0.3, description="雪亮 video coverage of public space (safety risks of anyone)"
    )
    social_org_budget_half: float = Field(
        1.5,
        gt=0.0,
        le=1000.0,
        description="Budget (yuan/resident-year) at which social orgs reach half strength",
    )
    patrol_load_stop: float = Field(
        8.0,
        gt=0.0,
        le=1000.0,
        description="Queued cases per grid worker at which patrols stop (load-dependent)",
    )
    report_hours: tuple[
        Annotated[float, Field(ge=0.0, le=24.0)], Annotated[float, Field(ge=0.0, le=24.0)]
    ] = Field((8.0, 22.0), description="Hours of the day in which reports are made (uniform)")

    @model_validator(mode="after")
    def _check(self) -> SurfacingParams:
        if self.report_hours[1] <= self.report_hours[0]:
            raise ValueError(
                f"report_hours {list(self.report_hours)} must be [start, end] with end > start"
            )
        for cat, v in zip(CATEGORIES_EN, self.hidden_patience_days.as_tuple(), strict=True):
            if v <= 0:
                raise ValueError(f"hidden_patience_days.{cat} = {v} must be > 0 (days)")
        return self


class RoutingParams(_Section):
    """Stage 3: siloed choice (条块分割) vs. command-centre dispatch (联合指挥中心)."""

    siloed_correct_base: Prob = Field(
        0.55, description="Chance a siloed first choice of department is right (role clarity 0)"
    )
    siloed_correct_role_gain: Prob = Field(0.35, description="Added to the above at role clarity 1")
    centre_accuracy_base: Prob = Field(0.80, description="Dispatch accuracy of the centre")
    centre_accuracy_standards: Prob = Field(0.12, description="Added by unified data standards")
    centre_accuracy_sharing: Prob = Field(0.05, description="Added at full data sharing")
    siloed_delay_hours: float = Field(
        24.0, ge=0.0, le=720.0, description="Hours for a siloed hand-over to a department"
    )
    dispatch_delay_hours: float = Field(
        6.0, ge=0.0, le=720.0, description="Hours for a centre dispatch without unified standards"
    )
    dispatch_delay_standards_hours: float = Field(
        1.0, ge=0.0, le=720.0, description="Hours for a centre dispatch with unified standards"
    )
    transfer_delay_hours: float = Field(
        24.0, ge=0.0, le=720.0, description="Hours a transfer between departments takes (转办)"
    )
    grid_on_spot_share: Prob = Field(
        0.6, description="Share of needs/risks found by a grid worker that the grid handles itself"
    )
    misuse_risk_per_use: Prob = Field(
        0.0005, description="Chance that one use of shared personal data is misused, ungoverned"
    )
    misuse_logging_effect: Prob = Field(
        0.6, description="Reduction of misuse risk by life-long access logging (终身留痕)"
    )
    misuse_permission_effect: Prob = Field(
        0.5, description="Reduction of misuse risk by explicit permission control"
    )
    misuse_deterrence_effect: Prob = Field(
        0.7, description="Reduction of misuse risk at full deterrence"
    )
    misuse_trust_shock: Prob = Field(
        0.02, description="δ, share of trust lost in a grid per data-misuse incident there"
    )


PoolKind = Literal[
    "hotline", "department", "grid", "mediation", "social_org", "online", "petition", "mass_org"
]
POOL_KINDS: tuple[str, ...] = (
    "hotline",
    "department",
    "grid",
    "mediation",
    "social_org",
    "online",
    "petition",
    "mass_org",
)
POOL_KINDS_ZH = (
    "12345热线",
    "职能部门",
    "网格",
    "人民调解",
    "社会组织",
    "苏解纷平台",
    "信访",
    "群团组织",
)


class PoolParams(_Section):
    """One kind of handler pool: duty hours, service times and outcomes."""

    duty_start: float = Field(ge=0.0, le=24.0, description="On-duty start (hour of day)")
    duty_end: float = Field(ge=0.0, le=24.0, description="On-duty end (hour of day)")
    weekends: bool = Field(description="On duty on Saturdays and Sundays")
    service_hours: CategoryRates = Field(
        description="Mean elapsed handling time per case (hours), exponential"
    )
    resolve_prob: CategoryProbs = Field(description="Chance a handled case is resolved")

    @model_validator(mode="after")
    def _duty(self) -> PoolParams:
        if self.duty_end <= self.duty_start:
            raise ValueError(
                f"duty_end ({self.duty_end}) must be later than duty_start ({self.duty_start})"
            )
        return self


def _pool(a, b, w, sh, rp) -> PoolParams:
    return PoolParams(
        duty_start=a,
        duty_end=b,
        weekends=w,
        service_hours=CategoryRates(**dict(zip(CATEGORIES_EN, sh, strict=True))),
        resolve_prob=CategoryProbs(**dict(zip(CATEGORIES_EN, rp, strict=True))),
    )


class HandlingParams(_Section):
    """Stage 4: queues with on-duty hours inside the day (Erlang-C-consistent)."""

    priority: Literal["fifo", "severity", "risk", "equity"] = Field(
        "fifo",
        description="Queue discipline: first come; most severe; highest escalation risk "
        "(severity × waiting); vulnerable residents first",
    )
    hotline_seats_per_100k: float = Field(
        5.5, ge=0.0, le=1000.0, description="12345 seats per 100k residents (Jiangsu 2024: 5.5)"
    )
    department_slots_per_100k: float = Field(
        600.0,
        ge=0.0,
        le=100_000.0,
        description="Concurrent department case slots per 100k residents of a county, all "
        "sectors together; split among sectors by their expected share of work orders",
    )
    cases_per_staff: float = Field(
        8.0, gt=0.0, le=100.0, description="Concurrent cases one department officer carries"
    )
    mediators_per_100k: float = Field(
        25.0, ge=0.0, le=10_000.0, description="People's mediation slots per 100k (per town)"
    )
    online_slots_per_100k: float = Field(
        10.0, ge=0.0, le=10_000.0, description="Online mediation (苏解纷) slots per 100k"
    )
    petition_slots_per_100k: float = Field(
        4.0,
        ge=0.0,
        le=10_000.0,
        description="Petition office slots per 100k residents (per county)",
    )
    misroute_screen_hours: float = Field(
        4.0,
        gt=0.0,
        le=720.0,
        description="Mean hours a department takes to see that an issue is not its own and "
        "send it back (退回) for transfer",
    )
    rural_service_penalty: Prob = Field(
        0.15,
        description="Relative shortfall in departments resolving rural residents' needs "
        "(thinner rural education, health and services; 城乡一体化 closes it)",
    )
    rural_capacity_ratio: float = Field(
        0.8,
        gt=0.0,
        le=2.0,
        description="Department and mediation slots per rural resident relative to urban "
        "(public services concentrated in towns; 城乡一体化 moves toward 1)",
    )
    mass_org_slots_per_100k: float = Field(
        6.0,
        ge=0.0,
        le=10_000.0,
        description="Mass-organisation service slots per 100k at full push",
    )
    social_org_staff_cost_yuan: float = Field(
        20_000.0, gt=0.0, le=1e7, description="Yuan per social-organisation case slot-year"
    )
    social_org_volunteer_slots_per_100k: float = Field(
        40.0,
        ge=0.0,
        le=10_000.0,
        description="Volunteer mediation/service slots per 100k at full multi-actor participation",
    )
    pools: dict[PoolKind, PoolParams] = Field(
        default_factory=lambda: {
            "hotline": _pool(0.0, 24.0, True, (0.1, 0.25, 0.25, 0.25), (0.86, 0.0, 0.0, 0.0)),
            "department": _pool(
                8.5, 17.5, False, (4.0, 80.0, 48.0, 40.0), (0.95, 0.88, 0.70, 0.92)
            ),
            "grid": _pool(8.0, 18.0, True, (0.5, 3.0, 3.0, 2.0), (0.95, 0.60, 0.55, 0.60)),
            "mediation": _pool(8.5, 17.5, False, (1.0, 24.0, 40.0, 24.0), (0.9, 0.8, 0.93, 0.8)),
            "social_org": _pool(8.5, 17.5, False, (1.0, 30.0, 40.0, 30.0), (0.9, 0.75, 0.80, 0.7)),
            "online": _pool(8.0, 22.0, True, (0.5, 12.0, 24.0, 12.0), (0.9, 0.75, 0.85, 0.7)),
            "petition": _pool(8.5, 17.5, False, (2.0, 80.0, 80.0, 80.0), (0.9, 0.7, 0.6, 0.7)),
            "mass_org": _pool(8.5, 17.5, False, (1.0, 24.0, 30.0, 24.0), (0.9, 0.8, 0.75, 0.7)),
        },
        description="Per pool kind: duty hours, service times (hours), resolution probability",
    )
    sector_mix: dict[str, list[float]] = Field(
        default_factory=lambda: {
            "enquiry": [0.10, 0.15, 0.10, 0.15, 0.10, 0.10, 0.20, 0.05, 0.05, 0.00],
            "need": [0.05, 0.25, 0.15, 0.15, 0.10, 0.15, 0.10, 0.05, 0.00, 0.00],
            "dispute": [0.30, 0.05, 0.10, 0.00, 0.00, 0.10, 0.10, 0.05, 0.30, 0.00],
            "risk": [0.40, 0.00, 0.30, 0.10, 0.00, 0.10, 0.00, 0.10, 0.00, 0.00],
        },
        description="Per category: share of issues belonging to each of the 10 sectors "
        "(public security, civil affairs, urban management, health, education, housing, "
        "human resources, market regulation, justice, petitions); each list sums to 1",
    )
    referral_prob: Prob = Field(
        0.7, description="Chance an unresolved dispute is referred to the next mediation tier"
    )
    need_retry_prob: Prob = Field(
        0.5,
        description="Chance an unresolved need/risk at a grid or organisation goes on to a "
        "department",
    )

    @model_validator(mode="after")
    def _mix(self) -> HandlingParams:
        for cat in CATEGORIES_EN:
            if cat not in self.sector_mix:
                raise ValueError(f"sector_mix needs a row for '{cat}'")
        for cat, row in self.sector_mix.items():
            if cat not in CATEGORIES_EN:
                raise ValueError(
                    f"sector_mix has unknown category '{cat}'; allowed: {CATEGORIES_EN}"
                )
            if len(row) != N_SECTORS or any(x < 0 for x in row) or abs(sum(row) - 1.0) > 1e-6:
                raise ValueError(
                    f"handling.sector_mix.{cat} must be {N_SECTORS} non-negative shares summing "
                    f"to 1, got {row}"
                )
        for kind in POOL_KINDS:
            if kind not in self.pools:
                raise ValueError(f"handling.pools needs an entry for '{kind}'")
        return self


class EscalationParams(_Section):
    """Stage 5: the dispute pyramid (Felstiner, Abel & Sarat 1980; Miller & Sarat 1980)."""

    grace_days: float = Field(
        7.0, ge=0.0, le=365.0, description="Days an open dispute waits before escalation starts"
    )
    litigation_hazard: float = Field(
        0.006, ge=0.0, le=1.0, description="Daily hazard of going to court after the grace period"
    )
    petition_hazard: float = Field(
        0.004,
        ge=0.0,
        le=1.0,
        description="Daily hazard of petitioning (信访) after the grace period",
    )
    collective_prob: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Chance an escalation of a severe dispute turns collective in a fully "
        "mobilised grid (scaled by the grid's active residents over the critical mass)",
    )
    collective_severity: Prob = Field(
        0.6, description="Severity above which an escalating dispute can turn collective"
    )
    mobilisation_exponent: float = Field(
        3.0,
        ge=0.0,
        le=10.0,
        description="γ in m_g = min(1, A_g / critical mass)^γ, the grid's mobilisation "
        "(γ > 1: accelerating production function, Oliver, Marwell & Teixeira 1985)",
    )
    rule_of_law_effect: Prob = Field(
        0.5, description="Reduction of petition and collective hazards at rule of law 1"
    )
    failure_litigation_prob: Prob = Field(
        0.35, description="Chance a dispute whose mediation finally failed goes to court"
    )


class ParticipationParams(_Section):
    """Stage 6: threshold contagion of participation (Granovetter 1978; Watts 2002).

    A resident whose engaged neighbours (propensity ≥ θ_e) make up at least her threshold
    φ_i ~ U[φ̄ − s, φ̄ + s] is raised to θ_e; otherwise she drifts at rate δ toward her
    baseline b₀ + β_pub·publicity + β_org·member; each own report resolved raises her
    propensity (p += η_s(1 − p)), each failed one lowers it (p ×= 1 − η_f) (Finkel 1985).
    """

    engaged_level: Prob = Field(0.5, description="θ_e, propensity that counts as engaged")
    threshold_mean: Prob = Field(0.25, description="φ̄, mean share of engaged neighbours needed")
    threshold_spread: float = Field(
        0.1, ge=0.0, le=0.5, description="s, thresholds uniform on [φ̄ − s, φ̄ + s]"
    )
    baseline: Prob = Field(
        0.25, description="b₀, propensity a neglected resident drifts to (疏离冷漠)"
    )
    publicity_gain: Prob = Field(
        0.5, description="β_pub, baseline added at full publicity (宣传教育)"
    )
    org_gain: Prob = Field(0.15, description="β_org, baseline added for organisation members")
    decay: Prob = Field(0.01, description="δ, daily drift toward the baseline (per day)")
    efficacy_gain: Prob = Field(0.1, description="η_s, gain per own report resolved")
    failure_loss: Prob = Field(0.15, description="η_f, loss per own report failed or neglected")


class TrustParams(_Section):
    """Stage 6: bounded-confidence trust exchange (Deffuant et al. 2000) plus experience.

    Each day every resident meets one neighbour (counter-based choice) and, if their
    trust differs by less than d, moves μ of the way toward the neighbour's yesterday
    value; then each own experience moves trust by its effect (+: toward 1, −: toward 0;
    Van Ryzin 2004; Kampen, Van de Walle & Bouckaert 2006).
    """

    confidence: Prob = Field(0.2, description="d, no exchange when trust differs by d or more")
    convergence: float = Field(0.3, gt=0.0, le=0.5, description="μ, step toward the partner")
    effect_resolved: float = Field(0.03, ge=-1.0, le=1.0, description="Effect of a resolved issue")
    effect_slow: float = Field(
        -0.01, ge=-1.0, le=1.0, description="Effect of a resolution later than slow_days"
    )
    effect_transferred: float = Field(
        -0.02, ge=-1.0, le=1.0, description="Effect of an issue transferred between departments"
    )
    effect_failed: float = Field(
        -0.06, ge=-1.0, le=1.0, description="Effect of an issue failed, abandoned or litigated"
    )
    slow_days: float = Field(
        7.0, gt=0.0, le=365.0, description="Resolution later than this counts as slow (days)"
    )


class ActivationParams(_Section):
    """Stage 6: grievance and activation (Epstein 2002): active if G − R·P > T.

    G = H'·(1 − L) with L the resident's trust and H' = min(1, H + b·u + b_s·100·U_g/n_g)
    the hardship felt, u the resident's needs and disputes open longer than the grace
    period, U_g the grid's disputes open that long (shared grievance);
    P = 1 − exp(−k·round(C/A)) with A the grid's active residents (incl. herself) and
    C = presence_per_1000·n_g/1000 + worker_weight·workers·m_g the grid's enforcement
    presence (m_g the early-warning patrol multiplier); R ~ U(0, 1) risk aversion.
    """

    arrest_constant: float = Field(2.3, ge=0.0, le=10.0, description="k (Epstein 2002: 2.3)")
    threshold: Prob = Field(0.1, description="T, activation threshold (Epstein 2002: 0.1)")
    presence_per_1000: float = Field(
        40.0,
        ge=0.0,
        le=1000.0,
        description="Enforcement presence per 1,000 residents besides grid workers (police, "
        "cadres, security staff, 雪亮 cameras; officer-equivalents; Epstein's cop:citizen "
        "ratio in Run 1 is ≈57 per 1,000)",
    )
    worker_weight: float = Field(
        10.0,
        ge=0.0,
        le=100.0,
        description="A patrolling grid worker's presence in officer-equivalents (knows the "
        "grid's residents: social control, not arrest)",
    )
    incident_share: Prob = Field(
        0.065, description="Active share of a grid that makes a collective incident (群体性事件)"
    )
    unresolved_hardship: Prob = Field(
        0.15,
        description="Hardship added per own need or dispute left open longer than "
        "escalation.grace_days (grievance from unresolved issues)",
    )
    shared_hardship: Prob = Field(
        0.05,
        description="Hardship added to every resident of a grid per dispute open longer than "
        "escalation.grace_days per 100 residents (a shared grievance, Gurr 1970)",
    )
    incident_min_active: int = Field(
        10, ge=1, le=100_000, description="Fewest active residents for a collective incident"
    )


class AccountabilityParams(_Section):
    """Stage 6: public evaluation feeds departmental effort with a lag (为民做主 → 让民做主).

    Effort E_p = min(E_max, 1 + κ·e·max(0, s* − Ŝ_p)), Ŝ_p the exponentially weighted
    mean (time constant τ) of residents' verdicts on pool p's closed cases, e the share
    of cases evaluated (``levers.people.public_evaluation``). Effort shortens handling
    (time / E) and raises resolution (1 − (1 − r)/E) (Ferejohn 1986; Hood 2007).
    """

    lag_days: float = Field(
        30.0, gt=0.0, le=365.0, description="τ, lag of the evaluation signal (days)"
    )
    satisfaction_target: Prob = Field(
        0.6, description="s*, evaluated satisfaction below which a pool is held to account"
    )
    effort_gain: float = Field(
        2.0, ge=0.0, le=10.0, description="κ, effort added per unit shortfall at full evaluation"
    )
    effort_max: float = Field(1.5, ge=1.0, le=3.0, description="E_max, ceiling on effort (×)")
    accountable_kinds: list[PoolKind] = Field(
        default_factory=lambda: ["department", "petition"],
        description="Pool kinds held to account by public evaluation",
    )


class ReallocationParams(_Section):
    """Stage 7: monthly reallocation of case slots (资源整合; Fox 1966; Savas 1978)."""

    period_days: int = Field(30, ge=1, le=365, description="Days between reallocations")
    min_slots: int = Field(1, ge=0, le=100, description="Floor of slots per pool")
    pool_kinds: list[PoolKind] = Field(
        default_factory=lambda: ["department", "mediation"],
        description="Pool kinds reallocated, each kind a group with a fixed budget of slots",
    )
    social_org_lag_days: float = Field(
        365.0, gt=0.0, le=3650.0, description="τ_org, growth of social-org capacity toward funding"
    )
    social_org_initial_share: Prob = Field(
        0.5, description="Social-org capacity at day 0 as a share of the funded target"
    )


class WarningParams(_Section):
    """Stage 6: the per-grid risk indicator and patrol redeployment (预测预警)."""

    weight_disputes: float = Field(
        0.4, ge=0.0, le=10.0, description="w_D, open disputes per resident"
    )
    weight_grievance: float = Field(0.3, ge=0.0, le=10.0, description="w_G, mean grievance")
    weight_activation: float = Field(0.3, ge=0.0, le=10.0, description="w_A, share active")
    flag_share: float = Field(
        0.05, gt=0.0, le=1.0, description="Share of grids flagged each day (the riskiest)"
    )
    redeploy_share: Prob = Field(
        0.2, description="Share of patrol hours sent to flagged grids when warning is on"
    )
    horizon_days: int = Field(
        14, ge=1, le=90, description="Days ahead a flag is judged against collective incidents"
    )
    response_per_1000: float = Field(
        30.0,
        ge=0.0,
        le=1000.0,
        description="早期控制: presence (officer-equivalents per 1,000 residents) of the work "
        "team sent to a flagged grid the next day; costs presence / worker_weight staff",
    )
    response_effect: Prob = Field(
        0.5,
        description="早期控制 (包案化解): reduction of the escalation hazards of the known "
        "disputes of a grid flagged the day before, while the work team is there",
    )


class IndexParams(_Section):
    """Stage 8: definitions of the three outcome indices (0–100)."""

    window_days: int = Field(90, ge=1, le=3650, description="Rolling window for the indices (days)")
    satisfaction_halflife_days: float = Field(
        10.0, gt=0.0, le=365.0, description="A need met after t days counts 0.5^(t/h) (获得感)"
    )
    collective_weight: float = Field(
        5.0, ge=0.0, le=1000.0, description="安全感 loss per collective incident per 100k residents"
    )
    open_risk_weight: float = Field(
        2.0, ge=0.0, le=1000.0, description="安全感 loss per open safety risk per 1,000 residents"
    )
    happiness_weights: tuple[
        Annotated[float, Field(ge=0.0, le=10.0)],
        Annotated[float, Field(ge=0.0, le=10.0)],
        Annotated[float, Field(ge=0.0, le=10.0)],
        Annotated[float, Field(ge=0.0, le=10.0)],
    ] = Field(
        (0.35, 0.25, 0.2, 0.2),
        description="幸福感 = 100·g^w1·s^w2·T^w3·(1−H)^w4 (gain, security, trust, 1−hardship)",
    )


class SystemLevers(_Section):
    """1 完善市域社会治理体系 — governance system."""

    coordination_group: bool = Field(
        True,
        description="矛盾纠纷多元化解工作协调小组: disputes referred between mediation tiers "
        "without a transfer delay",
    )
    role_clarity: Prob = Field(
        0.5, description="厘清角色定位: raises the chance a siloed first choice is right"
    )
    mass_org_push: Prob = Field(
        0.3, description="群团助推: mass organisations find and serve vulnerable residents' needs"
    )
    social_org_budget_yuan_per_resident: float = Field(
        1.5,
        ge=0.0,
        le=1000.0,
        description="社会组织培育扶持: yuan per resident-year funding social organisations",
    )


class CommunityLevers(_Section):
    """2 社会治理共同体 — governance community."""

    multi_actor_participation: Prob = Field(
        0.3, description="多方参与机制: social organisations surface issues and mediate"
    )
    urban_rural_integration: Prob = Field(
        0.0, description="城乡一体化: equalises public-service capacity between urban and rural"
    )
    video_coverage_vulnerable: Prob = Field(
        0.3, description="雪亮工程 coverage of vulnerable residents (孤寡老人、留守儿童、救助对象)"
    )


class PeopleLevers(_Section):
    """3 以人民为中心 — people-centred governance."""

    publicity_education: Prob = Field(
        0.3, description="宣传教育: raises residents' participation propensity over time"
    )
    public_evaluation: Prob = Field(
        0.2, description="群众评价与问责: share of cases evaluated by residents, feeding effort"
    )


class CapabilityLevers(_Section):
    """4 提升市域社会治理能力 — capability."""

    residents_per_grid: int = Field(
        1000, ge=100, le=10_000, description="精网微格: residents per grid (national ≈1,000)"
    )
    workers_per_grid: int = Field(1, ge=1, le=20, description="Grid workers per grid (网格员)")
    patrol_hours_per_day: float = Field(
        2.0, ge=0.0, le=10.0, description="铁脚板: patrol hours per worker-day (load-dependent)"
    )
    early_warning: bool = Field(False, description="风险预测预警: patrol riskiest grids first")
    online_mediation: bool = Field(
        False, description="苏解纷 online dispute diversion and mediation platform"
    )
    digital_inclusion: Prob = Field(
        0.0, description="Closes this share of the gap to full digital access"
    )
    resource_allocation: Literal["siloed", "pooled", "equity"] = Field(
        "siloed",
        description="Monthly reallocation: fixed shares, demand-driven, urban–rural equity",
    )
    rule_of_law: Prob = Field(
        0.5, description="法治: fair procedure lowers petition and collective escalation"
    )


class DataLevers(_Section):
    """5 数据赋能 — data."""

    centre_integration: Prob = Field(
        0.5,
        description="Share of channels (综治, 12345, 数字城管) dispatched by the command centre",
    )
    unified_data_standards: bool = Field(
        False, description="统一数据标准: more accurate and faster dispatch"
    )
    data_sharing: Prob = Field(
        0.4, description="政务云 data sharing: detection, routing accuracy, finding the vulnerable"
    )


class DataGovernanceLevers(_Section):
    """6 数据治理 — governance of data use."""

    access_logging: bool = Field(False, description="终身留痕: life-long logging of data access")
    permission_control: bool = Field(False, description="Explicit permissions for data use")
    misuse_deterrence: Prob = Field(0.3, description="Sanctions deterring misuse (0–1)")


class Levers(_Section):
    """The six groups of policy levers, one per section of the source article."""

    system: SystemLevers = SystemLevers()
    community: CommunityLevers = CommunityLevers()
    people: PeopleLevers = PeopleLevers()
    capability: CapabilityLevers = CapabilityLevers()
    data: DataLevers = DataLevers()
    data_governance: DataGovernanceLevers = DataGovernanceLevers()


class Scenario(_Section):
    """A city and its governance configuration: the whole input of one run."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9_\-]+$", description="Short identifier used in run folder names"
    )
    title_zh: str = Field("", description="Chinese title shown in reports and the teaching page")
    title_en: str = Field("", description="English title")
    description: str = Field("", description="What this configuration represents, and its source")
    seed: int = Field(20231129, ge=0, le=2**63 - 1, description="Master random seed")
    days: int = Field(365, ge=1, le=36_500, description="Days simulated and reported")
    warmup_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="Days simulated before day 0 and not reported (spin-up: queues fill, "
        "trust and activation settle)",
    )
    scale: float = Field(
        0.01, gt=0.0, le=1.0, description="Fraction of the real population simulated (1:100 = 0.01)"
    )
    city: CityParams = CityParams()
    generation: GenerationParams = GenerationParams()
    surfacing: SurfacingParams = SurfacingParams()
    routing: RoutingParams = RoutingParams()
    handling: HandlingParams = HandlingParams()
    escalation: EscalationParams = EscalationParams()
    participation: ParticipationParams = ParticipationParams()
    trust: TrustParams = TrustParams()
    activation: ActivationParams = ActivationParams()
    accountability: AccountabilityParams = AccountabilityParams()
    reallocation: ReallocationParams = ReallocationParams()
    warning: WarningParams = WarningParams()
    indices: IndexParams = IndexParams()
    levers: Levers = Levers()
