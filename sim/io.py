"""Files and plain data: atomic writes, strict JSON, dotted key paths.

The one home of three small helpers that run folders (:mod:`sim.store`), experiment
folders (:mod:`sim.experiment.records`), benchmarks (:mod:`sim.bench`), experiment plans
and scenario overrides share:

- :func:`atomic_write_bytes` / :func:`atomic_write_json` — a file is either complete or
  absent, never half-written;
- :func:`jsonable` / :func:`json_dumps` — strict JSON (NaN and ±inf as ``null``) from
  NumPy scalars and arrays, paths, dates and pydantic models;
- :func:`set_dotted` — ``data["a"]["b"]["c"] = value`` for the key path ``"a.b.c"``;
- :func:`usable_cpus` — the cores this process may run on (executors, kernel compiling).

This module imports only the standard library and NumPy, so every layer can use it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "TMP_PREFIX",
    "atomic_write_bytes",
    "atomic_write_json",
    "json_dumps",
    "jsonable",
    "set_dotted",
]

TMP_PREFIX = ".tmp-"


# --------------------------------------------------------------------------- atomic files


def atomic_write_bytes(
    path: str | Path, data: bytes, *, fsync: bool = True, make_parents: bool = False
) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary sibling, then ``os.replace``.

    Parameters
    ----------
    path : str or Path
        The file to write; an existing file is replaced.
    data : bytes
        The whole content.
    fsync : bool
        Flush the temporary file to disk before the rename, so that a crash of the
        machine (not only of the process) leaves the old or the new content.
    make_parents : bool
        Create missing parent folders first (otherwise a missing folder is an error).

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    The temporary file is ``<folder>/.tmp-<name>.<pid>.<random>``: hidden, in the same
    folder (a rename across file systems is not atomic), and removed if the write fails.
    A process killed mid-write (SIGKILL) can leave it behind; folders that must be clean
    delete ``.tmp-*`` files on their next start (:data:`TMP_PREFIX`).
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{TMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(3)}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def atomic_write_json(
    path: str | Path,
    obj: Any,
    *,
    indent: int | None = 2,
    fsync: bool = True,
    make_parents: bool = False,
) -> Path:
    """Write ``obj`` as strict UTF-8 JSON (a final newline) with :func:`atomic_write_bytes`.

    Parameters
    ----------
    path : str or Path
        The file to write; an existing file is replaced.
    obj : Any
        Anything :func:`jsonable` accepts.
    indent : int or None
        Passed to :func:`json.dumps`.
    fsync, make_parents : bool
        As for :func:`atomic_write_bytes`.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    TypeError
        ``obj`` holds a value JSON cannot represent; nothing is written.
    """
    text = json_dumps(obj, indent=indent) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync, make_parents=make_parents)


# --------------------------------------------------------------------------- JSON


def jsonable(obj: Any) -> Any:
    """A copy of ``obj`` that ``json.dumps(allow_nan=False)`` accepts.

    Parameters
    ----------
    obj : Any
        Mappings (keys become strings), lists, tuples and sets (become lists), NumPy
        arrays and scalars, Python numbers, strings, booleans and None, paths, dates and
        datetimes, pydantic models, nested in any way.

    Returns
    -------
    Any
        Plain Python data: dicts, lists, numbers, strings, booleans and None. NumPy
        values become Python numbers and lists, paths strings, dates ISO 8601 strings,
        pydantic models their JSON dump; NaN and ±inf become None.

    Raises
    ------
    TypeError
        For any other type (named in the message).
    """
    if isinstance(obj, Mapping):
        return {str(key): jsonable(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(value) for value in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if hasattr(obj, "model_dump"):  # pydantic model
        return jsonable(obj.model_dump(mode="json"))
    raise TypeError(f"cannot store a {type(obj).__name__} in JSON: {obj!r}")


def json_dumps(obj: Any, indent: int | None = None) -> str:
    """``obj`` as strict JSON text (via :func:`jsonable`; non-ASCII characters kept).

    Parameters
    ----------
    obj : Any
        Anything :func:`jsonable` accepts.
    indent : int or None
        Passed to :func:`json.dumps` (None: one line).

    Returns
    -------
    str
        The JSON text, without a final newline.
    """
    return json.dumps(jsonable(obj), ensure_ascii=False, allow_nan=False, indent=indent)


# --------------------------------------------------------------------------- key paths


def set_dotted(data: dict[str, Any], path: str | Sequence[str], value: Any) -> None:
    """Set ``data[a][b][c] = value`` for the key path ``"a.b.c"``, in place.

    Parameters
    ----------
    data : dict
        Nested dicts (e.g. a scenario as read from TOML).
    path : str or sequence of str
        Dotted (``"levers.capability.workers_per_grid"``) or already split.
    value : Any
        The value to store at the last key.

    Notes
    -----
    Missing tables on the way are created; a non-table value on the way is replaced by a
    new table (the caller validates the result, e.g. with :class:`~sim.scenario.Scenario`).
    """
    keys = path.split(".") if isinstance(path, str) else list(path)
    node = data
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value


def usable_cpus() -> int:
    """The cores this process may run on (its CPU affinity; all cores where there is none)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
