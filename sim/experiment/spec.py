"""Experiment files: what to run, validated once at the edge with one-line errors.

An experiment file is TOML with a top-level ``kind``:

``kind = "compare"``
    ``scenarios`` (scenario files, the first is the reference) × ``replications``.
``kind = "sweep"``
    A ``base`` scenario and ``[[factors]]`` varied over a full-factorial grid
    (``design = "factorial"``) or a Latin hypercube (``design = "lhs"``, ``samples`` points).
``kind = "sensitivity"``
    A ``base`` scenario and ``[[factors]]`` with ranges, sampled for SALib's Morris or Sobol
    method (``method``, ``samples`` = N, ``levels``, ``second_order``).

Common keys: ``name``, ``title_zh``, ``title_en``, ``description``, ``seed`` (the
experiment seed from which every replication's seed is derived; default the first
scenario's seed), ``replications``, ``days``, ``scale``, ``set`` (``key.path=value``
overrides applied to every scenario, as ``--set``) and ``metrics`` (summary keys to
report; default all of :data:`sim.metrics_schema.SUMMARY_KEYS`). Scenario paths are
relative to the experiment file. See ``experiments/README.md`` for the full reference.

Every problem raises :class:`~sim.errors.GovsimError` with one line naming the file, the
key path, the value and what is allowed, in the style of scenario files::

    experiments/x.toml: replications = 0: must be ≥ 1 (Replications per scenario or point)
    experiments/x.toml: factors[0].path = "levers.data.sharing": unknown key 'sharing' ...
"""

from __future__ import annotations

import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import GovsimError
from sim.metrics_schema import SUMMARY_KEYS
from sim.scenario.messages import (
    allowed_text,
    describe_toml_error,
    dotted,
    fmt_value,
    one_line,
    suggest,
    walk_schema,
)

KINDS = ("compare", "sweep", "sensitivity")
MetricKey = Literal[tuple(SUMMARY_KEYS)]  # type: ignore[valid-type]
Scalar = bool | int | float | str
NOT_FACTORS = {
    "seed": "each replication sets its own seed; vary replications instead",
    "name": "a label, not a model input",
    "title_zh": "a label, not a model input",
    "title_en": "a label, not a model input",
    "description": "a label, not a model input",
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Factor(_Model):
    """One lever or uncertainty to vary: a scenario key path and its values or range."""

    path: str = Field(
        min_length=1,
        description="Dotted scenario key path, e.g. levers.data.centre_integration",
    )
    values: list[Scalar] | None = Field(
        None, min_length=1, description="Explicit levels (factorial designs)"
    )
    range: tuple[float, float] | None = Field(
        None, description="[low, high]: sampled (lhs, sensitivity) or split into `levels`"
    )
    levels: int | None = Field(
        None, ge=2, le=1000, description="Evenly spaced levels over `range` (factorial designs)"
    )

    @model_validator(mode="after")
    def _one_of(self) -> Factor:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values = [...] or range = [low, high], not both/neither")
        if self.range is not None:
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
                raise ValueError(f"range = [{lo}, {hi}] must be [low, high] with low < high")
        if self.levels is not None and self.range is None:
            raise ValueError("levels goes with range = [low, high]; with values it is implied")
        return self


class _Experiment(_Model):
    name: str = Field(
        pattern=r"^[A-Za-z0-9_\-]+$", description="Short identifier used in folder names"
    )
    title_zh: str = Field("", description="Chinese title shown in reports")
    title_en: str = Field("", description="English title")
    description: str = Field("", description="What the experiment shows")
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="Experiment seed (default: the first scenario's)"
    )
    replications: int = Field(ge=1, le=100_000, description="Replications per scenario or point")
    days: int | None = Field(None, ge=1, le=36_500, description="Days simulated (overrides)")
    scale: float | None = Field(None, gt=0.0, le=1.0, description="Population fraction")
    set: list[str] = Field(
        default_factory=list, description="key.path=value overrides applied to every scenario"
    )
    metrics: list[MetricKey] | None = Field(  # type: ignore[valid-type]
        None, min_length=1, description="Summary metrics to report (default: all)"
    )


class CompareExperiment(_Experiment):
    """Scenarios against the first one, with common random numbers."""

    kind: Literal["compare"]
    scenarios: list[str] = Field(
        min_length=1,
        description="Scenario files, relative to this file; the first is the reference",
    )
    ci_width: list[str] = Field(
        default_factory=list,
        description='Requested 95 % CI widths: "0.05" (relative) or "metric=W" (absolute)',
    )
    shared_warmup: bool = Field(
        False,
        description="Warm every scenario up under the reference's levers and fork one "
        "warmed-up model per seed (snapshot) for all scenarios with the same city; each "
        "scenario's own levers act from day 0",
    )


