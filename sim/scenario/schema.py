"""The scenario schema: every parameter and lever of the model, typed and bounded.

A scenario file (TOML) is validated against :class:`Scenario` once, at the edge; the
validated, frozen object is then passed to every stage. Every numeric field carries a
range (``ge``/``le``), a description and registry metadata (:func:`param`): its unit, its
source (a citation, or ``"assumption"``), a plausible range for uncertainty analysis and,
where it was tuned, the calibration target of ``sim/calibration.py`` it was fitted to.
``govsim params`` prints the registry (``sim/scenario/registry.py``).

Sections
--------
- ``city`` — territory and population synthesis (calibration.md: Yancheng census 2020).
- ``generation`` — how often residents have enquiries, needs, disputes and safety risks.
- ``surfacing`` — how hidden issues become known (12345, online, grid, video, organisations).
- ``routing`` — siloed department choice vs. command-centre dispatch.
- ``handling`` — handler pools, duty hours, service times, resolution probabilities.
- ``escalation`` — the dispute pyramid (petition, litigation, collective incident).
- ``indices`` — definitions of 获得感 / 幸福感 / 安全感.
- ``costs`` — yearly pay by role, platform build and operation, programmes (issue 12).
- ``levers`` — the six groups of policy levers of the source article (DIGEST.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticUndefined

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

# ----------------------------------------------------------------- parameter registry
# Every numeric field declares registry metadata through ``param``; the walk over the
# model, the table and the checks are in sim/scenario/registry.py.

ASSUMPTION = "assumption"

# units (English; registry.UNITS_ZH translates them)
U_PERSONS = "persons"
U_SHARE = "share 0–1"
U_PROB = "probability"
U_INDEX = "index 0–1"
U_RATE = "issues per resident-year"
U_HAZARD = "per day (hazard)"
U_PATROL = "per day per patrol-hour per worker per 1,000 residents"
U_HOURS = "hours"
U_DAYS = "days"
U_CLOCK = "hour of day"
U_MULT = "multiplier ×"
U_CV = "coefficient of variation"
U_SHAPE = "shape parameter"
U_COUNT = "count"
U_TIES = "ties per resident"
U_SLOTS = "slots per 100k residents"
U_YUAN_RY = "yuan per resident-year"
U_YUAN_SLOT = "yuan per slot-year"
U_YUAN_PY = "yuan per person-year"
U_YUAN = "yuan"
U_YUAN_Y = "yuan per year"
U_YUAN_DEVICE = "yuan per device"
U_YEARS = "years"
U_CASES = "cases per officer"
U_QUEUE = "queued cases per worker"
U_PRESENCE = "officer-equivalents per 1,000 residents"
U_OFFICER = "officer-equivalents per worker"
U_TRUST = "change of trust per issue (0–1 scale)"
U_HARDSHIP = "hardship (0–1) per issue"
U_HARDSHIP_G = "hardship (0–1) per dispute per 100 residents"
U_EXPONENT = "exponent"
U_WEIGHT = "weight"
U_LOGIT = "logit (log-odds) per unit"
U_LOGIT_RATE = "logit per incident per 100k residents"
U_LOGIT_RISK = "logit per open risk per 1,000 residents"
U_KM = "km"
U_GAIN = "effort per unit shortfall"
U_EFFORT = "effort ×"
U_LEVEL = "lever level 0–1"
U_RESIDENTS = "residents per grid"
U_WORKERS = "workers per grid"
U_PATROL_H = "hours per worker-day"
U_SEED = "—"
U_SCALE = "fraction of residents"

# sources used more than once (each figure's row in docs/sources/calibration.md)
S_CENSUS = "7th national census 2020, Yancheng communiqué (calibration.md, Yancheng table)"
S_REQUESTS = (
    "Jiangsu 12345 2024: 43.67 M requests ≈ 0.51 per resident-year (calibration.md, 12345 table)"
)
S_ENQUIRY_SHARE = "Beijing 2019–21: 58.5 % enquiries; Tangshan Nov 2024: 63.7 % (calibration.md)"
S_WORKING_DAYS = (
    "Jiangsu 12345: 1.4 working days for enquiries, 4.6 for other requests (calibration.md)"
)
S_DIRECT = "Nantong 2021: 82.8 % answered directly; Tangshan 2024: 85.9 % (calibration.md)"
S_MEDIATION = (
    "China 2021–25: people's mediation success ≥ 95 % reported (likely inflated); court "
    "pre-filing mediation 2024 ≈ 70 % (calibration.md, mediation table)"
)
S_NBS_SAFE = (
    "NBS 2002 全国群众安全感抽样调查 (101,988 respondents): '在目前的社会治安环境下，您感觉安全吗' "
    "很安全 6.9 %, 安全 35.6 % (top two of five: 42.5 %), 基本安全 41.6 % (People's Daily "
    "2003-03-03, p. 2); 2004: 安全 34.5 % (calibration.md)"
)
S_CSS_HAPPY = (
    "CSS2019 (CASS Chinese Social Survey): 83.78 % strongly or moderately agree 'I am generally "
    "happy' (Chinese Social Sciences Today 2020-09-30; calibration.md)"
)
S_SATISF_JS = (
    "12345 return-visit satisfaction: Jiangsu 2024 73 %, Nantong 93.2 %, Taicang 93 %, Suzhou "
    "2023 97.7 % (calibration.md)"
)
S_SURVEYS = "published survey shares (calibration.md, 'Survey items of the indices')"
S_PREFILING_POOL = (
    "2023 court pre-filing mediation: 1,204万 settled of 1,747万 (68.9 %; 法院信息化蓝皮书 2024); "
    "2022 online 总对总 mediation 78.9 % (SPC press 15 Feb 2023)"
)
S_EPSTEIN = "Epstein (2002) Modeling civil violence, PNAS 99(S3) 7243–7250, Model I"
N_BASELINE = "baseline setting: Yancheng today as read from 葛雪梅 (2023), partial integration"
N_FIAT = "set by fiat: a halving; no published effect size"
N_DISPATCH = "dispatch and transfer delays have no published source (docs/model.md §5)"


def rel(lo: float, hi: float) -> dict:
    """A plausible range as factors of the default: [lo·default, hi·default]."""
    return {"rel": [lo, hi]}


def pm(x: float) -> dict:
    """A plausible range default ± x, cut at the field's bounds."""
    return {"pm": x}


def _jsonable(x: Any) -> Any:
    if isinstance(x, (tuple, list)):
        return [_jsonable(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    return x


def _item(v: Any) -> dict:
    """An item override: a range pair or rule, or a dict of registry keys."""
    if isinstance(v, tuple) or (isinstance(v, dict) and set(v) <= {"rel", "pm"}):
        return {"plausible": v}
    return v


def per(**items: Any) -> dict:
    """Overrides per sub-key (category, pool kind, index), e.g. ``per(enquiry=(0.3, 0.6))``."""
    return {k: _item(v) for k, v in items.items()}


def param(
    default: Any = PydanticUndefined,
    *,
    unit: str,
    source: str,
    zh: str,
    en: str | None = None,
    plausible: tuple[float, float] | dict | None = None,
    calibrated_to: str | tuple[str, ...] | None = None,
    note: str | None = None,
    items: dict | None = None,
    labels: tuple[tuple[str, str], ...] | None = None,
    **field: Any,
) -> Any:
    """A pydantic ``Field`` with parameter-registry metadata in ``json_schema_extra``.

    Parameters
    ----------
    unit : str
        Unit of the value, e.g. ``"per day (hazard)"`` or ``"share 0–1"``.
    source : str
        A citation with its table or page (calibration.md row, paper and section), or
        ``"assumption"`` for a modelling choice.
    zh : str
        Short Chinese label.
    en : str
        Short English label of a container, used in its numbers' descriptions instead of
        the field's description.
    plausible : (lo, hi) or rule
        The range one could defend, for uncertainty analysis (narrower than the validation
        bounds ``ge``/``le``): a pair, ``rel(a, b)`` (factors of the default) or ``pm(x)``.
        For a container (categories, pools, lists) the rule applies to each number in it.
    calibrated_to : str or tuple of str
        Keys of ``sim.calibration.TARGETS`` the value was tuned to.
    note : str
        What anchors an assumption, or a caveat on the source.
    items : dict
        Overrides per sub-key of a container (see :func:`per`).
    labels : tuple of (zh, en)
        Labels of the positions of a tuple or list.
    """
    reg: dict[str, Any] = {"zh": zh, "unit": unit, "source": source}
    if en:
        reg["en"] = en
    if plausible is not None:
        reg["plausible"] = plausible
    if calibrated_to:
        reg["calibrated_to"] = [calibrated_to] if isinstance(calibrated_to, str) else calibrated_to
    if note:
        reg["note"] = note
    if items:
        reg["items"] = items
    if labels:
        reg["labels"] = labels
    return Field(default, json_schema_extra={"registry": _jsonable(reg)}, **field)


def _zh(label: str) -> dict:
    """Registry metadata of a sub-field whose unit and source come from its container."""
    return {"registry": {"zh": label}}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class County(_Section):
    """One county-level division (区/县/县级市)."""

    name_zh: str = Field(description="Chinese name as in the boundary file, e.g. 亭湖区")
    name_en: str = Field(description="English name, e.g. Tinghu")
    population: int = param(
        ge=1000,
        le=20_000_000,
        description="Resident population at 1:1",
        zh="常住人口",
        unit=U_PERSONS,
        source=ASSUMPTION,
        plausible=rel(0.85, 1.15),
        note="county populations not found in an authoritative source (calibration.md); "
        "approximations summing to the 2020 census total",
    )
    urban_share: Prob = param(
        description="Share of residents in urban communities (0–1)",
        zh="城镇人口比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=pm(0.08),
        note="county split approximate; the weighted city-wide share ≈ 64 % matches Jiangsu "
        "Statistical Yearbook 2019, table 3-6 (2018)",
    )


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

    total_population: int = param(
        6_709_629,
        ge=1000,
        le=50_000_000,
        description="Residents at 1:1 (7th census, 2020)",
        zh="常住人口总数",
        unit=U_PERSONS,
        source=S_CENSUS,
        plausible=(6_709_629, 6_709_629),
        note="a count, not varied",
    )
    counties: list[County] = param(
        default_factory=_default_counties,
        min_length=1,
        max_length=64,
        description="County-level divisions; populations must sum to total_population",
        zh="县级行政区",
        en="counties",
        unit=U_PERSONS,
        source=ASSUMPTION,
        items={
            "3": {
                "items": {
                    "population": {
                        "source": "Dongtai statistical bulletin 2021: 888,800 residents at "
                        "end 2021 (calibration.md, Yancheng table)",
                        "plausible": (860_000, 900_000),
                        "note": "end-2021 figure used for the 2020 census year",
                    }
                }
            }
        },
    )
    # --- mech-b (issue 12, fine grids): residents live on fixed blocks; grids are drawn
    # over them (sim.city.build.redraw_grids), so the same residents stay whatever the grid size
    block_residents: int = param(
        1000,
        ge=100,
        le=10_000,
        description="Residents per block (小区/自然村): the fixed population unit residents, "
        "households, neighbour ties and collective action belong to; grids are drawn over "
        "blocks",
        zh="居民片区规模（人）",
        unit="residents per block",
        source="calibration.md, grids table: about 1,000 residents per grid nationally — the "
        "unit the city was laid out and activation calibrated on; kept fixed when grids are "
        "redrawn (issue 12: incidents independent of grid geometry)",
        plausible=(500, 2000),
        note="assumption that a natural village or residential compound (小区) is of the "
        "order of the national grid norm",
    )
    rural_grid_size_ratio: float = param(
        1.3,
        ge=0.5,
        le=4.0,
        description="Residents per rural grid relative to residents_per_grid: village "
        "grids cover more people and ground, so fewer grid workers per rural resident",
        zh="农村网格规模倍数",
        unit=U_MULT,
        source=ASSUMPTION,
        plausible=(1.0, 2.0),
        note="assumption (issue 12: the urban–rural gap comes from staffing density); no "
        "Yancheng grid counts by urban/rural were found",
    )
    grids_per_community: int = param(
        3,
        ge=1,
        le=50,
        description="Grids per village/community (≈6,700 grids / 2,450 units)",
        zh="每村居网格数",
        unit=U_COUNT,
        source="calibration.md derived rates: ≈6,700 grids (6.71 M ÷ ~1,000 residents) ÷ ≈2,450 "
        "villages and communities (older yearbook count, uncertain)",
        plausible=(2, 5),
    )
    communities_per_town: int = param(
        17,
        ge=1,
        le=200,
        description="Villages/communities per town/street (≈2,450 / 144)",
        zh="每乡镇街道村居数",
        unit=U_COUNT,
        source="calibration.md: ≈2,450 villages and communities ÷ ≈144 township-level "
        "divisions (both uncertain)",
        plausible=(14, 20),
    )
    mean_household_size: float = param(
        2.6,
        ge=1.0,
        le=8.0,
        description="Mean residents per household (persons)",
        zh="平均家庭户规模",
        unit=U_PERSONS,
        source=ASSUMPTION,
        plausible=(2.4, 2.9),
        note="approx.; Yancheng's census figure not found; Jiangsu county communiqués of "
        "2020 give ≈2.5 (e.g. Yizheng 2.53)",
    )
    child_share: Prob = param(
        0.14,
        description="Share of residents under 18 (approx.)",
        zh="未成年人比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.11, 0.18),
        note="approx.; Dongtai's registered population 2021: under 18 11 % (calibration.md)",
    )
    elderly_share: Prob = param(
        0.28,
        description="Share aged 60+ (approx.; Dongtai registered 32 % in 2021)",
        zh="60岁及以上人口比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.24, 0.34),
        note="approx.; Dongtai's registered population 2021: 32 % aged 60+ (calibration.md); "
        "Yancheng's census share not found",
    )
    elderly_alone_rate: Prob = param(
        0.12,
        description="Share of elderly who live alone (孤寡老人) (approx.)",
        zh="孤寡老人比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.08, 0.2),
    )
    left_behind_rate: Prob = param(
        0.15,
        description="Share of rural children left behind (留守儿童) (approx.)",
        zh="留守儿童比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.08, 0.25),
    )
    assistance_rate: Prob = param(
        0.03,
        description="Share of residents receiving social assistance (救助对象) (approx.)",
        zh="救助对象比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.015, 0.05),
    )
    digital_access_urban: Prob = param(
        0.85,
        description="Urban residents able to use online channels",
        zh="城镇居民数字接入率",
        unit=U_SHARE,
        source="CNNIC 53rd Statistical Report on Internet Development in China (2024): "
        "penetration 77.5 % national, 66.5 % rural at Dec 2023 → urban ≈ 83 % (derived)",
        plausible=(0.78, 0.92),
        note="internet use, not the ability to use online government channels",
    )
    digital_access_rural: Prob = param(
        0.55,
        description="Rural residents able to use online channels",
        zh="农村居民数字接入率",
        unit=U_SHARE,
        source="CNNIC 49th Statistical Report on Internet Development in China (2022): rural "
        "penetration 57.6 % at Dec 2021 (66.5 % at Dec 2023, 53rd report)",
        plausible=(0.45, 0.7),
        note="internet use, not the ability to use online government channels",
    )
    hardship_urban: Prob = param(
        0.25,
        description="Mean hardship H of urban residents (0–1)",
        zh="城镇居民平均困难度",
        unit=U_INDEX,
        source=ASSUMPTION,
        plausible=pm(0.1),
    )
    hardship_rural: Prob = param(
        0.35,
        description="Mean hardship H of rural residents (0–1)",
        zh="农村居民平均困难度",
        unit=U_INDEX,
        source=ASSUMPTION,
        plausible=pm(0.1),
    )
    org_membership_rate: Prob = param(
        0.15,
        description="Share of residents in a social or mass organisation",
        zh="组织成员比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.05, 0.3),
    )
    trust_mean: Prob = param(
        0.62,
        description="Initial mean trust in government (legitimacy L)",
        zh="初始平均信任度",
        unit=U_INDEX,
        source=ASSUMPTION,
        plausible=(0.45, 0.8),
        note="not calibrated: survey data would be needed (docs/model.md §5)",
    )
    participation_mean: Prob = param(
        0.5,
        description="Initial mean participation propensity (probability to report a need)",
        zh="初始平均参与倾向",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.35, 0.65),
        note="hand-tuned from 0.35 with the request rates (commit 3af15af); held fixed since "
        "the calibration split — the request rates are the free parameters now",
    )
    neighbours_in_grid: int = param(
        6,
        ge=0,
        le=50,
        description="Random social ties per resident inside the own block (the fixed "
        "residential unit, city.block_residents; the name is kept)",
        zh="网格内社会关系数",
        unit=U_TIES,
        source=ASSUMPTION,
        plausible=(3, 12),
    )
    long_ties: int = param(
        1,
        ge=0,
        le=20,
        description="Random social ties per resident anywhere in the city",
        zh="跨网格社会关系数",
        unit=U_TIES,
        source=ASSUMPTION,
        plausible=(0, 3),
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

    enquiry: float = Field(
        ge=0.0, le=1000.0, description="咨询 enquiries", json_schema_extra=_zh("咨询")
    )
    need: float = Field(
        ge=0.0,
        le=1000.0,
        description="民生诉求 needs and service requests",
        json_schema_extra=_zh("民生诉求"),
    )
    dispute: float = Field(
        ge=0.0, le=1000.0, description="矛盾纠纷 disputes", json_schema_extra=_zh("矛盾纠纷")
    )
    risk: float = Field(
        ge=0.0, le=1000.0, description="安全隐患 safety risks", json_schema_extra=_zh("安全隐患")
    )

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.enquiry, self.need, self.dispute, self.risk)


class CategoryProbs(_Section):
    """A probability per issue category."""

    enquiry: Prob = Field(description="咨询 enquiries", json_schema_extra=_zh("咨询"))
    need: Prob = Field(
        description="民生诉求 needs and service requests", json_schema_extra=_zh("民生诉求")
    )
    dispute: Prob = Field(description="矛盾纠纷 disputes", json_schema_extra=_zh("矛盾纠纷"))
    risk: Prob = Field(description="安全隐患 safety risks", json_schema_extra=_zh("安全隐患"))

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.enquiry, self.need, self.dispute, self.risk)


