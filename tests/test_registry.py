"""The parameter registry (issue 13): every number of the scenario declares its unit, its
source (a citation, or "assumption"), a plausible range holding the default within the
field's bounds and, where it was tuned, a calibration target that exists."""

from __future__ import annotations

import csv
import io

import pytest
from pydantic import BaseModel

from sim.calibration import TARGETS
from sim.cli import main
from sim.scenario.registry import (
    committed_section,
    counts,
    docs_section,
    parameters,
    problems,
    summary_line,
)
from sim.scenario.schema import ASSUMPTION, Scenario

ROWS = parameters()
TARGET_KEYS = {t.key for t in TARGETS}


def _numbers(value, path: str = "") -> set[str]:
    """Dotted paths of every number in a scenario, found without the registry's walk."""
    if isinstance(value, bool) or isinstance(value, str) or value is None:
        return set()
    if isinstance(value, (int, float)):
        return {path}
    if isinstance(value, BaseModel):
        out = set()
        for name in type(value).model_fields:
            out |= _numbers(getattr(value, name), f"{path}.{name}" if path else name)
        return out
    if isinstance(value, dict):
        return set().union(*(_numbers(v, f"{path}.{k}") for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return set().union(*(_numbers(v, f"{path}[{i}]") for i, v in enumerate(value)))
    raise TypeError(path)


def test_the_registry_has_a_row_for_every_number():
    paths = [r.path for r in ROWS]
    assert len(paths) == len(set(paths))
    assert set(paths) == _numbers(Scenario(name="x"))


def test_every_number_has_unit_source_and_plausible_range():
    found = problems(ROWS, TARGET_KEYS)
    assert not found, "\n".join(found)


def test_problems_are_found():
    """The check fails for a number without metadata or with a range missing its default."""
    r = next(r for r in ROWS if r.path == "trust.confidence")
    bare = r.__class__(**{**r.__dict__, "unit": "", "source": "", "plausible": None})
    found = problems([bare])
    assert any("no unit" in p for p in found)
    assert any("no source" in p for p in found)
    assert any("no plausible range" in p for p in found)
    outside = r.__class__(**{**r.__dict__, "plausible": (0.5, 0.9)})
    assert any("outside its plausible range" in p for p in problems([outside]))
    beyond = r.__class__(**{**r.__dict__, "plausible": (0.1, 1.5)})
    assert any("beyond the bound" in p for p in problems([beyond]))
    wrong = r.__class__(**{**r.__dict__, "calibrated_to": ("no_such_target",)})
    assert any("not a target" in p for p in problems([wrong], TARGET_KEYS))


def test_defaults_are_the_schema_defaults():
    sc = Scenario(name="x")
    row = {r.path: r for r in ROWS}
    assert row["city.total_population"].default == sc.city.total_population
    assert row["handling.pools.mediation.resolve_prob.dispute"].default == 0.93
    assert row["handling.sector_mix.dispute[8]"].default == sc.handling.sector_mix["dispute"][8]
    assert row["surfacing.report_hours[0]"].plausible == (7.0, 9.0)


def test_assumption_count_is_reported(capsys):
    c = counts(ROWS)
    with capsys.disabled():
        print(f"\nparameter registry: {summary_line(ROWS)}")
    assert sum(c.values()) == len(ROWS)
    assert c["assumption"] == sum(r.source == ASSUMPTION for r in ROWS if r.kind != "setting")


@pytest.mark.parametrize("fmt", ["text", "markdown", "csv"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cli_prints_every_parameter(capsys, fmt, lang):
    assert main(["params", "--format", fmt, "--lang", lang]) == 0
    out = capsys.readouterr().out
    for r in ROWS:
        assert r.path in out, r.path
    header = out.splitlines()[0]
    if fmt != "csv":  # Chinese column headers first
        assert header.index("参数") < header.index("parameter")
    else:
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) == len(ROWS)
        assert all(r["unit"] and r["source"] and r["plausible_low"] != "" for r in rows)


def test_cli_assumptions_only(capsys):
    assert main(["params", "--assumptions-only", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and all(r["source"] == ASSUMPTION for r in rows)
    assert len(rows) == counts(ROWS)["assumption"]


def test_docs_section_is_up_to_date():
    assert committed_section() == docs_section(), (
        "docs/model.md §6 is out of date: run python -m sim.scenario.registry --write-docs"
    )
