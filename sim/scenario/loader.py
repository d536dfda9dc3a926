"""Load a scenario file: TOML, ``extends`` chains, ``--set`` overrides, one-line errors.

A scenario file is TOML. It may name a parent with ``extends = "other.toml"`` (a path
relative to the extending file); parents may themselves extend. Files are deep-merged
from the root ancestor down: tables merge key by key, a child's values and arrays replace
the parent's. The schema defaults sit beneath the whole chain, so a file (or a ``--set``)
that gives one key of a table such as ``generation.rate_per_resident_year`` keeps the
defaults of the others. ``--set key.path=value`` overrides are applied last, each value
parsed as a TOML value (``true``, ``0.5``, ``"fifo"``, ``[1, 2]``) or, failing that, kept
as a bare string. The result is validated once with :meth:`Scenario.model_validate`.

Every problem raises :class:`~sim.errors.GovsimError` with one line naming the file, the
dotted key path, the value given and what is allowed (STYLE.md §7; DESIGN.md "Errors"),
then the field's description in brackets::

    foo.toml: levers.capability.workers_per_grid = 0: must be ≥ 1 (Grid workers per grid (网格员))
    --set (applied to foo.toml): handling.priority = "fast": must be one of "fifo", ...
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from sim.errors import GovsimError
from sim.scenario.schema import Scenario

__all__ = [
    "load_scenario",
    "parse_override",
    "resolve_dict",
    "scenario_hash",
]

EXTENDS_KEY = "extends"
_SET = "--set"
_MAX_VALUE_CHARS = 80

KeyPath = tuple[str, ...]


# --------------------------------------------------------------------------- public API


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, merge, override and validate a scenario file.

    Parameters
    ----------
    path
        The TOML file. ``extends`` targets are resolved relative to the extending file.
    overrides
        ``key.path=value`` strings, as given to ``--set``, applied after all files.

    Raises
    ------
    GovsimError
        For any unreadable file, TOML syntax error, cyclic ``extends``, malformed
        ``--set``, or value the schema rejects; the message is one line.
    """
    raw, sources, top = _resolve(path, overrides)
    data = _deep_merge(_schema_defaults(), raw)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise GovsimError(_format_validation_error(exc, sources, top)) from None