class GenerationParams(_Section):
    """Stage 1: issues arise as independent Poisson events per resident-day."""

    rate_per_resident_year: CategoryRates = param(
        default=CategoryRates(enquiry=0.45, need=0.32, dispute=0.045, risk=0.05),
        description="Base issues per resident-year by category, before multipliers "
        "(calibrated so ≈0.5 requests per resident-year surface; calibration.md)",
        zh="基础发生率",
        unit=U_RATE,
        source=ASSUMPTION,
        items=per(
            enquiry={
                "source": S_REQUESTS + "; " + S_ENQUIRY_SHARE,
                "calibrated_to": ["requests_per_resident_year", "enquiry_share"],
                "plausible": (0.35, 0.6),
                "note": "fitted by `python -m sim.calibration --fit` (ABC); value in "
                "scenarios/yancheng.toml",
            },
            need={
                "source": S_REQUESTS + "; " + S_ENQUIRY_SHARE,
                "calibrated_to": ["requests_per_resident_year", "enquiry_share"],
                "plausible": (0.22, 0.45),
                "note": "fitted by `python -m sim.calibration --fit` (ABC); value in "
                "scenarios/yancheng.toml",
            },
            dispute={
                "plausible": (0.02, 0.09),
                "note": "anchored: ≈1.06 mediated disputes per 100 resident-years (China "
                "2022, 14.94 M ÷ 1.41 G; calibration.md) plus unmediated ones",
            },
            risk=(0.025, 0.1),
        ),
    )
    hardship_multiplier: float = param(
        1.5,
        ge=0.0,
        le=20.0,
        description="Rate × (1 + m·(H − mean H)) for needs and disputes",
        zh="困难度乘数",
        unit=U_MULT,
        source=ASSUMPTION,
        plausible=(0.5, 3.0),
    )
    vulnerable_multiplier: float = param(
        2.0,
        ge=1.0,
        le=20.0,
        description="Rate multiplier for needs of vulnerable residents",
        zh="困难群体诉求乘数",
        unit=U_MULT,
        source=ASSUMPTION,
        plausible=(1.3, 3.0),
    )
    rural_risk_multiplier: float = param(
        1.2,
        ge=0.0,
        le=20.0,
        description="Rate multiplier for safety risks in rural grids",
        zh="农村安全隐患乘数",
        unit=U_MULT,
        source=ASSUMPTION,
        plausible=(1.0, 1.5),
    )
    dispute_hotspot_cv: float = param(
        1.5,
        ge=0.0,
        le=5.0,
        description="Coefficient of variation of the blocks' dispute-rate multiplier κ "
        "(Gamma, mean 1; 0 = disputes spread evenly): disputes concentrate in hot spots "
        "(Weisburd 2015, the law of concentration)",
        zh="矛盾纠纷热点离散系数",
        unit=U_CV,
        source=ASSUMPTION,
        plausible=(0.8, 2.5),
        note="chosen so the 5 % hottest grids hold ≈30 % of disputes: the shape of "
        "Weisburd (2015), not a fitted Chinese figure",
    )
    severity_a: float = param(
        2.0,
        gt=0.0,
        le=50.0,
        description="Kumaraswamy(a, b) severity shape a (Beta-like)",
        zh="严重度形状参数a",
        unit=U_SHAPE,
        source=ASSUMPTION,
        plausible=(1.5, 3.0),
    )
    severity_b: float = param(
        5.0,
        gt=0.0,
        le=50.0,
        description="Kumaraswamy(a, b) severity shape b (Beta-like)",
        zh="严重度形状参数b",
        unit=U_SHAPE,
        source=ASSUMPTION,
        plausible=(3.0, 8.0),
    )


class SurfacingParams(_Section):
    """Stage 2: competing hazards per hidden issue-day; the first channel to fire surfaces it."""

    report_hazard: CategoryRates = param(
        default=CategoryRates(enquiry=1.3, need=0.16, dispute=0.08, risk=0.033),
        description="Daily hazard of a resident reporting, × participation propensity × "
        "(0.5 + trust) (per day)",
        zh="居民自报风险率",
        unit=U_HAZARD,
        source=S_REQUESTS + "; Miller & Sarat (1980) pyramid: ≈700 claims per 1,000 "
        "grievances (shape check)",
        plausible=rel(0.6, 1.6),
        note="hand-tuned from (2.0, 0.25, 0.12, 0.05) in commit 3af15af against requests and "
        "the dispute pyramid, held fixed since the calibration/validation split (issue 13.2): "
        "the dispute_claim_share validation row is marked contaminated",
    )
    online_share_digital: Prob = param(
        0.20,
        description="Of self-reports by residents with digital access, share made online",
        zh="数字用户网上反映比例",
        unit=U_SHARE,
        source="Jiangsu 12345 2024: 14 % of requests online, 85 % by phone (calibration.md); "
        "0.20 of reports by residents with access ≈ 14 % of all (derived)",
        plausible=(0.14, 0.3),
    )
    to_grid_worker_share: Prob = param(
        0.25,
        description="Of non-enquiry self-reports, share told to the grid worker",
        zh="向网格员反映比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.1, 0.4),
    )
    patrol_detection: CategoryRates = param(
        default=CategoryRates(enquiry=0.0, need=0.02, dispute=0.025, risk=0.04),
        description="Daily detection hazard per patrol-hour per worker per 1,000 residents",
        zh="巡查发现率",
        unit=U_PATROL,
        source=ASSUMPTION,
        plausible=rel(0.5, 2.0),
        note="enquiry 0: patrols do not find enquiries (structural)",
    )
    video_detection: CategoryRates = param(
        default=CategoryRates(enquiry=0.0, need=0.10, dispute=0.05, risk=0.25),
        description="Daily detection hazard by big data/video (雪亮) at full coverage and sharing",
        zh="大数据/视频发现率",
        unit=U_HAZARD,
        source=ASSUMPTION,
        plausible=rel(0.5, 2.0),
        note="enquiry 0: cameras do not find enquiries (structural)",
    )
    social_org_detection: float = param(
        0.05,
        ge=0.0,
        le=10.0,
        description="Daily hazard for needs/disputes via social orgs at full strength",
        zh="社会组织发现率",
        unit=U_HAZARD,
        source=ASSUMPTION,
        plausible=(0.02, 0.1),
    )
    mass_org_detection: float = param(
        0.08,
        ge=0.0,
        le=10.0,
        description="Daily hazard for vulnerable residents' needs at full push",
        zh="群团组织发现率",
        unit=U_HAZARD,
        source=ASSUMPTION,
        plausible=(0.03, 0.15),
    )
    hidden_patience_days: CategoryRates = param(
        default=CategoryRates(enquiry=3.0, need=60.0, dispute=90.0, risk=120.0),
        description="Mean days before a hidden issue is abandoned (need unmet, risk realised)",
        zh="隐性问题放弃前平均天数",
        unit=U_DAYS,
        source=ASSUMPTION,
        items=per(
            enquiry=(1.0, 7.0), need=(30.0, 120.0), dispute=(45.0, 180.0), risk=(60.0, 240.0)
        ),
    )
    video_coverage_general: Prob = param(
        0.3,
        description="雪亮 video coverage of public space (safety risks of anyone)",
        zh="雪亮工程公共区域覆盖率",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.15, 0.5),
    )
    social_org_budget_half: float = param(
        1.5,
        gt=0.0,
        le=1000.0,
        description="Budget (yuan/resident-year) at which social orgs reach half strength",
        zh="社会组织半强度预算",
        unit=U_YUAN_RY,
        source=ASSUMPTION,
        plausible=(0.75, 3.0),
    )
    patrol_load_stop: float = param(
        8.0,
        gt=0.0,
        le=1000.0,
        description="Queued cases per grid worker at which patrols stop (load-dependent)",
        zh="巡查停止积压量",
        unit=U_QUEUE,
        source=ASSUMPTION,
        plausible=(4.0, 15.0),
    )
    report_hours: tuple[
        Annotated[float, Field(ge=0.0, le=24.0)], Annotated[float, Field(ge=0.0, le=24.0)]
    ] = param(
        (8.0, 22.0),
        description="Hours of the day in which reports are made (uniform)",
        zh="反映时段",
        unit=U_CLOCK,
        source=ASSUMPTION,
        labels=(("开始", "start"), ("结束", "end")),
        items={"0": {"plausible": (7.0, 9.0)}, "1": {"plausible": (20.0, 23.0)}},
    )

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

    siloed_correct_base: Prob = param(
        0.55,
        description="Chance a siloed first choice of department is right (role clarity 0)",
        zh="分散受理首次分派准确率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.4, 0.7),
    )
    siloed_correct_role_gain: Prob = param(
        0.35,
        description="Added to the above at role clarity 1",
        zh="角色清晰带来的准确率增益",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.2, 0.45),
    )
    centre_accuracy_base: Prob = param(
        0.80,
        description="Dispatch accuracy of the centre",
        zh="指挥中心派单准确率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.7, 0.9),
    )
    centre_accuracy_standards: Prob = param(
        0.12,
        description="Added by unified data standards",
        zh="统一数据标准的准确率增益",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.05, 0.15),
    )
    centre_accuracy_sharing: Prob = param(
        0.05,
        description="Added at full data sharing",
        zh="数据共享的准确率增益",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.0, 0.1),
    )
    siloed_delay_hours: float = param(
        24.0,
        ge=0.0,
        le=720.0,
        description="Hours for a siloed hand-over to a department",
        zh="分散移交时长",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(8.0, 72.0),
        note=N_DISPATCH,
    )
    dispatch_delay_hours: float = param(
        6.0,
        ge=0.0,
        le=720.0,
        description="Hours for a centre dispatch without unified standards",
        zh="指挥中心派单时长",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(2.0, 24.0),
        note=N_DISPATCH,
    )
    dispatch_delay_standards_hours: float = param(
        1.0,
        ge=0.0,
        le=720.0,
        description="Hours for a centre dispatch with unified standards",
        zh="统一标准下派单时长",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(0.5, 4.0),
        note=N_DISPATCH,
    )
    transfer_delay_hours: float = param(
        24.0,
        ge=0.0,
        le=720.0,
        description="Hours a transfer between departments takes (转办)",
        zh="转办时长",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(8.0, 72.0),
        note=N_DISPATCH,
    )
    grid_on_spot_share: Prob = param(
        0.6,
        description="Share of needs/risks found by a grid worker that the grid handles itself",
        zh="网格就地处置比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.4, 0.8),
    )
    misuse_risk_per_use: Prob = param(
        0.0005,
        description="Chance that one use of shared personal data is misused, ungoverned",
        zh="单次数据使用滥用概率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.0001, 0.002),
    )
    misuse_logging_effect: Prob = param(
        0.6,
        description="Reduction of misuse risk by life-long access logging (终身留痕)",
        zh="终身留痕降低滥用比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.4, 0.8),
    )
    misuse_permission_effect: Prob = param(
        0.5,
        description="Reduction of misuse risk by explicit permission control",
        zh="权限控制降低滥用比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.3, 0.7),
        note=N_FIAT,
    )
    misuse_deterrence_effect: Prob = param(
        0.7,
        description="Reduction of misuse risk at full deterrence",
        zh="惩戒威慑降低滥用比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.5, 0.9),
    )
    misuse_trust_shock: Prob = param(
        0.02,
        description="δ, share of trust lost in a grid per data-misuse incident there",
        zh="数据滥用信任损失",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.005, 0.05),
        note="direction from Slovic (1993), trust lost faster than built; size assumed",
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

    duty_start: float = param(
        ge=0.0,
        le=24.0,
        description="On-duty start (hour of day)",
        zh="上班时间",
        unit=U_CLOCK,
        source=ASSUMPTION,
        note="usual office hours; the 12345 hotline around the clock",
    )
    duty_end: float = param(
        ge=0.0,
        le=24.0,
        description="On-duty end (hour of day)",
        zh="下班时间",
        unit=U_CLOCK,
        source=ASSUMPTION,
        note="usual office hours; the 12345 hotline around the clock",
    )
    weekends: bool = Field(description="On duty on Saturdays and Sundays")
    service_hours: CategoryRates = param(
        description="Mean elapsed handling time per case (hours), exponential",
        zh="平均处理时长",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=rel(0.5, 2.0),
    )
    resolve_prob: CategoryProbs = param(
        description="Chance a handled case is resolved",
        zh="解决概率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=pm(0.1),
    )

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


