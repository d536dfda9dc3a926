"""The parameter registry: every number of the scenario with its unit, source and range.

The metadata is declared on the schema fields (``sim.scenario.schema.param``, stored in
``json_schema_extra["registry"]``); this module walks the default :class:`Scenario` —
nested sections, category vectors, the pools and sector-mix tables, the county list and
tuples — and returns one :class:`Param` row per number. ``govsim params`` prints the
table; ``python -m sim.scenario.registry --write-docs`` writes it into ``docs/model.md``
between the markers ``<!-- params:begin -->`` and ``<!-- params:end -->``.

A container's metadata (unit, source, plausible, calibrated_to, note, labels) applies to
every number in it; a sub-field's own metadata overrides it, and the container's
``items`` (per category, pool kind or position) override both.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import typing
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.scenario.schema import (
    ASSUMPTION,
    CATEGORIES_EN,
    CATEGORIES_ZH,
    POOL_KINDS,
    POOL_KINDS_ZH,
    S_SETTING,
    Scenario,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "model.md"
BEGIN = "<!-- params:begin -->"
END = "<!-- params:end -->"

UNITS_ZH = {
    "persons": "人",
    "share 0–1": "比例 0–1",
    "probability": "概率",
    "index 0–1": "指数 0–1",
    "issues per resident-year": "件/人·年",
    "per day (hazard)": "每日风险率",
    "per day": "每日",
    "per day per patrol-hour per worker per 1,000 residents": "每日·每巡查小时·每网格员·每千人",
    "hours": "小时",
    "days": "天",
    "hour of day": "时刻",
    "multiplier ×": "倍数",
    "coefficient of variation": "变异系数",
    "shape parameter": "形状参数",
    "count": "个",
    "ties per resident": "关系/人",
    "slots per 100k residents": "容量/10万人",
    "slots per pool": "容量/处理主体",
    "yuan per resident-year": "元/人·年",
    "yuan per slot-year": "元/容量·年",
    "yuan per person-year": "元/人·年",
    "yuan": "元",
    "yuan per year": "元/年",
    "yuan per device": "元/台",
    "years": "年",
    "cases per officer": "件/人",
    "queued cases per worker": "积压件/网格员",
    "officer-equivalents per 1,000 residents": "警力当量/千人",
    "officer-equivalents per worker": "警力当量/网格员",
    "change of trust per issue (0–1 scale)": "信任变化/件",
    "hardship (0–1) per issue": "困难度/件",
    "hardship (0–1) per dispute per 100 residents": "困难度/（纠纷·百人）",
    "exponent": "指数",
    "weight": "权重",
    "index points per incident per 100k residents": "指数点/（事件·10万人）",
    "index points per open risk per 1,000 residents": "指数点/（隐患·千人）",
    "effort per unit shortfall": "努力/单位差距",
    "effort ×": "努力倍数",
    "lever level 0–1": "杠杆水平 0–1",
    "residents per grid": "人/网格",
    "workers per grid": "网格员/网格",
    "hours per worker-day": "小时/人·日",
    "fraction of residents": "人口比例",
    "dimensionless": "无量纲",
    "—": "—",
}

_KEY_LABELS = {
    **{en: (zh, en) for en, zh in zip(CATEGORIES_EN, CATEGORIES_ZH, strict=True)},
    **{en: (zh, en) for en, zh in zip(POOL_KINDS, POOL_KINDS_ZH, strict=True)},
}
_INHERITED_NOT = ("zh", "en", "items")


@dataclass(frozen=True)
class Param:
    """One number of the scenario and what the registry says about it."""

    path: str
    zh: str
    description: str
    unit: str
    default: float
    plausible: tuple[float, float] | None
    source: str
    calibrated_to: tuple[str, ...]
    note: str
    bounds: tuple[float | None, float | None]
    strict: tuple[bool, bool]  # (gt, lt) rather than (ge, le)

    @property
    def kind(self) -> str:
        if self.source == S_SETTING:
            return "setting"
        return "lever" if self.path.startswith("levers.") else "parameter"

    @property
    def status(self) -> str:
        """``assumption``, ``calibrated``, ``sourced`` or ``setting``."""
        if self.kind == "setting":
            return "setting"
        if self.source == ASSUMPTION:
            return "assumption"
        return "calibrated" if self.calibrated_to else "sourced"


def _registry(field) -> dict:
    extra = field.json_schema_extra
    return dict(extra.get("registry", {})) if isinstance(extra, dict) else {}


def _bounds(metadata) -> tuple[tuple[float | None, float | None], tuple[bool, bool]]:
    lo = hi = None
    strict_lo = strict_hi = False
    for m in metadata:
        for attr, is_lo, strict in (("ge", 1, 0), ("gt", 1, 1), ("le", 0, 0), ("lt", 0, 1)):
            v = getattr(m, attr, None)
            if v is None:
                continue
            if is_lo:
                lo, strict_lo = v, bool(strict)
            else:
                hi, strict_hi = v, bool(strict)
    return (lo, hi), (strict_lo, strict_hi)


def _element_metadata(annotation: Any, i: int) -> list:
    """Constraints of position i of a ``tuple[Annotated[float, Field(...)], ...]``."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is not tuple or i >= len(args):
        return []
    parts = typing.get_args(args[i])
    return list(getattr(parts[1], "metadata", [])) if len(parts) > 1 else []


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = (
            _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        )
    return out