class SweepExperiment(_Experiment):
    """Levers or uncertainties varied over a grid or a Latin hypercube."""

    kind: Literal["sweep"]
    base: str = Field(min_length=1, description="Base scenario file, relative to this file")
    design: Literal["factorial", "lhs"] = Field("factorial", description="Sampling design")
    samples: int | None = Field(None, ge=1, le=1_000_000, description="Points of an lhs design")
    factors: list[Factor] = Field(min_length=1, max_length=64, description="What to vary")

    @model_validator(mode="after")
    def _design(self) -> SweepExperiment:
        if self.design == "lhs":
            if self.samples is None:
                raise ValueError('design = "lhs" needs samples = N (the number of points)')
            for i, f in enumerate(self.factors):
                if f.range is None:
                    raise ValueError(
                        f'factors[{i}] ({f.path}): design = "lhs" needs range = [low, high]'
                    )
        else:
            if self.samples is not None:
                raise ValueError('samples goes with design = "lhs"; a factorial grid is complete')
            for i, f in enumerate(self.factors):
                if f.range is not None and f.levels is None:
                    raise ValueError(
                        f"factors[{i}] ({f.path}): a factorial range needs levels = K "
                        "(or give values = [...])"
                    )
        paths = [f.path for f in self.factors]
        if len(set(paths)) != len(paths):
            raise ValueError(f"factors repeat a path: {paths}")
        return self


class SensitivityExperiment(_Experiment):
    """Global sensitivity analysis with SALib (Morris screening or Sobol indices)."""

    kind: Literal["sensitivity"]
    base: str = Field(min_length=1, description="Base scenario file, relative to this file")
    method: Literal["morris", "sobol"] = Field("morris", description="SALib method")
    samples: int = Field(
        ge=2, le=1_000_000, description="N: Morris trajectories r, or Sobol base samples"
    )
    levels: int = Field(4, ge=2, le=100, description="Morris grid levels p")
    second_order: bool = Field(False, description="Sobol: also second-order indices")
    convergence: bool = Field(True, description="Run 2N and compare indices at N and 2N")
    tolerance: float = Field(
        0.1, gt=0.0, le=1.0, description="Convergence: largest change of an index allowed"
    )
    factors: list[Factor] = Field(min_length=1, max_length=64, description="What to vary")

    @model_validator(mode="after")
    def _ranges(self) -> SensitivityExperiment:
        for i, f in enumerate(self.factors):
            if f.range is None:
                raise ValueError(f"factors[{i}] ({f.path}): sensitivity needs range = [low, high]")
            if f.levels is not None:
                raise ValueError(f"factors[{i}] ({f.path}): levels is for factorial sweeps")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"Sobol samples = {self.samples} must be a power of 2, e.g. 64")
        paths = [f.path for f in self.factors]
        if len(set(paths)) != len(paths):
            raise ValueError(f"factors repeat a path: {paths}")
        return self


MODELS: dict[str, type[_Experiment]] = {
    "compare": CompareExperiment,
    "sweep": SweepExperiment,
    "sensitivity": SensitivityExperiment,
}


# --------------------------------------------------------------------------- loading