_OFFICE_HOURS = {"duty_start": {"plausible": (8.0, 9.0)}, "duty_end": {"plausible": (17.0, 18.0)}}
_NOT_HANDLED = {
    "plausible": (0.0, 0.0),
    "note": "structural: the hotline passes non-enquiries on",
}
# Per pool kind: overrides of the PoolParams metadata (ranges of duty hours, calibrated
# service times and resolution probabilities).
POOL_REGISTRY = {
    "hotline": {
        "items": {
            "duty_start": {"plausible": (0.0, 0.0)},
            "duty_end": {"plausible": (24.0, 24.0)},
            "resolve_prob": {
                "items": {
                    "enquiry": {
                        "source": S_DIRECT,
                        "plausible": (0.8, 0.9),
                        "note": "set from the published direct-closure rates, not fitted; they "
                        "count all requests, so they are a validation row "
                        "(hotline_direct_share_all), not a read-back",
                    },
                    "need": _NOT_HANDLED,
                    "dispute": _NOT_HANDLED,
                    "risk": _NOT_HANDLED,
                }
            },
        }
    },
    "department": {
        "items": {
            **_OFFICE_HOURS,
            "service_hours": {
                "source": S_WORKING_DAYS,
                "note": "enquiry and need fitted by `python -m sim.calibration --fit` (ABC); the "
                "fitted values are in scenarios/yancheng.toml",
                "items": {
                    "enquiry": {
                        "calibrated_to": ["enquiry_working_days"],
                        "plausible": (2.0, 12.0),
                    },
                    "need": {"calibrated_to": ["request_working_days"], "plausible": (40.0, 140.0)},
                },
            },
        }
    },
    "grid": {
        "items": {
            "duty_start": {"plausible": (7.5, 8.5)},
            "duty_end": {"plausible": (17.5, 19.0)},
        }
    },
    "mediation": {
        "items": {
            **_OFFICE_HOURS,
            "resolve_prob": {
                "items": {
                    "dispute": {
                        "source": S_MEDIATION,
                        "plausible": (0.7, 0.97),
                        "note": "set between court pre-filing mediation (68.9 %, 2023) and "
                        "the reported ≥ 95 %; not fitted (a check of it would read it back)",
                    }
                }
            },
        }
    },
    "social_org": {"items": _OFFICE_HOURS},
    "online": {
        "items": {
            "duty_start": {"plausible": (7.0, 9.0)},
            "duty_end": {"plausible": (20.0, 23.0)},
            # issue 12 (mech-a): the published pre-filing settlement rate, not 0.85
            "resolve_prob": {
                "items": {
                    "dispute": {"source": S_PREFILING_POOL, "plausible": (0.6, 0.79)},
                }
            },
        }
    },
    "petition": {"items": _OFFICE_HOURS},
    "mass_org": {"items": _OFFICE_HOURS},
}


