"""Scenario loading: TOML, ``extends`` chains, ``--set`` overrides, hashing, error messages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from sim.errors import GovsimError
from sim.scenario import Scenario, load_scenario, parse_override, resolve_dict, scenario_hash
from sim.scenario.messages import unwrap
from sim.scenario.schema import GenerationParams


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path | str, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(GovsimError) as info:
        load_scenario(path, overrides)
    message = str(info.value)
    assert_one_clean_line(message)
    return message


def assert_one_clean_line(message: str) -> None:
    assert message
    assert "\n" not in message and "\r" not in message, message
    assert "Traceback" not in message, message
    assert "errors.pydantic.dev" not in message, message
    assert "For further information" not in message, message
    assert "validation error" not in message.lower(), message


# --------------------------------------------------------------------------- loading


def test_minimal_file_loads_with_defaults(tmp_path):
    path = write(tmp_path / "x.toml", 'name = "x"\n')
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario == Scenario(name="x")
    assert load_scenario(str(path)) == scenario


def test_extends_chain_merges_deeply_with_relative_paths(tmp_path):
    write(
        tmp_path / "base" / "grand.toml",
        """
name = "grand"
seed = 7
days = 30
[levers.capability]
workers_per_grid = 3
patrol_hours_per_day = 4.0
[surfacing]
report_hours = [9.0, 20.0]
""",
    )
    write(
        tmp_path / "base" / "parent.toml",
        """
extends = "grand.toml"
name = "parent"
[levers.capability]
patrol_hours_per_day = 5.0
online_mediation = true
[handling.pools.grid]
duty_start = 7.0
""",
    )
    child = write(
        tmp_path / "child" / "child.toml",
        """