def resolve_dict(path: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The merged raw dict of a file, its ``extends`` chain and overrides, not validated.

    This is what the user wrote (``extends`` removed, schema defaults not filled in),
    useful as provenance next to the validated scenario.
    """
    raw, _, _ = _resolve(path, overrides)
    return raw


def scenario_hash(scenario: Scenario, model_version: str | None = None) -> str:
    """SHA-256 hex digest identifying a scenario and the model version that runs it.

    The digest covers the canonical JSON (sorted keys, no whitespace) of
    ``scenario.model_dump(mode="json")`` and the model version (default:
    ``sim.model_version()``: version and source digest), so it is stable across processes
    and machines and changes whenever the model's code does.
    """
    if model_version is None:
        import sim

        model_version = sim.model_version()
    payload = {"model_version": model_version, "scenario": scenario.model_dump(mode="json")}
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_override(text: str) -> tuple[list[str], object]:
    """Split a ``--set`` string ``key.path=value`` into its key path and parsed value.

    The key path is a TOML dotted key (``levers.capability.workers_per_grid``; quoted
    parts allowed). The value is parsed as a TOML value; if it does not parse, it is
    kept as a bare string, so ``handling.priority=fifo`` works without quotes.

    >>> parse_override("levers.capability.workers_per_grid=2")
    (['levers', 'capability', 'workers_per_grid'], 2)
    >>> parse_override("handling.priority=fifo")
    (['handling', 'priority'], 'fifo')
    """
    try:
        return _parse_override(text)
    except _OverrideError as exc:
        raise GovsimError(f"{_SET} {_quote(text)}: {exc}") from None


# ------------------------------------------------------------------------- file reading


class _OverrideError(ValueError):
    """A malformed ``--set``; the caller adds where it came from."""


def _resolve(path: str | Path, overrides: Sequence[str]) -> tuple[dict, dict[KeyPath, str], str]:
    """Merge the ``extends`` chain and the overrides; record which source set each key."""
    top = str(path)
    parsed = []
    for text in overrides:
        try:
            parsed.append((text, *_parse_override(text)))
        except _OverrideError as exc:
            raise GovsimError(f"{_SET} {_quote(text)} (applied to {top}): {exc}") from None

    chain = _read_chain(Path(path))  # root ancestor first
    merged: dict[str, Any] = {}
    sources: dict[KeyPath, str] = {}
    for label, data in chain:
        merged = _deep_merge(merged, data)
        _record_sources(data, (), label, sources)

    set_label = f"{_SET} (applied to {top})"
    for text, keys, value in parsed:
        if keys[0] == EXTENDS_KEY:
            raise GovsimError(
                f"{set_label}: {_quote(text)}: '{EXTENDS_KEY}' cannot be overridden; "
                "write a file that extends the scenario instead"
            )
        _check_override_path(keys, value, set_label)
        _set_in(merged, keys, value)
        _record_sources({keys[-1]: value}, tuple(keys[:-1]), set_label, sources)
        for i in range(1, len(keys)):
            sources[tuple(keys[:i])] = set_label
    return merged, sources, top


def _read_chain(path: Path) -> list[tuple[str, dict]]:
    """Read ``path`` and its ``extends`` ancestors; return them root ancestor first."""
    chain: list[tuple[str, dict]] = []
    seen: list[tuple[Path, str]] = []  # (resolved path, label), child first
    current: Path | None = path
    extends_text = ""
    while current is not None:
        label = str(current)
        identity = _identity(current)
        if any(resolved == identity for resolved, _ in seen):
            cycle = " → ".join([lbl for _, lbl in seen] + [label])
            raise GovsimError(
                f"{seen[-1][1]}: {EXTENDS_KEY} = {_fmt_value(extends_text)}: cyclic extends "
                f"({cycle}); a file may not extend itself or a file that extends it"
            )
        via = f" (extends = {_fmt_value(extends_text)} in {seen[-1][1]})" if seen else ""
        data = _read_toml(current, via)
        seen.append((identity, label))
        chain.append((label, data))
        parent = data.pop(EXTENDS_KEY, None)
        if parent is None:
            current = None
        elif isinstance(parent, str) and parent.strip():
            extends_text = parent
            current = current.parent / parent
        else:
            raise GovsimError(
                f"{label}: {EXTENDS_KEY} = {_fmt_value(parent)}: must be a non-empty path "
                'string to another scenario file, e.g. extends = "baseline.toml"'
            )
    chain.reverse()
    return chain


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _read_toml(path: Path, via: str) -> dict:
    """Parse one TOML file; every failure becomes a one-line :class:`GovsimError`.

    ``via`` says which file extends this one (empty for the file given by the user).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GovsimError(f"{path}: scenario file not found{via}") from None
    except IsADirectoryError:
        raise GovsimError(f"{path}: is a directory, not a scenario file{via}") from None
    except OSError as exc:
        raise GovsimError(f"{path}: cannot read scenario file{via}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GovsimError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}){via}; save the file as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GovsimError(f"{path}: {_describe_toml_error(exc, text)}{via}") from None


_TOML_POS = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.S)
_TOML_END = re.compile(r"^(?P<msg>.*) \(at end of document\)$", re.S)


def _describe_toml_error(exc: tomllib.TOMLDecodeError, text: str) -> str:
    message = str(exc)
    if m := _TOML_POS.match(message):
        line, col = int(m["line"]), int(m["col"])
        lines = text.splitlines()
        shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        snippet = f" in {_clip(json.dumps(shown, ensure_ascii=False))}" if shown else ""
        return f"TOML syntax error at line {line}, column {col}{snippet}: {m['msg']}"
    if m := _TOML_END.match(message):
        return f"TOML syntax error at end of file: {m['msg']} (an unfinished value or table?)"
    return f"TOML syntax error: {_one_line(message)}"


# --------------------------------------------------------------------------- merging


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge recursively; any other value (arrays included) in ``over`` replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        elif isinstance(value, Mapping):
            out[key] = _deep_merge({}, value)
        else:
            out[key] = value
    return out


def _record_sources(data: Any, prefix: KeyPath, label: str, sources: dict[KeyPath, str]) -> None:
    if not isinstance(data, Mapping):
        return
    for key, value in data.items():
        path = (*prefix, str(key))
        sources[path] = label
        _record_sources(value, path, label, sources)


def _set_in(data: dict[str, Any], keys: Sequence[str], value: Any) -> None:
    node = data
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value


def _schema_defaults() -> dict[str, Any]:
    """The defaults of every table-valued section, as plain dicts (beneath every file)."""
    out: dict[str, Any] = {}
    for name, field in Scenario.model_fields.items():
        if field.is_required():
            continue
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            out[name] = default.model_dump()
    return out


# --------------------------------------------------------------------------- overrides


def _parse_override(text: str) -> tuple[list[str], object]:
    example = "e.g. levers.capability.workers_per_grid=2"
    if "=" not in text:
        raise _OverrideError(f"expected key.path=value with an '=', {example}")
    key_text, value_text = (part.strip() for part in text.split("=", 1))
    if not key_text:
        raise _OverrideError(f"empty key path before '=', {example}")
    if "\n" in key_text or "\r" in key_text:
        raise _OverrideError("the key path must be on one line")
    try:
        nested = tomllib.loads(f"{key_text} = 0")
    except tomllib.TOMLDecodeError:
        hint = (
            "; array items cannot be set one by one, set the whole array" if "[" in key_text else ""
        )
        raise _OverrideError(
            f"{_quote(key_text)} is not a dotted key path (letters, digits, _ and - "
            f"between dots), {example}{hint}"
        ) from None
    keys: list[str] = []
    node: Any = nested
    while isinstance(node, dict):
        (key, node), *_ = node.items()
        keys.append(key)
    if not value_text:
        raise _OverrideError(
            f"no value after '=' for {'.'.join(keys)}; give a TOML value such as 0.5, "
            'true, "fifo" or [1, 2] (write "" for an empty string)'
        )
    return keys, _parse_value(value_text)


def _parse_value(text: str) -> object:
    if "\n" in text or "\r" in text:
        return text
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, KeyError):
        return text