class HandlingParams(_Section):
    """Stage 4: queues with on-duty hours inside the day (Erlang-C-consistent)."""

    priority: Literal["fifo", "severity", "risk", "equity"] = Field(
        "fifo",
        description="Queue discipline: first come; most severe; highest escalation risk "
        "(severity × waiting); vulnerable residents first",
    )
    hotline_seats_per_100k: float = param(
        5.5,
        ge=0.0,
        le=1000.0,
        description="12345 seats per 100k residents (Jiangsu 2024: 5.5)",
        zh="12345坐席数",
        unit=U_SLOTS,
        source="Jiangsu 12345 2024: 4,708 operators for ≈85 M residents (calibration.md, "
        "12345 table)",
        plausible=(4.5, 6.5),
    )
    department_slots_per_100k: float = param(
        600.0,
        ge=0.0,
        le=100_000.0,
        description="Concurrent department case slots per 100k residents of a county, all "
        "sectors together; split among sectors by their expected share of work orders",
        zh="职能部门办件容量",
        unit=U_SLOTS,
        source=S_WORKING_DAYS,
        plausible=(400.0, 900.0),
        note="hand-tuned from 400 in commit 3af15af; held fixed since the calibration split "
        "(issue 13.2): department service hours are the free parameters now",
    )
    cases_per_staff: float = param(
        8.0,
        gt=0.0,
        le=100.0,
        description="Concurrent cases one department officer carries",
        zh="人均在办件数",
        unit=U_CASES,
        source=ASSUMPTION,
        plausible=(4.0, 15.0),
    )
    mediators_per_100k: float = param(
        25.0,
        ge=0.0,
        le=10_000.0,
        description="People's mediation slots per 100k (per town)",
        zh="人民调解容量",
        unit=U_SLOTS,
        source=ASSUMPTION,
        plausible=(15.0, 40.0),
        note="anchored: 412 k full-time mediators in China 2022 ≈ 29 per 100 k "
        "(calibration.md); slots are concurrent cases, not persons",
    )
    online_slots_per_100k: float = param(
        10.0,
        ge=0.0,
        le=10_000.0,
        description="Online mediation (苏解纷) slots per 100k",
        zh="苏解纷在线调解容量",
        unit=U_SLOTS,
        source=ASSUMPTION,
        plausible=(5.0, 20.0),
    )
    petition_slots_per_100k: float = param(
        4.0,
        ge=0.0,
        le=10_000.0,
        description="Petition office slots per 100k residents (per county)",
        zh="信访办件容量",
        unit=U_SLOTS,
        source=ASSUMPTION,
        plausible=(2.0, 8.0),
    )
    misroute_screen_hours: float = param(
        4.0,
        gt=0.0,
        le=720.0,
        description="Mean hours a department takes to see that an issue is not its own and "
        "send it back (退回) for transfer",
        zh="错派退回时长",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(1.0, 12.0),
    )
    # --- mech-b (issue 12, urban–rural): the gap from service supply and travel time
    rural_service_supply: float = param(
        0.5,
        gt=0.0,
        le=2.0,
        description="Public-service supply (education, health, social assistance staff) per "
        "rural resident relative to urban, before integration; 城乡一体化 moves supply to "
        "the countryside (total kept)",
        zh="农村人均公共服务供给比",
        unit=U_MULT,
        source=ASSUMPTION,
        plausible=(0.4, 0.8),
        note="order of magnitude: China's health statistics report about half as many "
        "health technicians per 1,000 rural as urban residents (yearbook figure not "
        "retrieved here; to be checked)",
    )
    service_supply_elasticity: float = param(
        0.3,
        ge=0.0,
        le=2.0,
        description="ε: a department resolves a need with probability min(1, r·s^ε), s the "
        "public-service supply per head where the resident lives relative to the city mean",
        zh="公共服务供给弹性",
        unit=U_EXPONENT,
        source=ASSUMPTION,
        plausible=(0.1, 0.6),
        note="chosen so that before integration rural needs are resolved ≈15 % less often "
        "than urban (the former fixed rural penalty)",
    )
    rural_travel_hours: float = param(
        0.5,
        ge=0.0,
        le=8.0,
        description="Extra hours a grid worker, department or mediator spends per rural case "
        "travelling (villages are far apart; 城乡一体化 does not shorten roads)",
        zh="农村办件路途时间",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(0.25, 1.5),
    )
    rural_capacity_ratio: float = param(
        0.8,
        gt=0.0,
        le=2.0,
        description="Department and mediation slots per rural resident relative to urban "
        "(public services concentrated in towns; 城乡一体化 moves toward 1)",
        zh="农村人均服务容量比",
        unit=U_MULT,
        source=ASSUMPTION,
        plausible=(0.6, 1.0),
    )
    mass_org_slots_per_100k: float = param(
        6.0,
        ge=0.0,
        le=10_000.0,
        description="Mass-organisation service slots per 100k at full push",
        zh="群团组织服务容量",
        unit=U_SLOTS,
        source=ASSUMPTION,
        plausible=(3.0, 12.0),
    )
    social_org_staff_cost_yuan: float = param(
        20_000.0,
        gt=0.0,
        le=1e7,
        description="Yuan per social-organisation case slot-year",
        zh="社会组织单位容量成本",
        unit=U_YUAN_SLOT,
        source=ASSUMPTION,
        plausible=(12_000.0, 40_000.0),
    )
    social_org_volunteer_slots_per_100k: float = param(
        40.0,
        ge=0.0,
        le=10_000.0,
        description="Volunteer mediation/service slots per 100k at full multi-actor participation",
        zh="志愿者调解服务容量",
        unit=U_SLOTS,
        source=ASSUMPTION,
        plausible=(20.0, 80.0),
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
            "online": _pool(8.0, 22.0, True, (0.5, 12.0, 24.0, 12.0), (0.9, 0.75, 0.69, 0.7)),
            "petition": _pool(8.5, 17.5, False, (2.0, 80.0, 80.0, 80.0), (0.9, 0.7, 0.6, 0.7)),
            "mass_org": _pool(8.5, 17.5, False, (1.0, 24.0, 30.0, 24.0), (0.9, 0.8, 0.75, 0.7)),
        },
        description="Per pool kind: duty hours, service times (hours), resolution probability",
        json_schema_extra={
            "registry": _jsonable({"zh": "处理主体", "en": "pools", "items": POOL_REGISTRY})
        },
    )
    sector_mix: dict[str, list[float]] = param(
        default_factory=lambda: {
            "enquiry": [0.10, 0.15, 0.10, 0.15, 0.10, 0.10, 0.20, 0.05, 0.05, 0.00],
            "need": [0.05, 0.25, 0.15, 0.15, 0.10, 0.15, 0.10, 0.05, 0.00, 0.00],
            "dispute": [0.30, 0.05, 0.10, 0.00, 0.00, 0.10, 0.10, 0.05, 0.30, 0.00],
            "risk": [0.40, 0.00, 0.30, 0.10, 0.00, 0.10, 0.00, 0.10, 0.00, 0.00],
        },
        description="Per category: share of issues belonging to each of the 10 sectors "
        "(public security, civil affairs, urban management, health, education, housing, "
        "human resources, market regulation, justice, petitions); each list sums to 1",
        zh="事项部门构成",
        en="sector mix",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=rel(0.5, 1.5),
        labels=tuple(zip(SECTORS_ZH, SECTORS_EN, strict=True)),
        note="each row sums to 1: vary a row jointly (e.g. Dirichlet), not entry by entry; "
        "0 = structural",
    )
    referral_prob: Prob = param(
        0.7,
        description="Chance an unresolved dispute is referred to the next mediation tier",
        zh="调解逐级移交概率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.5, 0.9),
    )
    need_retry_prob: Prob = param(
        0.5,
        description="Chance an unresolved need/risk at a grid or organisation goes on to a "
        "department",
        zh="未解决诉求转部门概率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.3, 0.7),
    )
    # --- mech-b (issue 12, social organisations): routed only within their capacity
    social_org_max_wait_days: float = param(
        3.0,
        gt=0.0,
        le=60.0,
        description="A social organisation keeps only the queue its slots can start within "
        "this many duty days; the rest spills back to the town's people's mediation "
        "committee",
        zh="社会组织最长排队（工作日）",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(1.0, 10.0),
        note="assumption: a contracted service provider accepts only cases it can take up "
        "within the week",
    )
    # --- mech-b (issue 12, queues): residents give up a long wait (Erlang-A patience)
    hotline_patience_minutes: float = param(
        6.0,
        gt=0.0,
        le=600.0,
        description="Mean patience of a 12345 caller waiting for an operator (exponential, "
        "Erlang-A); a caller who gives up leaves the request unmet",
        zh="热线来电平均耐心（分钟）",
        unit="minutes",
        source="Brown, Gans, Mandelbaum et al. (2005), JASA 100(469), 36–50, "
        "doi:10.1198/016214504000001808: callers' patience in a bank call centre is of the "
        "order of minutes; Mandelbaum & Zeltyn (2005), The Palm/Erlang-A queue",
        plausible=(2.0, 15.0),
        note="assumption: no 12345 abandonment figure found; a bank call centre's order of "
        "magnitude",
    )
    case_patience_days: float = param(
        30.0,
        gt=0.0,
        le=3650.0,
        description="Mean patience of a resident whose case waits in a handler's queue "
        "(exponential, Erlang-A): past it the resident gives up (the case closes abandoned, "
        "a failure in the resident's experience)",
        zh="办件排队平均耐心（天）",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(7.0, 90.0),
        note="anchor: 12345 work orders are due within 5–15 working days (calibration.md); a "
        "resident waiting several times longer without service is assumed to give up",
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

    grace_days: float = param(
        7.0,
        ge=0.0,
        le=365.0,
        description="Days an open dispute waits before escalation starts",
        zh="升级宽限期",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(3.0, 14.0),
    )
    litigation_hazard: float = param(
        0.006,
        ge=0.0,
        le=1.0,
        description="Daily hazard of going to court after the grace period",
        zh="诉讼风险率",
        unit=U_HAZARD,
        source=ASSUMPTION,
        plausible=(0.003, 0.012),
        note="not tuned; the court share it gives is checked against dispute_court_share "
        "(Miller & Sarat 1980 shape, in band)",
    )
    petition_hazard: float = param(
        0.004,
        ge=0.0,
        le=1.0,
        description="Daily hazard of petitioning (信访) after the grace period",
        zh="信访风险率",
        unit=U_HAZARD,
        source=ASSUMPTION,
        plausible=(0.002, 0.008),
    )
    collective_prob: float = param(
        1.0,
        ge=0.0,
        le=1.0,
        description="Chance an escalation of a severe dispute turns collective in a fully "
        "mobilised grid (scaled by the grid's active residents over the critical mass)",
        zh="群体性升级概率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.5, 1.0),
    )
    collective_severity: Prob = param(
        0.6,
        description="Severity above which an escalating dispute can turn collective",
        zh="群体性升级严重度阈值",
        unit=U_INDEX,
        source=ASSUMPTION,
        plausible=(0.5, 0.8),
    )
    mobilisation_exponent: float = param(
        3.0,
        ge=0.0,
        le=10.0,
        description="γ in m_g = min(1, A_g / critical mass)^γ, the grid's mobilisation "
        "(γ > 1: accelerating production function, Oliver, Marwell & Teixeira 1985)",
        zh="动员指数",
        unit=U_EXPONENT,
        source=ASSUMPTION,
        plausible=(1.5, 4.0),
        note="Oliver, Marwell & Teixeira (1985) give the shape (γ > 1), not the value",
    )
    failure_litigation_prob: Prob = param(
        0.35,
        description="Chance a dispute whose mediation finally failed goes to court",
        zh="调解失败后起诉概率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.2, 0.5),
    )


class ParticipationParams(_Section):
    """Stage 6: threshold contagion of participation (Granovetter 1978; Watts 2002).

    A resident whose engaged neighbours (propensity ≥ θ_e) make up at least her threshold
    φ_i ~ U[φ̄ − s, φ̄ + s] is raised to θ_e; otherwise she drifts at rate δ toward her
    baseline b₀ + β_pub·publicity + β_org·member; each own report resolved raises her
    propensity (p += η_s(1 − p)), each failed one lowers it (p ×= 1 − η_f) (Finkel 1985).
    """

    engaged_level: Prob = param(
        0.5,
        description="θ_e, propensity that counts as engaged",
        zh="参与判定水平",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.4, 0.6),
    )
    threshold_mean: Prob = param(
        0.25,
        description="φ̄, mean share of engaged neighbours needed",
        zh="平均参与阈值",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.15, 0.35),
        note="inside the cascade window of Watts (2002) for the network's degree",
    )
    threshold_spread: float = param(
        0.1,
        ge=0.0,
        le=0.5,
        description="s, thresholds uniform on [φ̄ − s, φ̄ + s]",
        zh="参与阈值离散度",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.05, 0.2),
    )
    baseline: Prob = param(
        0.25,
        description="b₀, propensity a neglected resident drifts to (疏离冷漠)",
        zh="基线参与倾向",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.15, 0.35),
    )
    publicity_gain: Prob = param(
        0.5,
        description="β_pub, baseline added at full publicity (宣传教育)",
        zh="宣传教育增益",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.25, 0.75),
    )
    org_gain: Prob = param(
        0.15,
        description="β_org, baseline added for organisation members",
        zh="组织成员增益",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.05, 0.25),
    )
    decay: Prob = param(
        0.01,
        description="δ, daily drift toward the baseline (per day)",
        zh="回落速率",
        unit="per day",
        source=ASSUMPTION,
        plausible=(0.005, 0.03),
    )
    efficacy_gain: Prob = param(
        0.1,
        description="η_s, gain per own report resolved",
        zh="效能感增益",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.05, 0.2),
        note="direction from Finkel (1985); size assumed",
    )
    failure_loss: Prob = param(
        0.15,
        description="η_f, loss per own report failed or neglected",
        zh="失败损失",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.05, 0.25),
    )


class TrustParams(_Section):
    """Stage 6: bounded-confidence trust exchange (Deffuant et al. 2000) plus experience.

    Each day every resident meets one neighbour (counter-based choice) and, if their
    trust differs by less than d, moves μ of the way toward the neighbour's yesterday
    value; then each own experience moves trust by its effect (+: toward 1, −: toward 0;
    Van Ryzin 2004; Kampen, Van de Walle & Bouckaert 2006).
    """

    confidence: Prob = param(
        0.2,
        description="d, no exchange when trust differs by d or more",
        zh="有限信任阈值",
        unit=U_INDEX,
        source=ASSUMPTION,
        plausible=(0.1, 0.3),
        note="Deffuant et al. (2000) study d over (0, 0.5]; value chosen",
    )
    convergence: float = param(
        0.3,
        gt=0.0,
        le=0.5,
        description="μ, step toward the partner",
        zh="趋同步长",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.1, 0.5),
    )
    effect_resolved: float = param(
        0.03,
        ge=-1.0,
        le=1.0,
        description="Effect of a resolved issue",
        zh="问题解决的信任效应",
        unit=U_TRUST,
        source=ASSUMPTION,
        plausible=(0.01, 0.06),
    )
    effect_slow: float = param(
        -0.01,
        ge=-1.0,
        le=1.0,
        description="Effect of a resolution later than slow_days",
        zh="解决迟缓的信任效应",
        unit=U_TRUST,
        source=ASSUMPTION,
        plausible=(-0.03, 0.0),
    )
    effect_transferred: float = param(
        -0.02,
        ge=-1.0,
        le=1.0,
        description="Effect of an issue transferred between departments",
        zh="部门转办的信任效应",
        unit=U_TRUST,
        source=ASSUMPTION,
        plausible=(-0.05, -0.005),
    )
    effect_failed: float = param(
        -0.06,
        ge=-1.0,
        le=1.0,
        description="Effect of an issue failed, abandoned or litigated",
        zh="问题未解决的信任效应",
        unit=U_TRUST,
        source=ASSUMPTION,
        plausible=(-0.12, -0.03),
        note="twice the gain of a resolution: negative experiences weigh more (Kampen, Van "
        "de Walle & Bouckaert 2006); ratio assumed",
    )
    slow_days: float = param(
        7.0,
        gt=0.0,
        le=365.0,
        description="Resolution later than this counts as slow (days)",
        zh="迟缓判定天数",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(3.0, 14.0),
        note="anchor: NYC 311 closed 85.7 % of requests within 7 days (calibration.md)",
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

    arrest_constant: float = param(
        2.3,
        ge=0.0,
        le=10.0,
        description="k (Epstein 2002: 2.3)",
        zh="逮捕概率常数",
        unit="dimensionless",
        source=S_EPSTEIN + ": k = 2.3",
        plausible=(1.5, 3.0),
        note="a value from an abstract model, carried over",
    )
    threshold: Prob = param(
        0.1,
        description="T, activation threshold (Epstein 2002: 0.1)",
        zh="激活阈值",
        unit=U_INDEX,
        source=S_EPSTEIN + ": T = 0.1",
        plausible=(0.05, 0.2),
        note="a value from an abstract model, carried over",
    )
    presence_per_1000: float = param(
        40.0,
        ge=0.0,
        le=1000.0,
        description="Enforcement presence per 1,000 residents besides grid workers (police, "
        "cadres, security staff, 雪亮 cameras; officer-equivalents; Epstein's cop:citizen "
        "ratio in Run 1 is ≈57 per 1,000)",
        zh="管控力量密度",
        unit=U_PRESENCE,
        source=ASSUMPTION,
        plausible=(20.0, 60.0),
        note="anchor: Epstein (2002) Run 1 cop:citizen ratio ≈ 57 per 1,000",
    )
    worker_weight: float = param(
        10.0,
        ge=0.0,
        le=100.0,
        description="A patrolling grid worker's presence in officer-equivalents (knows the "
        "grid's residents: social control, not arrest)",
        zh="网格员力量折算",
        unit=U_OFFICER,
        source=ASSUMPTION,
        plausible=(5.0, 20.0),
    )
    incident_share: Prob = param(
        0.065,
        description="Active share of a block (city.block_residents, fixed whatever the "
        "grids) that makes a collective incident (群体性事件)",
        zh="群体性事件激活比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.03, 0.1),
    )
    unresolved_hardship: Prob = param(
        0.15,
        description="Hardship added per own need or dispute left open longer than "
        "escalation.grace_days (grievance from unresolved issues)",
        zh="未解决问题增加的困难度",
        unit=U_HARDSHIP,
        source=ASSUMPTION,
        plausible=(0.05, 0.25),
    )
    shared_hardship: Prob = param(
        0.05,
        description="Hardship added to every resident of a grid per dispute open longer than "
        "escalation.grace_days per 100 residents (a shared grievance, Gurr 1970)",
        zh="共同不满增加的困难度",
        unit=U_HARDSHIP_G,
        source=ASSUMPTION,
        plausible=(0.02, 0.1),
    )
    incident_min_active: int = param(
        10,
        ge=1,
        le=100_000,
        description="Fewest active residents for a collective incident",
        zh="群体性事件最少人数",
        unit=U_PERSONS,
        source=ASSUMPTION,
        plausible=(5, 20),
    )


class AccountabilityParams(_Section):
    """Stage 6: public evaluation feeds departmental effort with a lag (为民做主 → 让民做主).

    Effort E_p = min(E_max, 1 + κ·e·max(0, s* − Ŝ_p)), Ŝ_p the exponentially weighted
    mean (time constant τ) of residents' verdicts on pool p's closed cases, e the share
    of cases evaluated (``levers.people.public_evaluation``). Effort shortens handling
    (time / E) and raises resolution (1 − (1 − r)/E) (Ferejohn 1986; Hood 2007).
    """

    lag_days: float = param(
        30.0,
        gt=0.0,
        le=365.0,
        description="τ, lag of the evaluation signal (days)",
        zh="评价信号时滞",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(14.0, 90.0),
    )
    satisfaction_target: Prob = param(
        0.6,
        description="s*, evaluated satisfaction below which a pool is held to account",
        zh="满意度问责线",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.5, 0.75),
    )
    effort_gain: float = param(
        2.0,
        ge=0.0,
        le=10.0,
        description="κ, effort added per unit shortfall at full evaluation",
        zh="问责努力增益",
        unit=U_GAIN,
        source=ASSUMPTION,
        plausible=(1.0, 4.0),
    )
    effort_max: float = param(
        1.5,
        ge=1.0,
        le=3.0,
        description="E_max, ceiling on effort (×)",
        zh="努力上限",
        unit=U_EFFORT,
        source=ASSUMPTION,
        plausible=(1.2, 2.0),
    )
    accountable_kinds: list[PoolKind] = Field(
        default_factory=lambda: ["department", "petition"],
        description="Pool kinds held to account by public evaluation",
    )