def _merge(parent: dict, own: dict, override: dict) -> dict:
    """Container metadata < the field's own < the container's per-item override."""
    m = {k: v for k, v in parent.items() if k not in _INHERITED_NOT}
    m.update({k: v for k, v in own.items() if k != "items"})
    m.update({k: v for k, v in override.items() if k != "items"})
    m.pop("zh", None)
    m.pop("en", None)
    items = _deep_merge(own.get("items", {}), override.get("items", {}))
    if items:
        m["items"] = items
    return m


def _clip(x: float, bounds: tuple[float | None, float | None]) -> float:
    lo, hi = bounds
    if lo is not None:
        x = max(x, lo)
    if hi is not None:
        x = min(x, hi)
    return x


def _plausible(spec: Any, default: float, bounds) -> tuple[float, float] | None:
    if spec is None:
        return None
    if isinstance(spec, dict) and "rel" in spec:
        a, b = (default * f for f in spec["rel"])
        lo, hi = sorted((_clip(a, bounds), _clip(b, bounds)))
    elif isinstance(spec, dict) and "pm" in spec:
        lo, hi = _clip(default - spec["pm"], bounds), _clip(default + spec["pm"], bounds)
    else:
        lo, hi = spec
    return (round(lo, 10), round(hi, 10))


def _walk(value, meta, path, zh, en, annotation, bounds, strict, out: list[Param]) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        out.append(
            Param(
                path=path,
                zh=" · ".join(zh),
                description=" — ".join(e for e in en if e),
                unit=meta.get("unit", ""),
                default=value,
                plausible=_plausible(meta.get("plausible"), value, bounds),
                source=meta.get("source", ""),
                calibrated_to=tuple(meta.get("calibrated_to", ())),
                note=meta.get("note", ""),
                bounds=bounds,
                strict=strict,
            )
        )
        return
    items = meta.get("items", {})
    if isinstance(value, BaseModel):
        for name, f in type(value).model_fields.items():
            own = _registry(f)
            sub = _merge(meta, own, items.get(name, {}))
            b, s = _bounds(f.metadata)
            _walk(
                getattr(value, name), sub, f"{path}.{name}" if path else name,
                zh + ([own["zh"]] if "zh" in own else []),
                en + ([own.get("en") or f.description or name] if own else []),
                f.annotation, b, s, out,
            )  # fmt: skip
        return
    if isinstance(value, dict):
        args = typing.get_args(annotation)
        inner = args[1] if len(args) == 2 else None
        for key, v in value.items():
            lz, le = _KEY_LABELS.get(key, (key, key))
            sub = _merge(meta, {}, items.get(str(key), {}))
            _walk(v, sub, f"{path}.{key}", zh + [lz], en + [le], inner, (None, None),
                  (False, False), out)  # fmt: skip
        return
    if isinstance(value, (list, tuple)):
        labels = meta.get("labels") or []
        args = typing.get_args(annotation)
        inner = args[0] if typing.get_origin(annotation) is list and args else None
        for i, v in enumerate(value):
            if isinstance(v, BaseModel) and hasattr(v, "name_zh"):
                lz, le = v.name_zh, v.name_en
            elif i < len(labels):
                lz, le = labels[i]
            else:
                lz = le = str(i)
            sub = _merge(meta, {}, items.get(str(i), {}))
            b, s = _bounds(_element_metadata(annotation, i))
            _walk(v, sub, f"{path}[{i}]", zh + [lz], en + [le], inner, b, s, out)
        return
    raise TypeError(f"the parameter registry cannot walk {path} of type {type(value).__name__}")