def _check_override_path(keys: Sequence[str], value: Any, where: str) -> None:
    """Reject a ``--set`` path the schema does not have, naming the closest keys."""
    dotted = ".".join(keys)
    tp: Any = Scenario
    for i, key in enumerate(keys):
        tp = _unwrap(tp)
        model = _model_class(tp)
        if model is not None:
            field = model.model_fields.get(key)
            if field is None:
                where_in = ".".join(keys[:i]) or "the top level"
                raise GovsimError(
                    f"{where}: {dotted} = {_fmt_value(value)}: unknown key "
                    f"{_quote(key)} in {where_in}; "
                    f"{_suggest(key, list(model.model_fields))}"
                )
            tp = field.annotation
            continue
        origin = typing.get_origin(tp)
        if origin is dict:
            key_type, tp = typing.get_args(tp)
            allowed = _literal_choices(key_type)
            if allowed and key not in allowed:
                raise GovsimError(
                    f"{where}: {dotted} = {_fmt_value(value)}: unknown key {_quote(key)} in "
                    f"{'.'.join(keys[:i])}; {_suggest(key, allowed)}"
                )
            continue
        parent = ".".join(keys[:i])
        raise GovsimError(
            f"{where}: {dotted} = {_fmt_value(value)}: unknown path; {parent} is a value, "
            f"not a table, so it has no key {_quote(key)} (set {parent}=... instead)"
        )