class ReallocationParams(_Section):
    """Stage 7: monthly reallocation of case slots (资源整合; Fox 1966; Savas 1978)."""

    period_days: int = param(
        30,
        ge=1,
        le=365,
        description="Days between reallocations",
        zh="资源调配周期",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(7, 90),
    )
    min_slots: int = param(
        1,
        ge=0,
        le=100,
        description="Floor of slots per pool; where a group's budget cannot give every "
        "pool that many, the floor is the even share of the budget (rounded down)",
        zh="最少容量",
        unit="slots per pool",
        source=ASSUMPTION,
        plausible=(1, 2),
    )
    pool_kinds: list[PoolKind] = Field(
        default_factory=lambda: ["department", "mediation"],
        description="Pool kinds reallocated, each kind a group with a fixed budget of slots",
    )
    # --- mech-b (issue 12, social organisations): a stated ramp instead of a 365-day lag
    social_org_ramp_days: float = param(
        180.0,
        gt=0.0,
        le=3650.0,
        description="T, days for social organisations to recruit and train the whole "
        "capacity their funding buys (linear ramp; a cut takes effect at once)",
        zh="社会组织能力建设期",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(90.0, 365.0),
        note="government purchase-of-service contracts run a year (政府购买服务, annual "
        "budgets); assumed built within half a contract year, at most one",
    )
    social_org_initial_share: Prob = param(
        0.5,
        description="Social-org capacity at day 0 as a share of the funded target",
        zh="社会组织初始容量比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.3, 0.8),
    )


class WarningParams(_Section):
    """Stage 6: the per-grid risk indicator and patrol redeployment (预测预警)."""

    # --- mech-b (issue 12): the indicator reads only what a city observes
    # (sim.kernels.warning.observed_signals); hidden grievance and activation are gone
    weight_disputes: float = param(
        0.3,
        ge=0.0,
        le=10.0,
        description="w_D, known open disputes per resident (矛盾纠纷排查)",
        zh="风险指标权重·在办纠纷",
        unit=U_WEIGHT,
        source=ASSUMPTION,
        plausible=(0.15, 0.5),
        note="composite-indicator weights near equal when no evidence ranks the signals "
        "(OECD & JRC 2008, Handbook on Constructing Composite Indicators, §6)",
    )
    weight_repeat: float = param(
        0.2,
        ge=0.0,
        le=10.0,
        description="w_R, repeat callers: residents with two or more known open issues",
        zh="风险指标权重·重复来电来访",
        unit=U_WEIGHT,
        source=ASSUMPTION,
        plausible=(0.1, 0.4),
        note="OECD & JRC 2008 near-equal weighting",
    )
    weight_petitions: float = param(
        0.2,
        ge=0.0,
        le=10.0,
        description="w_P, open petitions on file (信访)",
        zh="风险指标权重·信访",
        unit=U_WEIGHT,
        source=ASSUMPTION,
        plausible=(0.1, 0.4),
        note="OECD & JRC 2008 near-equal weighting",
    )
    weight_surge: float = param(
        0.1,
        ge=0.0,
        le=10.0,
        description="w_S, surge of surfaced issues (hotline and grid-report spikes) above "
        "the grid's own 90-day level",
        zh="风险指标权重·诉求激增",
        unit=U_WEIGHT,
        source=ASSUMPTION,
        plausible=(0.05, 0.3),
        note="OECD & JRC 2008 near-equal weighting",
    )
    weight_incidents: float = param(
        0.2,
        ge=0.0,
        le=10.0,
        description="w_I, past collective incidents of the grid (90-day memory)",
        zh="风险指标权重·既往群体性事件",
        unit=U_WEIGHT,
        source=ASSUMPTION,
        plausible=(0.1, 0.4),
        note="OECD & JRC 2008 near-equal weighting",
    )
    flag_share: float = param(
        0.05,
        gt=0.0,
        le=1.0,
        description="Share of grids flagged each day (the riskiest)",
        zh="每日预警网格比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.02, 0.1),
    )
    redeploy_share: Prob = param(
        0.2,
        description="Share of patrol hours sent to flagged grids when warning is on",
        zh="巡查力量调派比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.1, 0.4),
    )
    horizon_days: int = param(
        14,
        ge=1,
        le=90,
        description="Days ahead a flag is judged against collective incidents",
        zh="预警检验期",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(7, 30),
    )
    response_per_1000: float = param(
        30.0,
        ge=0.0,
        le=1000.0,
        description="早期控制: presence (officer-equivalents per 1,000 residents) of the work "
        "team sent to a flagged grid the next day; costs presence / worker_weight staff",
        zh="预警工作组力量",
        unit=U_PRESENCE,
        source=ASSUMPTION,
        plausible=(15.0, 50.0),
    )

    @model_validator(mode="after")
    def _some_weight(self) -> WarningParams:
        w = (
            self.weight_disputes,
            self.weight_repeat,
            self.weight_petitions,
            self.weight_surge,
            self.weight_incidents,
        )
        if sum(w) <= 0.0:
            raise ValueError(
                "weight_disputes, weight_repeat, weight_petitions, weight_surge and "
                "weight_incidents are all 0: the risk indicator needs at least one positive "
                "weight"
            )
        return self


class IndexShares(_Section):
    """A share per index: 获得感 gain, 幸福感 happiness, 安全感 security (evidence branch)."""

    gain: float = Field(
        gt=0.0, lt=1.0, description="获得感 sense of gain", json_schema_extra=_zh("获得感")
    )
    happiness: float = Field(
        gt=0.0, lt=1.0, description="幸福感 well-being", json_schema_extra=_zh("幸福感")
    )
    security: float = Field(
        gt=0.0, lt=1.0, description="安全感 sense of security", json_schema_extra=_zh("安全感")
    )


class IndexParams(_Section):
    """Stage 8: the three outcome indices as survey response shares (docs/model.md,
    "Indices"): each resident answers the published item positively with a logistic
    probability of her own experience, exposure and trust; the index is the mean × 100."""

    window_days: int = param(
        90,
        ge=1,
        le=3650,
        description="Days averaged for the run summary of the indices and the urban–rural gap",
        zh="指数汇总窗口",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(30, 180),
        note="a definition of the outcome, not a property of the city",
    )
    satisfaction_halflife_days: float = param(
        10.0,
        gt=0.0,
        le=365.0,
        description="A need met after t days counts 0.5^(t/h) towards the resident's met needs",
        zh="获得感半衰期",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(5.0, 20.0),
        note="waiting lowers satisfaction (12345 return visits rate timeliness); h is assumed",
    )
    # --- survey response model (evidence branch, issue 13.4) ---------------------------
    recall_days: float = param(
        365.0,
        gt=0.0,
        le=3650.0,
        description="Memory of experience and exposure: weight exp(−age/τ) (τ, days)",
        zh="经历记忆时长",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(90.0, 730.0),
        note="the survey items ask about 'now' / 'the past year'; exponential, so nothing "
        "drops out of a window in one step",
    )
    base_share: IndexShares = param(
        default_factory=lambda: IndexShares(gain=0.73, happiness=0.8378, security=0.425),
        description="Share answering positively for a reference resident (trust at the initial "
        "mean, no experience, no exposure, median hardship): sets each intercept logit(p)",
        zh="参照居民正面回答比例",
        unit=U_SHARE,
        source=S_SURVEYS,
        items=per(
            gain={"source": S_SATISF_JS, "plausible": (0.73, 0.95)},
            happiness={"source": S_CSS_HAPPY, "plausible": (0.75, 0.90)},
            security={"source": S_NBS_SAFE, "plausible": (0.345, 0.60)},
        ),
    )
    trust_logit: float = param(
        2.0,
        ge=0.0,
        le=20.0,
        description="Logit change per unit of trust (0–1) above the initial mean (all three items)",
        zh="信任对回答的影响",
        unit=U_LOGIT,
        source=ASSUMPTION,
        plausible=(1.0, 4.0),
        note="direction as in ordered-logit studies of CGSS happiness (陈婉婷 & 张秀梅 2013: "
        "social trust raises happiness); size assumed: trust 0.4 → 0.8 multiplies the odds ×2.2",
    )
    met_logit: float = param(
        0.8,
        ge=0.0,
        le=10.0,
        description="Logit change per own need or enquiry met (weighted 0.5^(t/h)) in memory "
        "(获得感; half of it in 幸福感)",
        zh="诉求解决对回答的影响",
        unit=U_LOGIT,
        source=ASSUMPTION,
        plausible=(0.3, 1.5),
        note="expectancy–disconfirmation: a met request raises satisfaction (Van Ryzin 2006, "
        "J. Public Adm. Res. Theory 16(4) 599–611); size assumed",
    )
    unmet_logit: float = param(
        1.2,
        ge=0.0,
        le=10.0,
        description="Logit change per own issue closed unmet (failed, abandoned, litigated) in "
        "memory (获得感; half of it in 幸福感)",
        zh="诉求未解决对回答的影响",
        unit=U_LOGIT,
        source=ASSUMPTION,
        plausible=(0.5, 2.5),
        note="negative experiences weigh more than positive ones (Kampen, Van de Walle & "
        "Bouckaert 2006, Public Perf. Manag. Rev. 29(4) 387–404); size assumed",
    )
    grid_incident_logit: float = param(
        0.5,
        ge=0.0,
        le=10.0,
        description="Logit loss of 安全感 per collective incident in memory on the resident's "
        "own block (小区/自然村; the parameter keeps its name)",
        zh="本片区群体性事件对安全感的影响",
        unit=U_LOGIT,
        source=ASSUMPTION,
        plausible=(0.2, 1.5),
        note="witnessed disorder lowers perceived safety (Skogan 1990, Disorder and Decline); "
        "size assumed",
    )
    area_incident_logit: float = param(
        0.005,
        ge=0.0,
        le=1.0,
        description="Logit loss of 安全感 per collective incident per 100k residents of a county "
        "in memory, × exp(−distance/L) to the resident's county",
        zh="区县群体性事件率对安全感的影响",
        unit=U_LOGIT_RATE,
        source=ASSUMPTION,
        plausible=(0.002, 0.02),
        note="news of incidents nearby; bounded so that one incident in a county at 1:100 moves "
        "the city's 安全感 by well under one point (tests/test_indices.py)",
    )
    distance_decay_km: float = param(
        30.0,
        gt=0.0,
        le=1000.0,
        description="Distance over which the weight of another county's incidents falls by 1/e "
        "(L, km between county centroids)",
        zh="距离衰减尺度",
        unit=U_KM,
        source=ASSUMPTION,
        plausible=(15.0, 60.0),
        note="Yancheng's county centroids are 30–120 km apart",
    )
    open_risk_logit: float = param(
        0.05,
        ge=0.0,
        le=10.0,
        description="Logit loss of 安全感 per open safety risk per 1,000 residents of the own grid",
        zh="本网格未消除隐患对安全感的影响",
        unit=U_LOGIT_RISK,
        source=ASSUMPTION,
        plausible=(0.02, 0.2),
        note="hazards residents can see (e.g. unrepaired facilities); size assumed",
    )
    hardship_logit: float = param(
        3.0,
        ge=0.0,
        le=20.0,
        description="Logit loss of 幸福感 per unit of felt hardship (0–1) above the city median",
        zh="困难程度对幸福感的影响",
        unit=U_LOGIT,
        source=ASSUMPTION,
        plausible=(1.5, 5.0),
        note="income and health are the strongest CGSS correlates of happiness (陈婉婷 & "
        "张秀梅 2013); felt hardship (activation) includes long-unresolved own issues",
    )
    security_in_happiness: float = param(
        0.5,
        ge=0.0,
        le=5.0,
        description="Share of the resident's 安全感 logit shift that carries into 幸福感",
        zh="安全感对幸福感的传导",
        unit=U_WEIGHT,
        source=ASSUMPTION,
        plausible=(0.2, 1.0),
    )


# sources of the cost section (docs/model.md, "Costs"); wages are gross pay per person-year
S_WAGE_NBS = (
    "NBS: average wage of urban non-private units 2023, 120,698 yuan (national; press report "
    "of the NBS release, May 2024); Jiangsu 2024 above 120,000 (China Statistical Yearbook "
    "2025, as reported)"
)
N_WAGE = (
    "Jiangsu's and Yancheng's own averages were not found; Jiangsu's 2024 non-private average "
    "is above 120,000 yuan, Yancheng's is likely below Jiangsu's"
)
N_GRID_PAY = (
    "anchor: full-time grid workers (专职网格员) 3,300–4,300 yuan a month all in, Xinfu "
    "district, Shanxi (secondary web page, 2025) ≈ 40–52 k yuan a year; Jiangsu pays more; "
    "no Jiangsu or Yancheng figure found"
)
N_PLATFORM = "no procurement figure found; order of magnitude of county-level IT projects"