extends = "../base/parent.toml"
name = "child"
[levers.capability]
workers_per_grid = 2
[levers.data]
data_sharing = 0.9
[surfacing]
report_hours = [7.0, 21.0]
""",
    )
    scenario = load_scenario(child)
    cap = scenario.levers.capability
    assert scenario.name == "child"  # child overrides
    assert scenario.seed == 7 and scenario.days == 30  # grandparent's other keys kept
    assert cap.workers_per_grid == 2  # child beats grandparent
    assert cap.patrol_hours_per_day == 5.0  # parent beats grandparent
    assert cap.online_mediation is True  # parent's own key kept
    assert scenario.levers.data.data_sharing == 0.9
    assert scenario.surfacing.report_hours == (7.0, 21.0)  # arrays replace
    grid = scenario.handling.pools["grid"]
    assert grid.duty_start == 7.0  # one key of a table ...
    assert grid.duty_end == Scenario(name="x").handling.pools["grid"].duty_end  # ... others kept

    raw = resolve_dict(child)
    assert "extends" not in raw
    assert raw["levers"]["capability"] == {
        "workers_per_grid": 2,
        "patrol_hours_per_day": 5.0,
        "online_mediation": True,
    }
    assert raw["seed"] == 7
    assert "city" not in raw  # schema defaults are not part of the raw dict


def test_extends_path_is_relative_to_the_extending_file_not_the_cwd(tmp_path, monkeypatch):
    write(tmp_path / "d" / "p.toml", 'name = "p"\nseed = 11\n')
    child = write(tmp_path / "d" / "c.toml", 'extends = "p.toml"\n')
    monkeypatch.chdir(tmp_path)
    assert load_scenario(Path("d") / "c.toml").seed == 11
    assert load_scenario(child).seed == 11


@pytest.mark.parametrize(
    ("override", "getter", "expected"),
    [
        ("levers.data.data_sharing=0.75", lambda s: s.levers.data.data_sharing, 0.75),
        (
            "generation.rate_per_resident_year.need=0.5",
            lambda s: s.generation.rate_per_resident_year.as_tuple(),
            # only `need` changes; the other categories keep the schema defaults
            (*GenerationParams().rate_per_resident_year.as_tuple()[:1], 0.5)
            + GenerationParams().rate_per_resident_year.as_tuple()[2:],
        ),
        (
            "levers.capability.online_mediation=true",
            lambda s: s.levers.capability.online_mediation,
            True,
        ),
        (
            "levers.system.coordination_group=false",
            lambda s: s.levers.system.coordination_group,
            False,
        ),
        ("levers.capability.workers_per_grid=4", lambda s: s.levers.capability.workers_per_grid, 4),
        ('title_en="A city, with = signs"', lambda s: s.title_en, "A city, with = signs"),
        ("title_en=plain words", lambda s: s.title_en, "plain words"),
        ("name=renamed", lambda s: s.name, "renamed"),
        ("handling.priority=severity", lambda s: s.handling.priority, "severity"),
        ('handling.priority="risk"', lambda s: s.handling.priority, "risk"),
        ("surfacing.report_hours=[9, 21]", lambda s: s.surfacing.report_hours, (9.0, 21.0)),
        ("handling.pools.grid.weekends=false", lambda s: s.handling.pools["grid"].weekends, False),
        (" days = 20 ", lambda s: s.days, 20),
    ],
)
def test_set_overrides(tmp_path, override, getter, expected):
    path = write(tmp_path / "x.toml", 'name = "x"\ndays = 10\n')
    assert getter(load_scenario(path, [override])) == expected


def test_set_overrides_apply_after_files_and_in_order(tmp_path):
    write(tmp_path / "p.toml", 'name = "p"\n[levers.data]\ndata_sharing = 0.1\n')
    child = write(tmp_path / "c.toml", 'extends = "p.toml"\n[levers.data]\ndata_sharing = 0.2\n')
    sets = ["levers.data.data_sharing=0.3", "levers.data.data_sharing=0.4"]
    assert load_scenario(child, sets).levers.data.data_sharing == 0.4
    assert resolve_dict(child, sets)["levers"]["data"]["data_sharing"] == 0.4


@pytest.mark.parametrize(
    ("text", "keys", "value"),
    [
        ("a.b.c=1", ["a", "b", "c"], 1),
        ("a = 0.5", ["a"], 0.5),
        ("a=true", ["a"], True),
        ('a="fifo"', ["a"], "fifo"),
        ("a=fifo", ["a"], "fifo"),
        ("a=[1,2]", ["a"], [1, 2]),
        ("a=x=y", ["a"], "x=y"),
        ('a."b.c".d=1', ["a", "b.c", "d"], 1),
        ("a={x = 1}", ["a"], {"x": 1}),
        ('a=""', ["a"], ""),
    ],
)
def test_parse_override(text, keys, value):
    assert parse_override(text) == (keys, value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("levers.capability.workers_per_grid", "'='"),
        ("=3", "empty key path"),
        ("  =3", "empty key path"),
        ("a..b=1", "not a dotted key path"),
        ("city.counties[0].population=1", "whole array"),
        ("a=", "no value"),
    ],
)
def test_parse_override_rejects(text, needle):
    with pytest.raises(GovsimError) as info:
        parse_override(text)
    message = str(info.value)
    assert_one_clean_line(message)
    assert message.startswith("--set ")
    assert needle in message


# ------------------------------------------------------------------------ file errors


def test_missing_file(tmp_path):
    message = load_error(tmp_path / "nope.toml")
    assert "nope.toml" in message and "not found" in message


def test_missing_extends_target_names_the_extending_file(tmp_path):
    child = write(tmp_path / "child.toml", 'extends = "gone.toml"\nname = "c"\n')
    message = load_error(child)
    assert "gone.toml" in message and "not found" in message
    assert "child.toml" in message


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    path = write(
        tmp_path / "broken.toml", 'name = "x"\n\n[levers.capability\nworkers_per_grid = 2\n'
    )
    message = load_error(path)
    assert "broken.toml" in message
    assert "TOML syntax error" in message
    assert re.search(r"line 3, column \d+", message), message


def test_toml_syntax_error_in_an_extended_file_names_it(tmp_path):
    write(tmp_path / "parent.toml", "name = \n")
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\n')
    message = load_error(child)
    assert "parent.toml" in message and "TOML syntax error" in message
    assert "child.toml" in message


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    message = load_error(path)
    assert "latin.toml" in message and "UTF-8" in message


def test_bad_extends_value(tmp_path):
    path = write(tmp_path / "x.toml", 'name = "x"\nextends = 3\n')
    message = load_error(path)
    assert "x.toml" in message and "extends = 3" in message


@pytest.mark.parametrize(
    "files",
    [
        {"a.toml": "a.toml"},
        {"a.toml": "b.toml", "b.toml": "a.toml"},
        {"a.toml": "b.toml", "b.toml": "c.toml", "c.toml": "a.toml"},
        {"a.toml": "b.toml", "b.toml": "./sub/../b.toml"},
    ],
    ids=["self", "2-cycle", "3-cycle", "self-via-other-spelling"],
)
def test_cyclic_extends(tmp_path, files):
    for name, target in files.items():
        write(tmp_path / name, f'name = "n"\nextends = "{target}"\n')
    (tmp_path / "sub").mkdir()
    message = load_error(tmp_path / "a.toml")
    assert "cyclic extends" in message
    cycle = re.search(r"\((.* → .*)\)", message)
    assert cycle, message
    names = [Path(p).name for p in cycle.group(1).split(" → ")]
    expected = ["a.toml", *[Path(t).name for t in files.values()]][: len(names)]
    assert names == expected


# ---------------------------------------------------------------- validation errors

# (file text, overrides, substrings the message must contain). The file is "bad.toml".
ERROR_CASES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "unknown-key": (
        'name = "x"\n[levers.capability]\nworkers_per_gird = 2\n',
        (),
        ("levers.capability.workers_per_gird", "= 2", "did you mean 'workers_per_grid'"),
    ),
    "unknown-section": (
        'name = "x"\n[levrs.capability]\nworkers_per_grid = 2\n',
        (),
        ("levrs", "workers_per_grid = 2", "did you mean 'levers'"),
    ),
    "unknown-key-no-close-match": (
        'name = "x"\n[levers.data]\nzzzz = 1\n',
        (),
        ("levers.data.zzzz", "= 1", "allowed keys:", "data_sharing"),
    ),
    "wrong-type-int": (
        'name = "x"\n[levers.capability]\nworkers_per_grid = "two"\n',
        (),
        ("levers.capability.workers_per_grid", '"two"', "must be an integer"),
    ),
    "wrong-type-bool": (
        'name = "x"\n[levers.capability]\nonline_mediation = [1]\n',
        (),
        ("levers.capability.online_mediation", "[1]", "must be true or false"),
    ),
    "wrong-type-table": (
        'name = "x"\nlevers = 3\n',
        (),
        ("levers = 3", "must be a table"),
    ),
    "int-from-float": (
        'name = "x"\ndays = 2.5\n',
        (),
        ("days = 2.5", "whole number"),
    ),
    "below-range": (
        'name = "x"\n[levers.capability]\nworkers_per_grid = 0\n',
        (),
        ("levers.capability.workers_per_grid = 0", "must be ≥ 1", "Grid workers per grid"),
    ),
    "above-range": (
        'name = "x"\n[levers.data]\ndata_sharing = 1.5\n',
        (),
        ("levers.data.data_sharing = 1.5", "must be ≤ 1"),
    ),
    "strict-bound": (
        'name = "x"\nscale = 0.0\n',
        (),
        ("scale = 0", "must be > 0"),
    ),
    "nan": (
        'name = "x"\n[levers.data]\ndata_sharing = nan\n',
        (),
        ("levers.data.data_sharing = nan", "must be"),
    ),
    "literal": (
        'name = "x"\n[handling]\npriority = "fast"\n',
        (),
        ("handling.priority", '"fast"', '"fifo"', '"severity"', '"risk"', '"equity"'),
    ),
    "literal-typo": (
        'name = "x"\n[handling]\npriority = "fifoo"\n',
        (),
        ("handling.priority", '"fifoo"', 'did you mean "fifo"'),
    ),
    "pattern": (
        'name = "bad name"\n',
        (),
        ("name", '"bad name"', "pattern"),
    ),
    "list-item": (
        'name = "x"\n[city]\ntotal_population = 6000\n'
        '[[city.counties]]\nname_zh = "甲"\nname_en = "A"\npopulation = 5\nurban_share = 0.5\n',
        (),
        ("city.counties[0].population = 5", "must be ≥ 1000"),
    ),
    "missing-required-in-list-item": (
        'name = "x"\n[city]\ntotal_population = 6000\n'
        '[[city.counties]]\nname_zh = "甲"\npopulation = 6000\nurban_share = 0.5\n',
        (),
        ("city.counties[0].name_en", "missing"),
    ),
    "dict-key-typo": (
        'name = "x"\n[handling.pools.hotlin]\nduty_start = 1.0\n',
        (),
        ("handling.pools.hotlin", "did you mean 'hotline'"),
    ),
    "model-validator-sum": (
        'name = "x"\n[city]\ntotal_population = 5000000\n',
        (),
        ("city", "total_population is 5,000,000", "must be equal"),
    ),
    "model-validator-pool": (
        'name = "x"\n[handling.pools.grid]\nduty_start = 19.0\n',
        (),
        ("handling.pools.grid", "duty_start (19.0)"),
    ),
    "several-errors": (
        'name = "x"\ndays = 0\nseed = -1\n',
        (),
        ("seed = -1", "must be ≥ 0", "; also ", "days = 0", "must be ≥ 1"),
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_validation_error_messages(tmp_path, case):
    text, overrides, needles = ERROR_CASES[case]
    message = load_error(write(tmp_path / "bad.toml", text), overrides)
    assert message.startswith(str(tmp_path / "bad.toml") + ":"), message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_error_in_a_parent_file_is_attributed_to_that_file(tmp_path):
    write(tmp_path / "parent.toml", 'name = "p"\n[levers.capability]\nworkers_per_grid = 0\n')
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\nseed = 3\n')
    message = load_error(child)
    assert message.startswith(str(tmp_path / "parent.toml") + ":"), message
    assert "levers.capability.workers_per_grid = 0" in message


# (overrides, substrings). The file is a valid "good.toml".
SET_ERROR_CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "no-equals": (("levers.capability.workers_per_grid",), ("'='",)),
    "empty-path": (("=2",), ("empty key path",)),
    "empty-value": (("days=",), ("days", "no value")),
    "bad-key-syntax": (("levers..data=1",), ("levers..data", "dotted key path")),
    "unknown-path": (
        ("levers.capability.workers_per_gird=2",),
        ("levers.capability.workers_per_gird = 2", "did you mean 'workers_per_grid'"),
    ),
    "unknown-section": (("levrs.data.data_sharing=0.5",), ("levrs", "did you mean 'levers'")),
    "unknown-dict-key": (("handling.pools.gird.weekends=true",), ("gird", "'grid'")),
    "path-through-value": (("name.x=3",), ("name.x = 3", "not a table")),
    "out-of-range": (
        ("levers.capability.workers_per_grid=0",),
        ("levers.capability.workers_per_grid = 0", "must be ≥ 1"),
    ),
    "wrong-type": (("days=abc",), ('days = "abc"', "must be an integer")),
    "bad-literal": (("handling.priority=fast",), ("handling.priority", '"fast"', '"fifo"')),
    "extends": (("extends=other.toml",), ("extends", "cannot be overridden")),
}


@pytest.mark.parametrize("case", list(SET_ERROR_CASES))
def test_set_error_messages_name_set_and_file(tmp_path, case):
    overrides, needles = SET_ERROR_CASES[case]
    path = write(tmp_path / "good.toml", 'name = "x"\n')
    message = load_error(path, overrides)
    assert message.startswith("--set"), message
    assert str(path) in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_valid_set_does_not_take_the_blame_for_a_file_error(tmp_path):
    path = write(tmp_path / "bad.toml", 'name = "x"\n[levers.data]\ndata_sharing = 2.0\n')
    message = load_error(path, ("seed=5",))
    assert message.startswith(str(path) + ":"), message


# --------------------------------------------------- invalid values from constraints


def _bounded_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, Any, type]]:
    """(dotted path, bound kind, bound, int|float) for every bounded number in nested models."""
    out = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        tp = unwrap(field.annotation)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            out += _bounded_fields(tp, f"{path}.")
            continue
        if tp not in (int, float):
            continue
        for meta in field.metadata:
            for kind in ("ge", "gt", "le", "lt"):
                bound = getattr(meta, kind, None)
                if bound is not None:
                    out.append((path, kind, bound, tp))
    return out


def _beyond(kind: str, bound: Any, tp: type) -> Any:
    """A value just outside the bound (cf. scikit-learn's generate_invalid_param_val)."""
    if kind == "gt":
        return tp(bound)
    if kind == "lt":
        return tp(bound)
    step = 1 if tp is int else max(1e-3, abs(bound) * 1e-3)
    return bound - step if kind == "ge" else bound + step


BOUNDED = _bounded_fields(Scenario)
LEVER_BOUNDS = [b for b in BOUNDED if b[0].startswith("levers.")]


def test_constraint_walk_finds_the_levers():
    paths = {p for p, *_ in LEVER_BOUNDS}
    assert "levers.capability.workers_per_grid" in paths
    assert "levers.data.data_sharing" in paths  # a Prob (bound via Annotated)
    assert len(LEVER_BOUNDS) >= 2 * 10


@pytest.mark.parametrize(
    ("path", "kind", "bound", "tp"), BOUNDED, ids=[f"{p}-{k}" for p, k, *_ in BOUNDED]
)
def test_value_beyond_each_bound_is_rejected_with_its_path(tmp_path, path, kind, bound, tp):
    file = write(tmp_path / "x.toml", 'name = "x"\n')
    value = _beyond(kind, bound, tp)
    literal = json.dumps(value)
    message = load_error(file, (f"{path}={literal}",))
    assert str(file) in message
    assert f"{path} = " in message, message
    sign = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}[kind]
    assert f"must be {sign} " in message, message


