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

import hashlib
import json
import tomllib
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

import sim
from sim.errors import GovsimError
from sim.io import set_dotted
from sim.scenario.messages import (
    KeyPath,
    describe_toml_error,
    describe_validation_error,
    fmt_value,
    literal_choices,
    model_class,
    quote,
    suggest,
    unwrap,
)
from sim.scenario.schema import Scenario

__all__ = [
    "load_scenario",
    "parse_override",
    "resolve_dict",
    "scenario_hash",
]

EXTENDS_KEY = "extends"
_SET = "--set"


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
        raise GovsimError(describe_validation_error(exc, sources, top)) from None


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
        raise GovsimError(f"{_SET} {quote(text)}: {exc}") from None


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
            raise GovsimError(f"{_SET} {quote(text)} (applied to {top}): {exc}") from None

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
                f"{set_label}: {quote(text)}: '{EXTENDS_KEY}' cannot be overridden; "
                "write a file that extends the scenario instead"
            )
        _check_override_path(keys, value, set_label)
        set_dotted(merged, keys, value)
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
                f"{seen[-1][1]}: {EXTENDS_KEY} = {fmt_value(extends_text)}: cyclic extends "
                f"({cycle}); a file may not extend itself or a file that extends it"
            )
        via = f" (extends = {fmt_value(extends_text)} in {seen[-1][1]})" if seen else ""
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
                f"{label}: {EXTENDS_KEY} = {fmt_value(parent)}: must be a non-empty path "
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
        raise GovsimError(f"{path}: {describe_toml_error(exc, text)}{via}") from None


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
            f"{quote(key_text)} is not a dotted key path (letters, digits, _ and - "
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
    key_path = ".".join(keys)
    tp: Any = Scenario
    for i, key in enumerate(keys):
        tp = unwrap(tp)
        model = model_class(tp)
        if model is not None:
            field = model.model_fields.get(key)
            if field is None:
                where_in = ".".join(keys[:i]) or "the top level"
                raise GovsimError(
                    f"{where}: {key_path} = {fmt_value(value)}: unknown key "
                    f"{quote(key)} in {where_in}; "
                    f"{suggest(key, list(model.model_fields))}"
                )
            tp = field.annotation
            continue
        origin = typing.get_origin(tp)
        if origin is dict:
            key_type, tp = typing.get_args(tp)
            allowed = literal_choices(key_type)
            if allowed and key not in allowed:
                raise GovsimError(
                    f"{where}: {key_path} = {fmt_value(value)}: unknown key {quote(key)} in "
                    f"{'.'.join(keys[:i])}; {suggest(key, allowed)}"
                )
            continue
        parent = ".".join(keys[:i])
        raise GovsimError(
            f"{where}: {key_path} = {fmt_value(value)}: unknown path; {parent} is a value, "
            f"not a table, so it has no key {quote(key)} (set {parent}=... instead)"
        )