class CostParams(_Section):
    """Yearly costs (yuan) of the staff and platforms a configuration uses (issue 12).

    Staff cost = persons by role × yearly pay × ``overhead``; platforms = build cost ÷ life
    + yearly operation, for the whole real city (× ``scale`` in a scaled run); programmes
    in yuan per resident-year at lever level 1. See ``sim/kernels/costs.py``.
    """

    overhead: float = param(
        1.35,
        ge=1.0,
        le=3.0,
        description="Employer cost per yuan of gross pay: social insurance and housing fund "
        "paid by the employer, office and equipment",
        zh="用人综合成本系数",
        unit=U_MULT,
        source=ASSUMPTION,
        plausible=(1.2, 1.5),
        note="employer social insurance and housing fund in Jiangsu ≈ 30–40 % of pay "
        "(rates not looked up here)",
    )
    working_days_per_year: float = param(
        250.0,
        ge=200.0,
        le=366.0,
        description="Working days of one person a year (turns the early-warning teams' "
        "staff-days into persons)",
        zh="年工作日数",
        unit=U_DAYS,
        source="365 − 104 weekend days − 11 statutory holidays (全国年节及纪念日放假办法, "
        "2013 revision; 13 from 2025)",
        plausible=(248.0, 251.0),
    )
    grid_worker_pay: float = param(
        60_000.0,
        ge=0.0,
        le=1e7,
        description="网格员: gross pay of a full-time grid worker",
        zh="网格员年薪",
        unit=U_YUAN_PY,
        source=ASSUMPTION,
        plausible=(40_000.0, 90_000.0),
        note=N_GRID_PAY,
    )
    officer_pay: float = param(
        120_698.0,
        ge=0.0,
        le=1e7,
        description="Department case officer (职能部门办件人员), petition officer (信访), "
        "mass-organisation staff (群团) and early-warning team member: civil servants and "
        "public-institution staff at the average wage of urban non-private units",
        zh="职能部门人员年薪",
        unit=U_YUAN_PY,
        source=S_WAGE_NBS,
        plausible=(100_000.0, 150_000.0),
        note=N_WAGE,
    )
    operator_pay: float = param(
        70_000.0,
        ge=0.0,
        le=1e7,
        description="12345 hotline / command-centre operator (坐席), mostly contracted "
        "service staff",
        zh="热线坐席年薪",
        unit=U_YUAN_PY,
        source=ASSUMPTION,
        plausible=(50_000.0, 100_000.0),
        note="between the grid worker's and the officer's pay; no figure found",
    )
    mediator_pay: float = param(
        60_000.0,
        ge=0.0,
        le=1e7,
        description="人民调解员: full-time people's mediator (town committees and the online "
        "platform), usually paid through government purchase of services",
        zh="专职人民调解员年薪",
        unit=U_YUAN_PY,
        source=ASSUMPTION,
        plausible=(40_000.0, 100_000.0),
        note="set at the grid worker's pay; no figure found",
    )
    volunteer_subsidy: float = param(
        2_000.0,
        ge=0.0,
        le=1e6,
        description="Subsidy and coordination per volunteer mediation/service slot-year "
        "(多方参与; social organisations' paid staff are the support budget itself)",
        zh="志愿者补贴",
        unit=U_YUAN_SLOT,
        source=ASSUMPTION,
        plausible=(500.0, 5_000.0),
    )
    platform_life_years: float = param(
        6.0,
        ge=1.0,
        le=30.0,
        description="Years over which a platform's build cost is annualised (straight line, "
        "no interest)",
        zh="平台折旧年限",
        unit=U_YEARS,
        source=ASSUMPTION,
        plausible=(4.0, 10.0),
        note="typical depreciation life of government IT equipment and software",
    )
    command_centre_build: float = param(
        60e6,
        ge=0.0,
        le=1e11,
        description="联合指挥中心: building the city/county/town command centres and the "
        "integration of 综治, 12345 and 数字城管, at full integration (× centre_integration)",
        zh="指挥中心建设投入",
        unit=U_YUAN,
        source=ASSUMPTION,
        plausible=(20e6, 150e6),
        note=N_PLATFORM + "; three levels of centres (calibration.md, Yancheng table)",
    )
    command_centre_operation: float = param(
        15e6,
        ge=0.0,
        le=1e10,
        description="Yearly operation of the command centres at full integration (software "
        "maintenance, network, duty staff beyond the hotline seats)",
        zh="指挥中心年运维",
        unit=U_YUAN_Y,
        source=ASSUMPTION,
        plausible=(5e6, 40e6),
        note=N_PLATFORM,
    )
    data_standards_build: float = param(
        10e6,
        ge=0.0,
        le=1e10,
        description="统一数据标准: one-off standardisation of the departments' data",
        zh="数据标准统一投入",
        unit=U_YUAN,
        source=ASSUMPTION,
        plausible=(3e6, 30e6),
        note=N_PLATFORM,
    )
    data_sharing_build: float = param(
        40e6,
        ge=0.0,
        le=1e11,
        description="政务云 data sharing and integration at full sharing (× data_sharing)",
        zh="数据共享建设投入",
        unit=U_YUAN,
        source=ASSUMPTION,
        plausible=(10e6, 100e6),
        note=N_PLATFORM,
    )
    data_sharing_operation: float = param(
        10e6,
        ge=0.0,
        le=1e10,
        description="Yearly operation of data sharing at full sharing (× data_sharing)",
        zh="数据共享年运维",
        unit=U_YUAN_Y,
        source=ASSUMPTION,
        plausible=(3e6, 25e6),
        note=N_PLATFORM,
    )
    online_mediation_build: float = param(
        5e6,
        ge=0.0,
        le=1e10,
        description="苏解纷: the city's share of the provincial online mediation platform "
        "(connection, local modules, courts' and mediators' terminals)",
        zh="在线调解平台建设投入",
        unit=U_YUAN,
        source=ASSUMPTION,
        plausible=(1e6, 15e6),
        note=N_PLATFORM + "; the platform itself is provincial",
    )
    online_mediation_operation: float = param(
        2e6,
        ge=0.0,
        le=1e10,
        description="Yearly operation of the online mediation platform (its mediators are "
        "counted as staff)",
        zh="在线调解平台年运维",
        unit=U_YUAN_Y,
        source=ASSUMPTION,
        plausible=(0.5e6, 5e6),
        note=N_PLATFORM,
    )
    warning_system_build: float = param(
        8e6,
        ge=0.0,
        le=1e10,
        description="风险预测预警: the indicator system and its data feeds (its work teams "
        "are counted as staff-days)",
        zh="预警系统建设投入",
        unit=U_YUAN,
        source=ASSUMPTION,
        plausible=(2e6, 20e6),
        note=N_PLATFORM,
    )
    warning_system_operation: float = param(
        2e6,
        ge=0.0,
        le=1e10,
        description="Yearly operation of the early-warning system",
        zh="预警系统年运维",
        unit=U_YUAN_Y,
        source=ASSUMPTION,
        plausible=(0.5e6, 5e6),
        note=N_PLATFORM,
    )
    access_logging_operation: float = param(
        2e6,
        ge=0.0,
        le=1e10,
        description="终身留痕: yearly cost of logging and auditing every data access",
        zh="数据访问留痕年成本",
        unit=U_YUAN_Y,
        source=ASSUMPTION,
        plausible=(0.5e6, 5e6),
        note=N_PLATFORM,
    )
    permission_control_operation: float = param(
        1e6,
        ge=0.0,
        le=1e10,
        description="Yearly cost of explicit permissions for data use (approval workflow)",
        zh="数据权限管理年成本",
        unit=U_YUAN_Y,
        source=ASSUMPTION,
        plausible=(0.3e6, 3e6),
        note=N_PLATFORM,
    )
    video_device_cost: float = param(
        515.0,
        ge=0.0,
        le=1e6,
        description="雪亮: one camera or alarm device covering a vulnerable resident's home",
        zh="雪亮终端单价",
        unit=U_YUAN_DEVICE,
        source="Yuxi (Yunnan) 2022 plan: 23.19 M yuan 雪亮 subsidy towards 45,000 cameras "
        "≈ 515 yuan each (云南网, 2022-03-18, as reported by news.21csp.com.cn)",
        plausible=(300.0, 2_000.0),
        note="a subsidy for household cameras of a telecom partnership, not the full "
        "cost; Dunhuang's public 雪亮 project "
        "(22.73 M yuan for 799 HD points with three levels of platform, 2021) costs far "
        "more per point",
    )
    video_device_life_years: float = param(
        5.0,
        ge=1.0,
        le=20.0,
        description="Years a 雪亮 device lasts",
        zh="雪亮终端使用年限",
        unit=U_YEARS,
        source=ASSUMPTION,
        plausible=(3.0, 8.0),
    )
    video_operation_per_covered: float = param(
        120.0,
        ge=0.0,
        le=1e5,
        description="Yearly network and monitoring cost per covered vulnerable resident",
        zh="雪亮单户年运维",
        unit=U_YUAN_RY,
        source=ASSUMPTION,
        plausible=(50.0, 300.0),
    )
    publicity_per_resident: float = param(
        2.0,
        ge=0.0,
        le=1e4,
        description="宣传教育 at level 1: yuan per resident-year (× publicity_education)",
        zh="宣传教育经费",
        unit=U_YUAN_RY,
        source=ASSUMPTION,
        plausible=(0.5, 5.0),
    )
    evaluation_per_resident: float = param(
        1.0,
        ge=0.0,
        le=1e4,
        description="群众评价: return visits and surveys at level 1 (every case evaluated), "
        "yuan per resident-year (× public_evaluation)",
        zh="群众评价回访经费",
        unit=U_YUAN_RY,
        source=ASSUMPTION,
        plausible=(0.3, 3.0),
    )
    digital_inclusion_per_resident: float = param(
        20.0,
        ge=0.0,
        le=1e4,
        description="数字包容 at level 1 (the whole gap closed): training and devices, "
        "yuan per resident-year (× digital_inclusion)",
        zh="数字包容经费",
        unit=U_YUAN_RY,
        source=ASSUMPTION,
        plausible=(5.0, 50.0),
    )
    rule_of_law_per_resident: float = param(
        3.0,
        ge=0.0,
        le=1e4,
        description="法治 at level 1: public legal services and legal aid, yuan per "
        "resident-year (× rule_of_law)",
        zh="法治建设经费",
        unit=U_YUAN_RY,
        source=ASSUMPTION,
        plausible=(1.0, 8.0),
    )


class SystemLevers(_Section):
    """1 完善市域社会治理体系 — governance system."""

    coordination_group: bool = Field(
        True,
        description="矛盾纠纷多元化解工作协调小组: disputes referred between mediation tiers "
        "without a transfer delay (with role_clarity, the model's 党委领导/市级统筹)",
    )
    role_clarity: Prob = param(
        0.5,
        description="厘清角色定位: raises the chance a siloed first choice is right",
        zh="厘清角色定位",
        unit=U_LEVEL,
        source=ASSUMPTION,
        plausible=(0.3, 0.7),
        note=N_BASELINE,
    )
    mass_org_push: Prob = param(
        0.3,
        description="群团助推: mass organisations find and serve vulnerable residents' needs",
        zh="群团助推",
        unit=U_LEVEL,
        source=ASSUMPTION,
        plausible=(0.1, 0.5),
        note=N_BASELINE,
    )
    social_org_budget_yuan_per_resident: float = param(
        1.5,
        ge=0.0,
        le=1000.0,
        description="社会组织培育扶持: yuan per resident-year funding social organisations",
        zh="社会组织培育扶持资金",
        unit=U_YUAN_RY,
        source=ASSUMPTION,
        plausible=(0.5, 3.0),
        note=N_BASELINE + "; the article: social organisations short of resources",
    )
    # --- issue 16 (planners allocate by county): social-organisation funding by county
    county_social_org_budget_yuan_per_resident: dict[
        str, Annotated[float, Field(ge=0.0, le=1000.0)]
    ] = Field(
        default_factory=dict,
        description="社会组织培育扶持 by county: yuan per resident-year in the named counties "
        "(English names, e.g. {Binhai = 3.0}) in place of social_org_budget_yuan_per_resident "
        "there; it sets the county's social-organisation strength (detection) and funded "
        "slots, and is paid per resident of the county",
    )
    # --- actors (issue 12): resident self-governance (由民自主, sim.kernels.selfgov)
    self_governance: Prob = param(
        0.4,
        description="由民自主/协商议事: share of villages and communities whose committee has "
        "an active consultation council settling local, minor issues",
        zh="村（居）协商议事覆盖率",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.2, 0.7),
        note=N_BASELINE + "; councils exist widely on paper (Jiangsu 有事好商量), active "
        "ones assumed fewer",
    )