def read_toml(path: Path, what: str = "experiment file") -> dict[str, Any]:
    """Parse a TOML file; every failure becomes a one-line :class:`GovsimError`.

    The message names the file and says what is wrong: no such file (with the folder a
    relative path was looked up from), a directory, not UTF-8, or the TOML syntax error
    with its line and column.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" (relative to the current folder {Path.cwd()})"
        raise GovsimError(f"{path}: no such file{where}; expected the {what}") from None
    except IsADirectoryError:
        raise GovsimError(f"{path}: is a directory, not a {what}") from None
    except UnicodeDecodeError as exc:
        raise GovsimError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise GovsimError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GovsimError(f"{path}: {_toml_error_text(exc, text)}") from None


def _toml_error_text(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """The syntax error with its line and column (at the end of the file: its last line)."""
    message = str(exc)
    end = " (at end of document)"
    if message.endswith(end):
        last = max(1, len(text.splitlines()))
        return (
            f"TOML syntax error at the end of the file (line {last}): {message[: -len(end)]} "
            "(an unfinished value, array or table?)"
        )
    return describe_toml_error(exc, text)


def is_experiment_file(path: str | Path) -> bool:
    """Whether ``path`` is a TOML file with a top-level ``kind`` (scenario files have none).

    Raises
    ------
    GovsimError
        The file does not exist, cannot be read or is not valid TOML: the error is
        reported, never taken for "not an experiment file".
    """
    return "kind" in read_toml(Path(path), "scenario or experiment file")


def load_experiment(path: str | Path, expect: str | None = None):
    """Read and validate an experiment file.

    Parameters
    ----------
    path
        The TOML file.
    expect
        ``"compare"``, ``"sweep"`` or ``"sensitivity"``: the command that runs it; another
        kind is an error naming the right command.

    Returns
    -------
    CompareExperiment | SweepExperiment | SensitivityExperiment
    """
    path = Path(path)
    data = read_toml(path)
    kind = data.get("kind")
    if kind not in KINDS:
        allowed = ", ".join(f'"{k}"' for k in KINDS)
        if kind is None:
            raise GovsimError(f"{path}: kind: required key is missing; allowed: {allowed}")
        raise GovsimError(f"{path}: kind = {fmt_value(kind)}: must be one of {allowed}")
    if expect is not None and kind != expect:
        raise GovsimError(
            f'{path}: kind = "{kind}": this is a {kind} experiment; run it with '
            f"`govsim {kind} {path}`, not `govsim {expect}`"
        )
    model = MODELS[kind]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise GovsimError(format_validation_error(exc, model, str(path))) from None


def validate_experiment(data: dict[str, Any], where: str = "experiment"):
    """Validate an in-memory experiment definition (as read from TOML)."""
    model = MODELS.get(data.get("kind", ""))
    if model is None:
        raise GovsimError(f"{where}: kind must be one of {', '.join(KINDS)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise GovsimError(format_validation_error(exc, model, where)) from None


# --------------------------------------------------------------------------- errors


def _walk_model(model: type[BaseModel], loc: tuple) -> tuple[Any, str, list[str]]:
    """(leaf type, nearest description, field names of the parent model) along ``loc``."""
    tp: Any = model
    description = ""
    parent_fields: list[str] = list(model.model_fields)
    for part in loc:
        while typing.get_origin(tp) in (typing.Union, types.UnionType, typing.Annotated):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            parent_fields = list(tp.model_fields)
            field = tp.model_fields.get(part)
            if field is None:
                return None, description, parent_fields
            tp = field.annotation
            description = field.description or description
        elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            args = [a for a in typing.get_args(tp) if a is not Ellipsis]
            tp = args[min(part, len(args) - 1)] if args else Any
        else:
            return None, description, parent_fields
    while typing.get_origin(tp) in (typing.Union, types.UnionType, typing.Annotated):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = args[0]
    return tp, description, parent_fields


def format_validation_error(exc: ValidationError, model: type[BaseModel], where: str) -> str:
    """Every problem on one line, the most telling first, as the scenario loader words them.

    ``where: problem 1; also problem 2; also …`` — an unknown key first (it often explains
    the others), a missing key last; no problem is left out.
    """
    errors = exc.errors(include_url=False)
    errors.sort(
        key=lambda e: 0 if e["type"] == "extra_forbidden" else (2 if e["type"] == "missing" else 1)
    )
    problems: list[str] = []
    for err in errors:
        text = _format_problem(err, model)
        if text not in problems:
            problems.append(text)
    return one_line(f"{where}: " + "; also ".join(problems))


def _format_problem(err: Any, model: type[BaseModel]) -> str:
    """One validation problem: ``key.path = value: rule (description)``."""
    loc = tuple(err["loc"])
    path = dotted(loc)
    value = err.get("input")
    kind = err["type"]
    if kind == "extra_forbidden":
        _, _, fields = _walk_model(model, loc[:-1] + ("__x__",))
        in_text = dotted(loc[:-1]) or "the top level"
        return (
            f"{path} = {fmt_value(value)}: unknown key in {in_text}; "
            f"{suggest(str(loc[-1]), fields)}"
        )
    if kind == "missing":
        _, desc, _ = _walk_model(model, loc)
        return f"{path}: required key is missing" + (f" ({desc})" if desc else "")
    if kind in ("value_error", "assertion_error"):
        reason = str((err.get("ctx") or {}).get("error") or err["msg"])
        return f"{path}: {reason}" if path else reason
    tp, desc, _ = _walk_model(model, loc)
    rule = allowed_text(kind, err.get("ctx") or {}, err["msg"], value, tp)
    return f"{path} = {fmt_value(value)}: {rule}" + (f" ({desc})" if desc else "")


# --------------------------------------------------------------------------- factors


def factor_type(path: str, where: str) -> Any:
    """The Python type of a scenario key path (``float``, ``int``, ``bool``, a Literal…).

    ``where`` prefixes the error message (e.g. ``"x.toml: factors[0].path"``).

    Raises
    ------
    GovsimError
        The scenario schema has no such key path, or it names a table, not a value.
    """
    keys = tuple(path.split("."))
    if keys[0] in NOT_FACTORS:
        raise GovsimError(f"{where} = {fmt_value(path)}: cannot be varied ({NOT_FACTORS[keys[0]]})")
    for n in range(1, len(keys) + 1):
        tp, field, _ = walk_schema(keys[:n])
        if tp is None:
            parent, _, _ = walk_schema(keys[: n - 1])
            fields = (
                list(parent.model_fields)
                if isinstance(parent, type) and issubclass(parent, BaseModel)
                else []
            )
            in_text = ".".join(keys[: n - 1]) or "the top level"
            hint = suggest(keys[n - 1], fields) if fields else "it is a value, not a table"
            raise GovsimError(
                f"{where} = {fmt_value(path)}: unknown key '{keys[n - 1]}' in {in_text} of "
                f"the scenario schema; {hint}"
            )
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        raise GovsimError(
            f"{where} = {fmt_value(path)}: is a table, not a value; name one of its keys, "
            "e.g. " + ", ".join(f"{path}.{k}" for k in list(tp.model_fields)[:3])
        )
    return tp
