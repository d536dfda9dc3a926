"""One-line scenario error messages: the key path, the value given, what is allowed.

Shared by the scenario loader (:mod:`sim.scenario.loader`: TOML files, ``extends``,
``--set``) and the experiment files (:mod:`sim.experiment.spec`), so both word a problem
alike (STYLE.md §7; DESIGN.md "Errors")::

    foo.toml: levers.capability.workers_per_grid = 0: must be ≥ 1 (Grid workers per grid (网格员))

Public helpers:

- :func:`describe_toml_error` — a :class:`tomllib.TOMLDecodeError` as one line, with the
  offending line of the file;
- :func:`describe_validation_error` — every problem of a scenario's
  :class:`~pydantic.ValidationError`, each with the file (or ``--set``) that set the key;
- :func:`allowed_text` — what a pydantic error type allows ("must be ≥ 1", "must be one
  of …; did you mean …?");
- :func:`walk_schema` — the type, field and description at a key path of
  :class:`~sim.scenario.schema.Scenario`; :func:`unwrap`, :func:`model_class` and
  :func:`literal_choices` for the types it returns;
- :func:`suggest`, :func:`dotted`, :func:`fmt_value`, :func:`quote`, :func:`one_line` —
  the pieces of a message: close matches, a key path, a value as TOML spells it.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from sim.scenario.schema import Scenario

__all__ = [
    "KeyPath",
    "allowed_text",
    "describe_toml_error",
    "describe_validation_error",
    "dotted",
    "fmt_value",
    "literal_choices",
    "model_class",
    "one_line",
    "quote",
    "suggest",
    "unwrap",
    "walk_schema",
]

_MAX_VALUE_CHARS = 80

KeyPath = tuple[str, ...]


# --------------------------------------------------------------------------- TOML syntax


_TOML_POS = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.S)
_TOML_END = re.compile(r"^(?P<msg>.*) \(at end of document\)$", re.S)


def describe_toml_error(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """A TOML syntax error as one line: where it is, the line itself, what is wrong.

    Parameters
    ----------
    exc : tomllib.TOMLDecodeError
        The parser's error.
    text : str
        The text that was parsed (to quote the offending line).

    Returns
    -------
    str
        E.g. ``TOML syntax error at line 3, column 7 in "days = ": Invalid value``.
    """
    message = str(exc)
    if m := _TOML_POS.match(message):
        line, col = int(m["line"]), int(m["col"])
        lines = text.splitlines()
        shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        snippet = f" in {_clip(json.dumps(shown, ensure_ascii=False))}" if shown else ""
        return f"TOML syntax error at line {line}, column {col}{snippet}: {m['msg']}"
    if m := _TOML_END.match(message):
        return f"TOML syntax error at end of file: {m['msg']} (an unfinished value or table?)"
    return f"TOML syntax error: {one_line(message)}"


# --------------------------------------------------------------------------- schema walk


def unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` wrappers."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def model_class(tp: Any) -> type[BaseModel] | None:
    """``tp`` if it is a pydantic model class (a table of the schema), else None."""
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def literal_choices(tp: Any) -> list[str]:
    """The allowed values of a ``Literal[...]`` type as strings (empty for other types)."""
    tp = unwrap(tp)
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    return []


def walk_schema(loc: Sequence[Any]) -> tuple[Any, FieldInfo | None, str]:
    """Follow ``loc`` through the schema: (type at loc, last field, nearest description).

    The type is ``None`` where the schema does not have ``loc``.
    """
    tp: Any = Scenario
    field: FieldInfo | None = None
    description = ""
    for part in loc:
        tp = unwrap(tp)
        model = model_class(tp)
        origin = typing.get_origin(tp)
        if model is not None and isinstance(part, str):
            field = model.model_fields.get(part)
            if field is None:
                return None, None, description
            tp = field.annotation
            description = field.description or description
        elif origin is dict:
            key_type, value_type = typing.get_args(tp)
            tp = key_type if part == "[key]" else value_type
        elif origin in (list, tuple) and isinstance(part, int):
            args = [a for a in typing.get_args(tp) if a is not Ellipsis]
            tp = args[min(part, len(args) - 1)] if origin is tuple and args else args[0]
        else:
            return None, field, description
    return unwrap(tp), field, description


# ----------------------------------------------------------------------- error messages


def describe_validation_error(exc: ValidationError, sources: dict[KeyPath, str], top: str) -> str:
    """Every problem of a scenario's validation as one line, the most telling first.

    Parameters
    ----------
    exc : pydantic.ValidationError
        From :meth:`Scenario.model_validate`.
    sources : dict
        The file (or ``--set``) that set each key path, as the loader recorded it.
    top : str
        The label used where no source is recorded (the file given by the user).

    Returns
    -------
    str
        ``"a.toml: x = 0: must be ≥ 1 (…); also b.toml: y: required key is missing"``.
    """
    errors = exc.errors(include_url=False)
    errors.sort(key=_error_rank)
    # every problem, each with its own file and key: "a.toml: x …; also b.toml: y …"
    return one_line("; also ".join(_format_one(err, sources, top) for err in errors))


def _error_rank(err: Mapping[str, Any]) -> int:
    # A typo'd key usually explains the other errors of its table (a missing key among
    # them), so show it first and a missing key last; otherwise keep the schema order.
    loc = err["loc"]
    if err["type"] == "extra_forbidden" or (loc and loc[-1] == "[key]"):
        return 0
    return 2 if err["type"] == "missing" else 1


def _format_one(err: Mapping[str, Any], sources: dict[KeyPath, str], top: str) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    key_loc = loc[:-1] if loc and loc[-1] == "[key]" else loc
    path = dotted(key_loc)
    where = _source_of(key_loc, sources, top)

    if kind == "extra_forbidden":
        parent_type, _, _ = walk_schema(loc[:-1])
        model = model_class(parent_type)
        allowed = list(model.model_fields) if model else []
        in_text = dotted(loc[:-1]) or "the top level"
        hint = suggest(str(loc[-1]), allowed) if allowed else "remove it"
        return f"{where}: {path} = {fmt_value(value)}: unknown key in {in_text}; {hint}"

    if kind == "missing":
        _, field, _ = walk_schema(loc)
        desc = f" ({field.description})" if field and field.description else ""
        return f"{where}: {path}: required key is missing{desc}"

    if loc and loc[-1] == "[key]":
        parent_type, _, description = walk_schema(loc[:-2])
        key_type = typing.get_args(parent_type)[0] if typing.get_origin(parent_type) else None
        choices = literal_choices(key_type)
        allowed = suggest(str(value), choices, noun="key") if choices else one_line(err["msg"])
        desc = f" ({description})" if description else ""
        return f"{where}: {path}: unknown key {quote(str(value))}; {allowed}{desc}"

    tp, _, description = walk_schema(loc)
    desc = f" ({description})" if description else ""

    if kind in ("value_error", "assertion_error"):
        reason = str(ctx.get("error") or err["msg"])
        reason = re.sub(r"^(Value error|Assertion failed), ", "", reason)
        where = _source_named_in(reason, sources) or where
        return f"{where}: {path}: {reason}" if path else f"{where}: {reason}"

    rule = allowed_text(kind, ctx, err["msg"], value, tp)
    return f"{where}: {path} = {fmt_value(value)}: {rule}{desc}"


def allowed_text(kind: str, ctx: Mapping[str, Any], msg: str, value: Any, tp: Any) -> str:
    """What a value must be, from a pydantic error (``"must be ≥ 1"``, ``"must be one of …"``).

    Parameters
    ----------
    kind, ctx, msg
        The error's ``type``, ``ctx`` and ``msg`` (:meth:`ValidationError.errors`).
    value : Any
        The value given (for "did you mean" and "got a string").
    tp : Any
        The expected type (its ``Literal`` choices are listed).

    Returns
    -------
    str
        The rule, lower case, without the key path or the value.
    """
    bounds = {
        "greater_than_equal": ("≥", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("≤", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        sign, key = bounds[kind]
        return f"must be {sign} {_fmt_number(ctx.get(key))}"
    if kind == "literal_error":
        choices = literal_choices(tp)
        if not choices:
            return f"must be one of {ctx.get('expected')}"
        allowed = "must be one of " + ", ".join(_toml_literal(c) for c in choices)
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
        return f"{allowed}; did you mean {_toml_literal(close[0])}?" if close else allowed
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "int_from_float":
        return "must be a whole number (an integer)"
    if kind == "finite_number":
        return "must be a finite number (not nan or inf)"
    type_words = {
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "string": "a string",
        "dict": "a table",
        "model": "a table",
        "list": "an array",
        "tuple": "an array",
    }
    for prefix, words in type_words.items():
        if kind.startswith(f"{prefix}_"):
            return f"must be {words}, got {_type_name(value)}"
    return one_line(msg[0].lower() + msg[1:] if msg else kind)


def _source_of(loc: Sequence[Any], sources: dict[KeyPath, str], top: str) -> str:
    """The file (or ``--set``) that last set ``loc`` or its nearest ancestor."""
    keys = [str(p) for p in loc if isinstance(p, str)]
    # List items have no entry of their own: the array's source applies.
    for n in range(len(keys), 0, -1):
        label = sources.get(tuple(keys[:n]))
        if label is not None:
            return label
    return top


def _source_named_in(reason: str, sources: dict[KeyPath, str]) -> str | None:
    """The source of a dotted key path quoted in a validator's message, if any.

    Model-level validators (e.g. the pending-lever check) name the offending key in their
    message; the error's own location is the model, so look the named key up instead.
    """
    for token in re.findall(r"[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+", reason):
        label = sources.get(tuple(token.split(".")))
        if label is not None:
            return label
    return None


def suggest(given: str, allowed: Sequence[str], noun: str = "key") -> str:
    """``"did you mean 'a' or 'b'?"`` for close matches of ``given``, else the allowed list."""
    close = difflib.get_close_matches(given, list(allowed), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(quote(c) for c in close) + "?"
    return f"allowed {noun}s: " + ", ".join(allowed)


# --------------------------------------------------------------------------- formatting


def dotted(loc: Sequence[Any]) -> str:
    """A pydantic error location as a key path: ``("a", "b", 0, "c")`` → ``"a.b[0].c"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def fmt_value(value: Any) -> str:
    """A value as TOML would spell it, clipped to one short line."""
    return _clip(_toml_literal(value))


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return _fmt_number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{k} = {_toml_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    return one_line(repr(value))


def _fmt_number(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
    return str(value)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def quote(text: str) -> str:
    """``text`` on one line in single quotes."""
    return "'" + one_line(str(text)) + "'"


def _clip(text: str) -> str:
    text = one_line(text)
    if len(text) > _MAX_VALUE_CHARS:
        return text[: _MAX_VALUE_CHARS - 1] + "…"
    return text


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines too) as one space."""
    return " ".join(str(text).split())