def parameters(scenario: Scenario | None = None) -> list[Param]:
    """One row per number of the scenario (default: the schema's defaults), in schema order."""
    sc = scenario if scenario is not None else Scenario(name="defaults")
    out: list[Param] = []
    _walk(sc, {}, "", [], [], Scenario, (None, None), (False, False), out)
    return out


def problems(rows: list[Param] | None = None, target_keys: set[str] | None = None) -> list[str]:
    """What a row lacks: unit, source, a plausible range holding the default within bounds,
    and (given ``target_keys``, the keys of ``sim.calibration.TARGETS``, which sits above
    this layer) a calibration target that exists."""
    out = []
    for r in rows if rows is not None else parameters():
        if not r.unit:
            out.append(f"{r.path}: no unit")
        if not r.source.strip():
            out.append(f"{r.path}: no source (a citation, or 'assumption')")
        if not r.zh:
            out.append(f"{r.path}: no Chinese label (zh)")
        for t in r.calibrated_to:
            if target_keys is not None and t not in target_keys:
                out.append(f"{r.path}: calibrated_to {t!r} is not a target of sim/calibration.py")
        if r.plausible is None:
            out.append(f"{r.path}: no plausible range")
            continue
        lo, hi = r.plausible
        if not lo <= r.default <= hi:
            out.append(f"{r.path}: default {r.default} outside its plausible range [{lo}, {hi}]")
        (blo, bhi), (slo, shi) = r.bounds, r.strict
        if blo is not None and (lo < blo or (slo and lo <= blo)):
            out.append(f"{r.path}: plausible low {lo} beyond the bound {'>' if slo else '≥'} {blo}")
        if bhi is not None and (hi > bhi or (shi and hi >= bhi)):
            out.append(
                f"{r.path}: plausible high {hi} beyond the bound {'<' if shi else '≤'} {bhi}"
            )
    return out


# ------------------------------------------------------------------------- formatting


def _num(x: float) -> str:
    if abs(x) >= 1000:
        return f"{round(x):,}"
    return f"{x:g}"


def _range(r: Param) -> str:
    if r.plausible is None:
        return "—"
    lo, hi = r.plausible
    return _num(lo) if lo == hi else f"{_num(lo)}–{_num(hi)}"


def _unit(r: Param, lang: str) -> str:
    return UNITS_ZH.get(r.unit, r.unit) if lang == "zh" else r.unit


def counts(rows: list[Param]) -> Counter:
    """Rows by status: sourced, calibrated, assumption, setting."""
    return Counter(r.status for r in rows)


def summary_line(rows: list[Param]) -> str:
    c = counts(rows)
    return (
        f"{len(rows)} 个参数 parameters: {c['sourced']} 有出处 sourced, {c['calibrated']} 校准 "
        f"calibrated, {c['assumption']} 假设 assumption, {c['setting']} 运行设置 run settings "
        f"({sum(r.kind == 'lever' for r in rows)} of them levers 政策杠杆)."
    )


HEADERS = (
    ("参数", "parameter"),
    ("名称", "name"),
    ("单位", "unit"),
    ("默认值", "default"),
    ("合理范围", "plausible"),
    ("来源", "source"),
    ("校准目标", "calibrated to"),
    ("备注", "note"),
)