# --------------------------------------------------------------------------- hashing


def test_hash_is_stable_for_equal_scenarios(tmp_path):
    a = write(tmp_path / "a.toml", 'name = "x"\nseed = 5\n[levers.data]\ndata_sharing = 0.4\n')
    # Other key order; a default (data_sharing = 0.4) left implicit instead of written out.
    b = write(tmp_path / "b.toml", 'seed = 5\nname = "x"\n')
    h = scenario_hash(load_scenario(a))
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert scenario_hash(load_scenario(b)) == h
    assert scenario_hash(Scenario(name="x", seed=5)) == h


def test_hash_is_stable_across_processes(tmp_path):
    path = write(tmp_path / "a.toml", 'name = "x"\n[levers.capability]\nworkers_per_grid = 3\n')
    here = scenario_hash(load_scenario(path))
    code = (
        "import sys; from sim.scenario import load_scenario, scenario_hash; "
        "print(scenario_hash(load_scenario(sys.argv[1])))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == here


def test_hash_depends_on_model_version():
    s = Scenario(name="x")
    assert scenario_hash(s, "1.0") != scenario_hash(s, "1.1")
    import sim

    assert scenario_hash(s) == scenario_hash(s, sim.model_version())
    assert sim.model_version().startswith(sim.__version__ + "+")  # version + source digest


def _lever_changes() -> list[str]:
    """One valid ``--set`` per lever leaf, each moving it away from its default."""
    defaults = Scenario(name="x").levers.model_dump()
    out = []
    for group, fields in defaults.items():
        for name, value in fields.items():
            path = f"levers.{group}.{name}"
            if isinstance(value, bool):
                out.append(f"{path}={'false' if value else 'true'}")
            elif isinstance(value, int):
                out.append(f"{path}={value + 1}")
            elif isinstance(value, float):
                out.append(f"{path}={value / 2 if value else 0.01}")
    return out


@pytest.mark.parametrize(
    "change",
    [
        *_lever_changes(),
        "seed=1",
        "title_en=other",
        "handling.pools.grid.duty_end=17.5",
        "generation.rate_per_resident_year.risk=0.06",
        "surfacing.report_hours=[8.0, 21.0]",
    ],
)
def test_hash_changes_when_any_value_changes(tmp_path, change):
    path = write(tmp_path / "x.toml", 'name = "x"\n')
    base = load_scenario(path)
    changed = load_scenario(path, [change])
    assert changed != base
    assert scenario_hash(changed) != scenario_hash(base)


# ------------------------------------------------------------------------ JSON schema


def _leaf_fields_without_description(schema: dict) -> set[str]:
    """Walk the JSON schema (resolving $defs); name every leaf property with no description."""
    defs = schema.get("$defs", {})
    missing: set[str] = set()
    visited: set[str] = set()

    def resolve(node: dict) -> tuple[dict, str | None]:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return defs[name], name
        if len(node.get("allOf", [])) == 1:
            return resolve(node["allOf"][0])
        return node, None

    def models_in(node: dict) -> list[tuple[dict, str | None]]:
        """Model schemas reachable from a property (directly, as array items or dict values)."""
        node, name = resolve(node)
        if "properties" in node:
            return [(node, name)]
        found = []
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                found += models_in(node[key])
        for key in ("prefixItems", "anyOf", "oneOf"):
            for sub in node.get(key, []):
                found += models_in(sub)
        return found

    def walk(model: dict, name: str) -> None:
        if name in visited:
            return
        visited.add(name)
        for prop, sub in model["properties"].items():
            children = models_in(sub)
            if children:
                for child, child_name in children:
                    walk(child, child_name or f"{name}.{prop}")
            elif not sub.get("description"):
                missing.add(f"{name}.{prop}")

    walk(schema, schema.get("title", "Scenario"))
    return missing


def test_json_schema_is_serialisable():
    schema = Scenario.model_json_schema()
    text = json.dumps(schema, ensure_ascii=False)
    assert json.loads(text) == schema


def test_json_schema_every_leaf_field_has_a_description():
    assert not _leaf_fields_without_description(Scenario.model_json_schema())