# --------------------------------------------------------------------------- schema walk


def _unwrap(tp: Any) -> Any:
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


def _model_class(tp: Any) -> type[BaseModel] | None:
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _literal_choices(tp: Any) -> list[str]:
    tp = _unwrap(tp)
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    return []


def _walk(loc: Sequence[Any]) -> tuple[Any, FieldInfo | None, str]:
    """Follow ``loc`` through the schema: (type at loc, last field, nearest description).

    The type is ``None`` where the schema does not have ``loc``.
    """
    tp: Any = Scenario
    field: FieldInfo | None = None
    description = ""
    for part in loc:
        tp = _unwrap(tp)
        model = _model_class(tp)
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
    return _unwrap(tp), field, description


# ----------------------------------------------------------------------- error messages


def _format_validation_error(exc: ValidationError, sources: dict[KeyPath, str], top: str) -> str:
    errors = exc.errors(include_url=False)
    errors.sort(key=_error_rank)
    # every problem, each with its own file and key: "a.toml: x …; also b.toml: y …"
    return _one_line("; also ".join(_format_one(err, sources, top) for err in errors))


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
    path = _dotted(key_loc)
    where = _source_of(key_loc, sources, top)

    if kind == "extra_forbidden":
        parent_type, _, _ = _walk(loc[:-1])
        model = _model_class(parent_type)
        allowed = list(model.model_fields) if model else []
        in_text = _dotted(loc[:-1]) or "the top level"
        hint = _suggest(str(loc[-1]), allowed) if allowed else "remove it"
        return f"{where}: {path} = {_fmt_value(value)}: unknown key in {in_text}; {hint}"

    if kind == "missing":
        _, field, _ = _walk(loc)
        desc = f" ({field.description})" if field and field.description else ""
        return f"{where}: {path}: required key is missing{desc}"

    if loc and loc[-1] == "[key]":
        parent_type, _, description = _walk(loc[:-2])
        key_type = typing.get_args(parent_type)[0] if typing.get_origin(parent_type) else None
        choices = _literal_choices(key_type)
        allowed = _suggest(str(value), choices, noun="key") if choices else _one_line(err["msg"])
        desc = f" ({description})" if description else ""
        return f"{where}: {path}: unknown key {_quote(str(value))}; {allowed}{desc}"

    tp, _, description = _walk(loc)
    desc = f" ({description})" if description else ""

    if kind in ("value_error", "assertion_error"):
        reason = str(ctx.get("error") or err["msg"])
        reason = re.sub(r"^(Value error|Assertion failed), ", "", reason)
        where = _source_named_in(reason, sources) or where
        return f"{where}: {path}: {reason}" if path else f"{where}: {reason}"

    rule = _allowed_text(kind, ctx, err["msg"], value, tp)
    return f"{where}: {path} = {_fmt_value(value)}: {rule}{desc}"


def _allowed_text(kind: str, ctx: Mapping[str, Any], msg: str, value: Any, tp: Any) -> str:
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
        choices = _literal_choices(tp)
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
    return _one_line(msg[0].lower() + msg[1:] if msg else kind)


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


def _suggest(given: str, allowed: Sequence[str], noun: str = "key") -> str:
    close = difflib.get_close_matches(given, list(allowed), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(_quote(c) for c in close) + "?"
    return f"allowed {noun}s: " + ", ".join(allowed)


# --------------------------------------------------------------------------- formatting


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _fmt_value(value: Any) -> str:
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
    return _one_line(repr(value))


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


def _quote(text: str) -> str:
    return "'" + _one_line(str(text)) + "'"


def _clip(text: str) -> str:
    text = _one_line(text)
    if len(text) > _MAX_VALUE_CHARS:
        return text[: _MAX_VALUE_CHARS - 1] + "…"
    return text


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