def _cells(r: Param, lang: str) -> list[str]:
    return [
        r.path,
        r.zh if lang == "zh" else r.description,
        _unit(r, lang),
        str(r.default) if r.unit == "—" else _num(r.default),
        (str(r.plausible[0]) if r.plausible else "—") if r.unit == "—" else _range(r),
        "假设 assumption" if r.source == ASSUMPTION else r.source,
        ", ".join(r.calibrated_to),
        r.note,
    ]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_text(rows: list[Param], lang: str = "zh") -> str:
    head = [f"{zh} {en}" for zh, en in HEADERS]
    body = [_cells(r, lang) for r in rows]
    fixed = 5  # columns padded; source, calibrated to and note run on
    widths = [min(48, max(_width(x[i]) for x in [head, *body])) for i in range(fixed)]
    lines = []
    for cells in [head, *body]:
        left = "  ".join(
            c + " " * max(0, w - _width(c)) for c, w in zip(cells, widths, strict=False)
        )
        rest = "  ".join(c for c in cells[fixed:] if c)
        lines.append((left + "  " + rest).rstrip())
    return "\n".join(lines) + "\n\n" + summary_line(rows)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_markdown(rows: list[Param], lang: str = "both") -> str:
    """A Markdown table; ``lang="both"`` gives the Chinese name and the English description."""
    if lang == "both":
        head = ["参数 parameter", "名称 name", "说明 description", *(
            f"{zh} {en}" for zh, en in HEADERS[2:])]  # fmt: skip
    else:
        head = [f"{zh} {en}" for zh, en in HEADERS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = _cells(r, "zh" if lang == "zh" else "en")
        cells[0] = f"`{r.path}`"
        if lang == "both":
            cells = [cells[0], r.zh, r.description, *cells[2:]]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines)


def format_csv(rows: list[Param]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["path", "zh", "description", "unit", "unit_zh", "default", "plausible_low",
         "plausible_high", "source", "status", "calibrated_to", "note"]
    )  # fmt: skip
    for r in rows:
        lo, hi = r.plausible or ("", "")
        w.writerow(
            [r.path, r.zh, r.description, r.unit, UNITS_ZH.get(r.unit, r.unit), r.default, lo,
             hi, r.source, r.status, " ".join(r.calibrated_to), r.note]
        )  # fmt: skip
    return buf.getvalue()


def render(fmt: str = "text", lang: str = "zh", assumptions_only: bool = False) -> str:
    rows = parameters()
    if assumptions_only:
        rows = [r for r in rows if r.status == "assumption"]
    if fmt == "csv":
        return format_csv(rows)
    if fmt == "markdown":
        return format_markdown(rows, lang) + "\n\n" + summary_line(rows)
    return format_text(rows, lang)


# ------------------------------------------------------------------------------ docs


def docs_section() -> str:
    """The generated text between the markers in docs/model.md."""
    rows = parameters()
    return (
        "Generated by `python -m sim.scenario.registry --write-docs` from the metadata of "
        "`sim/scenario/schema.py`; `govsim params` prints the same table (`--lang en`, "
        "`--format csv`, `--assumptions-only`). Plausible ranges are for uncertainty "
        "analysis, narrower than the validation bounds of `govsim schema`; a rule on a "
        "container (category vector, pool, sector mix) is applied to each number in it. "
        "“假设 assumption” marks a modelling choice; a note says what anchors it. "
        "“校准 calibrated” values were tuned to the named target of `sim/calibration.py` "
        "(§5); their source is the published figure.\n\n"
        + summary_line(rows)
        + "\n\n"
        + format_markdown(rows, "both")
    )


def write_docs(path: Path = DOCS) -> bool:
    """Replace the section between the markers; return True if the file changed."""
    text = path.read_text("utf-8")
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} lacks the markers {BEGIN} and {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{docs_section()}\n{END}{tail}"
    if new != text:
        path.write_text(new, "utf-8")
    return new != text


def committed_section(path: Path = DOCS) -> str:
    text = path.read_text("utf-8")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="names and units in Chinese (default) or English")  # fmt: skip
    p.add_argument("--format", choices=("text", "markdown", "csv"), default="text")
    p.add_argument("--assumptions-only", action="store_true",
                   help="only the parameters whose source is 'assumption'")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.scenario.registry")
    add_arguments(p)
    p.add_argument("--write-docs", action="store_true", help=f"write the table into {DOCS}")
    a = p.parse_args(argv)
    if a.write_docs:
        changed = write_docs()
        print(f"{DOCS}: {'updated' if changed else 'up to date'}")
        return 0
    sys.stdout.write(render(a.format, a.lang, a.assumptions_only) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