class CommunityLevers(_Section):
    """2 社会治理共同体 — governance community."""

    multi_actor_participation: Prob = param(
        0.3,
        description="多方参与机制: social organisations surface issues and mediate",
        zh="多方参与机制",
        unit=U_LEVEL,
        source=ASSUMPTION,
        plausible=(0.1, 0.5),
        note=N_BASELINE,
    )
    urban_rural_integration: Prob = param(
        0.0,
        description="城乡一体化: equalises public-service capacity between urban and rural",
        zh="城乡一体化",
        unit=U_LEVEL,
        source=ASSUMPTION,
        plausible=(0.0, 0.3),
        note=N_BASELINE,
    )
    video_coverage_vulnerable: Prob = param(
        0.3,
        description="雪亮工程 coverage of vulnerable residents (孤寡老人、留守儿童、救助对象)",
        zh="雪亮工程困难群体覆盖率",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.15, 0.5),
        note=N_BASELINE,
    )


class PeopleLevers(_Section):
    """3 以人民为中心 — people-centred governance."""

    publicity_education: Prob = param(
        0.3,
        description="宣传教育: raises residents' participation propensity over time",
        zh="宣传教育",
        unit=U_LEVEL,
        source=ASSUMPTION,
        plausible=(0.1, 0.5),
        note=N_BASELINE,
    )
    public_evaluation: Prob = param(
        0.2,
        description="群众评价与问责: share of cases evaluated by residents, feeding effort",
        zh="群众评价与问责",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.05, 0.4),
        note=N_BASELINE,
    )


class CapabilityLevers(_Section):
    """4 提升市域社会治理能力 — capability."""

    residents_per_grid: int = param(
        1000,
        ge=100,
        le=10_000,
        description="精网微格: residents per grid (national ≈1,000)",
        zh="网格规模（精网微格）",
        unit=U_RESIDENTS,
        source="calibration.md, grids table: nationally over 1 million grids, usually about "
        "1,000 residents per grid",
        plausible=(500, 1500),
    )
    workers_per_grid: int = param(
        1,
        ge=1,
        le=20,
        description="Grid workers per grid (网格员)",
        zh="每网格网格员数",
        unit=U_WORKERS,
        source=ASSUMPTION,
        plausible=(1, 2),
        note="anchor: Taicang, one full-time grid worker per grid (calibration.md); Yancheng's "
        "staffing not published",
    )
    # --- mech-b (issue 12, fine grids at equal staff): one worker's beat may span grids
    grids_per_worker: int = param(
        1,
        ge=1,
        le=10,
        description="Grids one team of grid workers covers (its beat): fine grids with the "
        "same workers (精网微格, equal staff) set residents_per_grid smaller and this larger",
        zh="每组网格员负责网格数",
        unit="grids per beat",
        source=ASSUMPTION,
        plausible=(1, 4),
        note="1 = one team per grid (the national norm); a beat is consecutive grids of one "
        "county; the beat's workers share its queue and split their patrol hours over its grids",
    )
    # --- issue 16 (planners allocate by county): grid workers added in named counties
    county_extra_grid_workers: dict[str, Annotated[int, Field(ge=0, le=100_000)]] = Field(
        default_factory=dict,
        description="Grid workers (网格员) added in a county, by its English name (e.g. "
        "{Dafeng = 100}): persons at 1:1, scaled to the run and rounded so the city's total "
        "is kept; they join the county's beats evenly, adding queue capacity, patrol hours "
        "and presence there, and are paid like every grid worker",
    )
    patrol_hours_per_day: float = param(
        2.0,
        ge=0.0,
        le=10.0,
        description="铁脚板: patrol hours per worker-day (load-dependent)",
        zh="铁脚板巡查时长",
        unit=U_PATROL_H,
        source=ASSUMPTION,
        plausible=(1.0, 4.0),
        note=N_BASELINE,
    )
    early_warning: bool = Field(False, description="风险预测预警: patrol riskiest grids first")
    warning_team_staff_per_100k: float = param(
        10.0,
        ge=0.0,
        le=200.0,
        description="早期控制: full-time members of the early-warning work teams per 100k "
        "residents, paid whether or not they are sent (only with early_warning on); each "
        "day the teams on duty go to the riskiest flagged grids until they are used up",
        zh="预警工作组编制",
        unit="staff per 100k residents",
        source=ASSUMPTION,
        plausible=(3.0, 30.0),
        note="no public figure for Yancheng's 工作专班; 30 per 100k would send a full team "
        "to every flagged grid at the default flag share (about 20 on duty per 100k a day)",
    )
    # --- actors (issue 12): key-person management (重点人员管理, sim.kernels.keyperson)
    key_person_visits: float = param(
        1.0,
        ge=0.0,
        le=30.0,
        description="重点人员走访: grid-worker visits per listed resident per month (out of "
        "patrol hours)",
        zh="重点人员走访频次",
        unit="visits per listed resident per month",
        source=ASSUMPTION,
        plausible=(0.5, 4.0),
        note=N_BASELINE + "; local practice is commonly at least one visit a month",
    )
    online_mediation: bool = Field(
        False, description="苏解纷 online dispute diversion and mediation platform"
    )
    digital_inclusion: Prob = param(
        0.0,
        description="Closes this share of the gap to full digital access",
        zh="数字包容",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.0, 0.2),
        note=N_BASELINE,
    )
    resource_allocation: Literal["siloed", "pooled", "equity"] = Field(
        "siloed",
        description="Monthly reallocation: fixed shares, demand-driven, urban–rural equity",
    )
    rule_of_law: Prob = param(
        0.5,
        description="法治: lawful, explained handling (trust, legitimacy) and legal channels "
        "(legal aid, court-annexed mediation); see the legitimacy section",
        zh="法治水平",
        unit=U_LEVEL,
        source=ASSUMPTION,
        plausible=(0.3, 0.7),
        note=N_BASELINE,
    )


class DataLevers(_Section):
    """5 数据赋能 — data."""

    centre_integration: Prob = param(
        0.5,
        description="Share of channels (综治, 12345, 数字城管) dispatched by the command centre",
        zh="指挥中心整合度",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.3, 0.7),
        note=N_BASELINE + " (“54321” model partly in place, local news 2022, calibration.md)",
    )
    unified_data_standards: bool = Field(
        False, description="统一数据标准: more accurate and faster dispatch"
    )
    data_sharing: Prob = param(
        0.4,
        description="政务云 data sharing: detection, routing accuracy, finding the vulnerable",
        zh="数据共享水平",
        unit=U_LEVEL,
        source=ASSUMPTION,
        plausible=(0.2, 0.6),
        note=N_BASELINE,
    )


class DataGovernanceLevers(_Section):
    """6 数据治理 — governance of data use."""

    access_logging: bool = Field(False, description="终身留痕: life-long logging of data access")
    permission_control: bool = Field(False, description="Explicit permissions for data use")
    misuse_deterrence: Prob = param(
        0.3,
        description="Sanctions deterring misuse (0–1)",
        zh="滥用惩戒威慑",
        unit=U_LEVEL,
        source=ASSUMPTION,
        plausible=(0.1, 0.5),
        note=N_BASELINE,
    )


class Levers(_Section):
    """The six groups of policy levers, one per section of the source article."""

    system: SystemLevers = SystemLevers()
    community: CommunityLevers = CommunityLevers()
    people: PeopleLevers = PeopleLevers()
    capability: CapabilityLevers = CapabilityLevers()
    data: DataLevers = DataLevers()
    data_governance: DataGovernanceLevers = DataGovernanceLevers()


# ---------------------------------------------------------------------------------------
# Issue 12, deliverable 1 (branch mech-a): rule of law through legitimacy and legal
# channels, online mediation through voluntary uptake and capacity, command-centre dispatch
# of every category within a bounded capacity at three levels, and experience that moves
# trust and participation.
S_TYLER = (
    "Tyler (2006) Why People Obey the Law, 2nd ed., Princeton UP, ch. 8–9; Tyler (2006) "
    "Psychological perspectives on legitimacy and legitimation, Annu. Rev. Psychol. 57, "
    "375–400, doi:10.1146/annurev.psych.57.102904.190038"
)
S_PREFILING = (
    "法院信息化蓝皮书 (2024) via 北京青年报 16 May 2024: 2023 诉前调解纠纷 1,747万件, 调解成功 "
    "1,204万件 (68.9 %); SPC press 14 Jan 2024: 诉前调解成功 1,204万件 = 40.3 % of civil and "
    "administrative disputes brought to court"
)
S_CNNIC_49 = (
    "CNNIC 49th Statistical Report on Internet Development in China (Feb 2022): at Dec 2021 "
    "penetration 73.0 %, rural 57.6 %, aged 60+ 43.2 %; of senior netizens 46.2 % can find "
    "information online on their own"
)
S_TARP = (
    "TARP / White House Office of Consumer Affairs (1979, 1986) Consumer complaint handling in "
    "America: a satisfied complainant tells about 5 people, a dissatisfied one about 10 "
    "(order of magnitude, widely repeated; not Chinese data)"
)


N_DISPATCHERS = (
    "anchor: Jiangsu 12345 has 5.5 operators per 100k residents (calibration.md); the three "
    "levels together (4 per 100k at full integration) are of that order, the split assumed"
)


class LegitimacyParams(_Section):
    """法治 (rule of law) as the article means it (§6 "提高决策的合法性"): lawful, predictable,
    explained handling raises residents' trust (procedural justice, Tyler 2006), trust keeps
    disputes on legal tracks instead of petitions, and legal aid and court-annexed mediation
    take claims that would be petitions (诉访分离)."""

    fair_share_base: Prob = param(
        0.4,
        description="Share of closed reports handled by a lawful, explained procedure at "
        "rule of law 0",
        zh="依法规范办理比例（基础）",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.2, 0.6),
    )
    fair_share_gain: Prob = param(
        0.5,
        description="Added to the share above at rule of law 1",
        zh="法治带来的规范办理增益",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.3, 0.6),
    )
    effect_fair: float = param(
        0.02,
        ge=0.0,
        le=1.0,
        description="Trust effect of a report handled by fair procedure, whatever its outcome",
        zh="程序公正的信任效应",
        unit=U_TRUST,
        source=S_TYLER,
        plausible=(0.01, 0.04),
        note="Tyler: procedural justice shapes legitimacy independently of the outcome and "
        "more than it; the size is assumed, of the order of effect_resolved",
    )
    effect_unfair: float = param(
        -0.03,
        ge=-1.0,
        le=0.0,
        description="Trust effect of a report handled without fair procedure",
        zh="程序不公的信任效应",
        unit=U_TRUST,
        source=S_TYLER,
        plausible=(-0.06, -0.01),
        note="negative experiences weigh more (Kampen, Van de Walle & Bouckaert 2006); size "
        "assumed",
    )
    petition_distrust_elasticity: float = param(
        1.0,
        ge=0.0,
        le=3.0,
        description="κ in h_pet·((1 − x_i)/(1 − x̄₀))^κ: petitions come from residents who "
        "distrust the formal channels (x_i trust, x̄₀ the city's initial mean trust)",
        zh="信访对不信任的弹性",
        unit=U_EXPONENT,
        source=ASSUMPTION,
        plausible=(0.5, 1.5),
        note="direction: Li (2004) Political trust in rural China, Modern China 30(2) 228–258, "
        "doi:10.1177/0097700403261824; Tyler (2006) legitimacy → deference to legal "
        "authorities; κ assumed",
    )
    legal_channel_share: Prob = param(
        0.3,
        description="Share of would-be petitions that legal aid and court-annexed mediation "
        "take into the legal channel (诉访分离) at rule of law 1",
        zh="法律援助分流信访比例",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.1, 0.5),
        note="依法分类处理信访诉求 (2014 中办国办意见) routes claims with a legal remedy to "
        "courts; no published share",
    )


class OnlineMediationParams(_Section):
    """苏解纷 pre-filing diversion (诉源治理): a court-bound dispute goes to the online
    platform only if its parties take it up, which needs digital access and depends on the
    dispute; the platform takes no more than its backlog allows; unsettled cases go to
    court."""

    uptake_digital: Prob = param(
        0.585,
        description="Chance that parties with digital access accept online pre-filing "
        "mediation of a court-bound dispute",
        zh="有数字接入者接受在线诉前调解比例",
        unit=U_PROB,
        source="derived: " + S_PREFILING + " → 1,747万 ÷ (1,204万 ÷ 0.403) ≈ 0.585 of "
        "disputes brought to court entered pre-filing mediation",
        plausible=(0.45, 0.7),
        note="national share for all pre-filing mediation (online and offline) applied to "
        "residents who can use the platform",
    )
    elderly_ability: Prob = param(
        0.462,
        description="Of elderly residents with internet access, the share able to use an "
        "online service on their own",
        zh="老年网民独立使用能力",
        unit=U_SHARE,
        source=S_CNNIC_49,
        plausible=(0.4, 0.7),
    )
    severe_uptake_factor: Prob = param(
        0.5,
        description="Uptake of a severe dispute (severity above escalation."
        "collective_severity) relative to others",
        zh="重大纠纷在线调解意愿系数",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.3, 0.8),
        note="complex and high-stakes disputes are less often settled by remote mediation; "
        "size assumed",
    )
    max_backlog_days: float = param(
        10.0,
        ge=0.0,
        le=365.0,
        description="The platform accepts a diversion only while its queue is below this "
        "many days of its capacity (queued cases ÷ slots × service days)",
        zh="平台最大积压天数",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(5.0, 30.0),
        note="anchor: pre-filing mediation has a 30-day limit (SPC 2016 特邀调解规定 / "
        "诉前调解 practice); a platform this far behind refers cases back to filing",
    )


class CommandCentreParams(_Section):
    """联合指挥中心 at three levels (市、县（区）、镇（街道）三级): every category, disputes
    included, is dispatched within the dispatchers' capacity; the town centre first, its
    overflow to the county centre, then the city centre; what none can take waits a day."""

    town_dispatchers_per_100k: float = param(
        2.5,
        ge=0.0,
        le=50.0,
        description="Dispatchers of the town (镇街) centres per 100k residents at full integration",
        zh="镇级指挥中心派单员",
        unit="persons per 100k residents",
        source=ASSUMPTION,
        plausible=(1.5, 4.0),
        note=N_DISPATCHERS,
    )
    county_dispatchers_per_100k: float = param(
        1.0,
        ge=0.0,
        le=50.0,
        description="Dispatchers of the county (县区) centres per 100k residents at full "
        "integration",
        zh="县级指挥中心派单员",
        unit="persons per 100k residents",
        source=ASSUMPTION,
        plausible=(0.5, 2.0),
        note=N_DISPATCHERS,
    )
    city_dispatchers_per_100k: float = param(
        0.5,
        ge=0.0,
        le=50.0,
        description="Dispatchers of the city (市) centre per 100k residents at full integration",
        zh="市级指挥中心派单员",
        unit="persons per 100k residents",
        source=ASSUMPTION,
        plausible=(0.25, 1.0),
        note=N_DISPATCHERS,
    )
    orders_per_dispatcher_day: float = param(
        25.0,
        gt=0.0,
        le=500.0,
        description="Work orders one dispatcher dispatches per day (24/7 rota averaged)",
        zh="每人每日派单量",
        unit="work orders per person-day",
        source="derived: Jiangsu 12345 2024, 43.67 M requests ÷ 4,708 operators ÷ 365 ≈ 25 "
        "(calibration.md)",
        plausible=(15.0, 60.0),
        note="operators' throughput used for dispatchers",
    )
    town_level_severity: Prob = param(
        0.5,
        description="A dispute the centre dispatches goes straight to the town mediation "
        "committee (矛调中心) when its severity is at least this, else to the grid worker",
        zh="指派镇级调解的严重度",
        unit=U_INDEX,
        source=ASSUMPTION,
        plausible=(0.3, 0.7),
    )


class ExperienceParams(_Section):
    """What residents hear of others' reports (word of mouth) and how trust carries over
    to participation: experience that moves trust and participation (issue 12, 4)."""

    reach_resolved: float = param(
        5.0,
        ge=0.0,
        le=50.0,
        description="Residents of the same grid who hear of a resolved report",
        zh="解决口碑传播人数",
        unit=U_PERSONS,
        source=S_TARP,
        plausible=(2.0, 8.0),
    )
    reach_failed: float = param(
        10.0,
        ge=0.0,
        le=50.0,
        description="Residents of the same grid who hear of a failed report",
        zh="失败口碑传播人数",
        unit=U_PERSONS,
        source=S_TARP,
        plausible=(5.0, 15.0),
    )
    vicarious_weight: Prob = param(
        0.5,
        description="Effect of a report heard of, relative to one's own",
        zh="间接经历权重",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.2, 0.8),
        note="vicarious experience shapes trust in the police and public services less "
        "than one's own (Rosenbaum et al. 2005, Police Quarterly 8(3) 343–365, "
        "doi:10.1177/1098611104271085); ratio assumed",
    )
    participation_trust_gain: Prob = param(
        0.5,
        description="β_trust: baseline propensity added per unit of trust above the city's "
        "initial mean (taken away below it)",
        zh="信任对参与基线的影响",
        unit=U_SHARE,
        source=ASSUMPTION,
        plausible=(0.2, 0.8),
        note="direction: Hooghe & Marien (2013) European Societies 15(1) 131–152, "
        "doi:10.1080/14616696.2012.692807 — trust goes with institutional participation; "
        "size assumed",
    )


# ---------------------------------------------------------------------------------------
# Issue 12, the article's actors (branch actors): resident self-governance (由民自主,
# 村（居）民委员会 + 协商议事) and key-person management (重点人员管理). The Party
# committee's leadership and city-level coordination (党委领导、市级统筹) are the existing
# levers.system.coordination_group and role_clarity (sim.kernels.selfgov docstring).
S_RC_LAW = (
    "城市居民委员会组织法 (rev. 2018) art. 7: a residents' committee has 5–9 members; "
    "村民委员会组织法 (rev. 2018) art. 6: a villagers' committee 3–7"
)
S_WARNING_REPEAT = (
    "the early-warning indicator's repeat-caller signal (sim.kernels.warning, x_R: two or "
    "more known open issues, 重复来电/来访)"
)


class SelfGovernanceParams(_Section):
    """由民自主: village/residents' committees and their consultation councils (协商议事)
    settle local, minor issues within their members' hours (:mod:`sim.kernels.selfgov`)."""

    uptake: Prob = param(
        0.4,
        description="Probability a resident of a community with an active council brings a "
        "local, minor issue (need or dispute below max_severity, told to the grid worker or "
        "found on patrol) to the committee first",
        zh="居民向居委会/议事会反映比例",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.2, 0.6),
        note="anchor: people's mediation committees at village/community level mediate most "
        "mediated disputes in China; how many small requests residents take there first "
        "is not published",
    )
    max_severity: Prob = param(
        0.3,
        description="Issues below this severity are local and minor enough for the committee",
        zh="居委会可协商化解的严重度上限",
        unit=U_INDEX,
        source=ASSUMPTION,
        plausible=(0.2, 0.4),
        note="with the default severity shape about 38 % of issues are below 0.3",
    )
    members: int = param(
        5,
        ge=1,
        le=15,
        description="Committee members who take part in council work, per village/community",
        zh="村（居）委会成员数",
        unit=U_PERSONS,
        source=S_RC_LAW,
        plausible=(3, 9),
    )
    hours_per_member_day: float = param(
        1.0,
        ge=0.0,
        le=8.0,
        description="Hours a day each member gives to consultation and settling residents' "
        "matters (the rest is administration and services)",
        zh="成员每日协商议事时长",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(0.5, 2.0),
        note="committees report heavy administrative loads (减负 campaigns); one hour a "
        "day assumed",
    )
    hours_per_case: float = param(
        2.0,
        gt=0.0,
        le=40.0,
        description="Committee hours one case takes (hearing, consultation, follow-up)",
        zh="每件协商化解工时",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(1.0, 4.0),
    )
    resolve_prob: Prob = param(
        0.7,
        description="Probability a case the committee takes is settled there",
        zh="居委会协商化解成功率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.5, 0.85),
        note="below the officially reported people's-mediation success (above 95 %), "
        "which counts only cases accepted for mediation",
    )
    council_cost_per_resident: float = param(
        2.0,
        ge=0.0,
        le=100.0,
        description="Yearly cost of an active council (members' allowances for council "
        "work, meetings), yuan per resident of its community (× self_governance)",
        zh="协商议事经费",
        unit=U_YUAN_RY,
        source=ASSUMPTION,
        plausible=(1.0, 5.0),
        note="order of magnitude: a few thousand yuan a year per community of ≈2,700 residents",
    )


class KeyPersonParams(_Section):
    """重点人员管理: grid workers list residents whose grievances keep coming back — from
    observed issues only — and visit them out of their patrol hours
    (:mod:`sim.kernels.keyperson`)."""

    repeat_open: int = param(
        2,
        ge=1,
        le=20,
        description="Known open issues that make a resident a repeat caller (listed)",
        zh="重复诉求列管阈值",
        unit=U_COUNT,
        source=S_WARNING_REPEAT,
        plausible=(2, 3),
    )
    unresolved_to_list: float = param(
        2.0,
        gt=0.0,
        le=20.0,
        description="Remembered unresolved closures (each weighted by exp(−age/memory_days)) "
        "that list a resident",
        zh="未解决诉求列管阈值",
        unit=U_COUNT,
        source=ASSUMPTION,
        plausible=(1.5, 3.0),
    )
    review_days: int = param(
        90,
        ge=0,
        le=3650,
        description="Days a listed resident stays on the list after a listing criterion "
        "last held (the list is reviewed, not redrawn daily)",
        zh="列管复核期",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(30, 180),
        note="quarterly review (动态管理, 定期研判) assumed",
    )
    memory_days: float = param(
        180.0,
        gt=0.0,
        le=3650.0,
        description="Mean age of the unresolved closures the list remembers",
        zh="列管记忆期",
        unit=U_DAYS,
        source=ASSUMPTION,
        plausible=(90.0, 365.0),
        note="lists are reviewed quarterly to half-yearly in pilot guidance (assumed)",
    )
    visit_hours: float = param(
        1.0,
        gt=0.0,
        le=8.0,
        description="Grid-worker hours one visit takes, travel included (from patrol hours)",
        zh="每次走访工时",
        unit=U_HOURS,
        source=ASSUMPTION,
        plausible=(0.5, 2.0),
    )
    settle_prob: Prob = param(
        0.3,
        description="Probability a visit settles each of the resident's cases waiting in a "
        "queue of her grid worker, a department (督办), town mediation or the petition office",
        zh="走访化解概率",
        unit=U_PROB,
        source=ASSUMPTION,
        plausible=(0.1, 0.5),
    )


S_SETTING = "run setting (not a modelled quantity)"


class Scenario(_Section):
    """A city and its governance configuration: the whole input of one run."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9_\-]+$", description="Short identifier used in run folder names"
    )
    title_zh: str = Field("", description="Chinese title shown in reports and the teaching page")
    title_en: str = Field("", description="English title")
    description: str = Field("", description="What this configuration represents, and its source")
    seed: int = param(
        20231129,
        ge=0,
        le=2**63 - 1,
        description="Master random seed",
        zh="随机种子",
        unit=U_SEED,
        source=S_SETTING,
        plausible=(20231129, 20231129),
    )
    days: int = param(
        365,
        ge=1,
        le=36_500,
        description="Days simulated and reported",
        zh="模拟天数",
        unit=U_DAYS,
        source=S_SETTING,
        plausible=(365, 365),
    )
    warmup_days: int = param(
        30,
        ge=0,
        le=3650,
        description="Days simulated before day 0 and not reported (spin-up: queues fill, "
        "trust and activation settle)",
        zh="预热天数",
        unit=U_DAYS,
        source=S_SETTING,
        plausible=(30, 90),
    )
    attitude_days: int = param(
        1,
        ge=1,
        le=28,
        description="Residents' trust, participation and survey answers move every this many "
        "days, with their daily rates compounded (issues move every day; 1 = the daily "
        "model; sim.kernels.clock)",
        zh="居民态度更新周期",
        unit=U_DAYS,
        source=S_SETTING,
        plausible=(1, 7),
        note="a resolution of the model, not a quantity of the city: tests/test_clock.py "
        "checks that the headline's effects do not depend on it",
    )
    scale: float = param(
        0.01,
        gt=0.0,
        le=1.0,
        description="Fraction of the real population simulated (1:100 = 0.01)",
        zh="模拟比例",
        unit=U_SCALE,
        source=S_SETTING,
        plausible=(0.01, 1.0),
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
    costs: CostParams = CostParams()
    levers: Levers = Levers()
    # issue 12 (mech-a): mechanisms of rule of law, online mediation, command centre, experience
    legitimacy: LegitimacyParams = LegitimacyParams()
    online_mediation: OnlineMediationParams = OnlineMediationParams()
    command_centre: CommandCentreParams = CommandCentreParams()
    experience: ExperienceParams = ExperienceParams()
    # issue 12 (actors): resident self-governance, key-person management
    self_governance: SelfGovernanceParams = SelfGovernanceParams()
    key_persons: KeyPersonParams = KeyPersonParams()
    warmup_levers: Levers | None = Field(
        None,
        description="The levers in force during the warm-up (default: this scenario's own; "
        "the levers that shape the city stay the scenario's). A comparison with a shared "
        "warm-up sets the reference's levers here, so configurations with the same city "
        "fork one warmed-up model per seed and differ only from day 0 on",
    )
    warmup_department_slots_per_100k: float | None = Field(
        None,
        ge=0.0,
        le=100_000.0,
        description="The departments' case slots per 100k in force during the warm-up "
        "(default: this scenario's own ``handling.department_slots_per_100k``). A "
        "comparison with a shared warm-up sets the reference's here: an equal-cost twin's "
        "funding is its cut in department slots (sim.experiment.twins), part of the "
        "configuration, so it warms up on the reference's budget and makes the cut from day "
        "0, with its levers",
    )

    @model_validator(mode="after")
    def _county_names(self) -> Scenario:
        """The counties named by the by-county levers (``levers.capability.
        county_extra_grid_workers``, ``levers.system.county_social_org_budget_yuan_per_resident``)
        exist."""
        known = [c.name_en for c in self.city.counties]
        for where, levers in (("levers", self.levers), ("warmup_levers", self.warmup_levers)):
            if levers is None:
                continue
            cap, sy = levers.capability, levers.system
            for path, table in (
                ("capability.county_extra_grid_workers", cap.county_extra_grid_workers),
                (
                    "system.county_social_org_budget_yuan_per_resident",
                    sy.county_social_org_budget_yuan_per_resident,
                ),
            ):
                unknown = [k for k in table if k not in known]
                if unknown:
                    raise ValueError(
                        f"{where}.{path}: unknown county {unknown[0]!r}; the city's counties "
                        f"are {', '.join(known)}"
                    )
        return self
