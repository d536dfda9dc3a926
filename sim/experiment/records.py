"""The experiment folder: plan, provenance, one record file per run, written atomically.

Layout::

    DIR/experiment.json        the plan (sim.experiment.plan): groups, points, runs
    DIR/provenance.json        one entry per invocation: versions, git, command, sampler, executor
    DIR/runs/<run_id>.parquet  a finished run: the daily table (one row per day), with the
                               run's metadata and summary as JSON in the Parquet schema
                               metadata under the key ``govsim.record``
    DIR/failed/<run_id>.json   a run that raised: its traceback (removed once it succeeds)
    DIR/corrupt/<run_id>.parquet  a record that did not read back whole, moved aside (never
                               deleted) by the next compare/sweep/sensitivity, which reruns it
    DIR/.lock                  held (flock) by the process running the experiment
    DIR/table.csv, table.md, stats.json, report.html   results, rewritten from the records

Only the process that runs the experiment writes into the folder, one whole file at a
time: bytes go to a hidden temporary file in the same folder, are flushed and fsynced,
then ``os.replace``-d to their final name. A SIGKILL at any moment leaves each record
either complete or absent (a stray ``.tmp-*`` file at most, removed on the next start),
so a rerun skips exactly the runs present. Record names are run ids, so a run cannot be
stored twice.

A record counts as done only if it reads back whole: its Parquet footer is readable, it
carries the ``govsim.record`` metadata, and its row count equals the ``rows`` stored in
that metadata (``days`` for records written before ``rows`` was stored). A record that
fails (a truncated copy, a disk that filled up) is named in a :class:`RecordWarning`,
left out of the statistics, and moved to ``DIR/corrupt/`` by the next run of the
experiment, which redoes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import GovsimError
from sim.experiment.plan import Plan
from sim.io import TMP_PREFIX, atomic_write_bytes, atomic_write_json, json_dumps

PLAN_FILE = "experiment.json"
PROVENANCE_FILE = "provenance.json"
RUNS_DIR = "runs"
FAILED_DIR = "failed"
CORRUPT_DIR = "corrupt"
LOCK_FILE = ".lock"
RECORD_KEY = b"govsim.record"
RECORD_SUFFIX = ".parquet"
FAILED_SUFFIX = ".json"


class RecordWarning(UserWarning):
    """A run record that does not read back whole: named, left out, rerun on resume."""


def write_json(path: Path, data: Any) -> None:
    """``data`` as strict JSON (one space indent) in ``path``, written atomically."""
    atomic_write_json(path, data, indent=1)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GovsimError(f"{path}: not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise GovsimError(f"{path}: cannot read JSON ({exc})") from None


# --------------------------------------------------------------------------- the folder


class ExperimentFolder:
    """Paths and record I/O of one experiment folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / RUNS_DIR
        self.failed_dir = self.root / FAILED_DIR
        self.corrupt_dir = self.root / CORRUPT_DIR
        self.plan_path = self.root / PLAN_FILE
        self.provenance_path = self.root / PROVENANCE_FILE
        self._lock_fd: int | None = None
        # run id -> ((size, mtime_ns), problem or None): records are never rewritten in
        # place, so a check holds as long as the file's size and mtime do
        self._checked: dict[str, tuple[tuple[int, int], str | None]] = {}

    # -- setup

    def create(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise GovsimError(f"{self.root}: exists and is not a folder; pass another --out")
        if self.root.is_dir() and any(self.root.iterdir()) and not self.plan_path.is_file():
            raise GovsimError(
                f"{self.root}: folder exists and is not an experiment folder (no {PLAN_FILE}); "
                "pass another --out"
            )
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.failed_dir.mkdir(parents=True, exist_ok=True)

    def remove_temporaries(self) -> int:
        """Delete ``.tmp-*`` files left by a killed writer (call with the lock held)."""
        n = 0
        for folder in (self.root, self.runs_dir, self.failed_dir):
            if folder.is_dir():
                for p in folder.glob(f"{TMP_PREFIX}*"):
                    with contextlib.suppress(OSError):
                        p.unlink()
                        n += 1
        return n

    def lock(self) -> None:
        """Take the folder's lock, or raise if another process runs this experiment.

        An ``flock`` is released by the kernel when its holder dies, even by SIGKILL.
        """
        try:
            import fcntl  # Unix only: lazy, so that the module loads on Windows
        except ImportError:  # Windows: no lock
            return
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise GovsimError(
                f"{self.root}: another govsim process (pid {other}) is running this experiment; "
                "wait for it (govsim status shows progress) or pass another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- plan

    def read_plan(self) -> Plan:
        given = "give the folder that compare, sweep or sensitivity wrote (their --out; by "
        given += "default runs/<name>-<hash8>)"
        if not self.root.exists():
            raise GovsimError(f"{self.root}: folder does not exist; {given}")
        if not self.root.is_dir():
            raise GovsimError(f"{self.root}: is a file, not an experiment folder; {given}")
        if not self.plan_path.is_file():
            raise GovsimError(
                f"{self.root}: not an experiment folder: it has no {PLAN_FILE} (the plan that "
                f"compare, sweep and sensitivity write first); {given}"
            )
        return Plan.from_json(read_json(self.plan_path))

    # -- records

    def record_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}{RECORD_SUFFIX}"

    def failed_path(self, run_id: str) -> Path:
        return self.failed_dir / f"{run_id}{FAILED_SUFFIX}"

    def done_ids(self) -> set[str]:
        """Run ids whose record reads back whole; damaged ones are named in a warning."""
        good, bad = self.scan_records()
        for rid, problem in sorted(bad.items()):
            _warn(
                f"{self.record_path(rid)}: damaged run record — {problem}; left out of the "
                f"results; the next compare/sweep/sensitivity of {self.root} moves it to "
                f"{self.corrupt_dir}/ and runs it again"
            )
        return good

    def damaged_ids(self) -> dict[str, str]:
        """``{run_id: what is wrong}`` of the records that do not read back whole."""
        return self.scan_records()[1]

    def scan_records(self) -> tuple[set[str], dict[str, str]]:
        """(ids of records that read back whole, ``{run_id: problem}`` of the others)."""
        good: set[str] = set()
        bad: dict[str, str] = {}
        for rid in _ids(self.runs_dir, RECORD_SUFFIX):
            path = self.record_path(rid)
            try:
                st = path.stat()
            except FileNotFoundError:  # moved aside meanwhile
                continue
            key = (st.st_size, st.st_mtime_ns)
            cached = self._checked.get(rid)
            if cached is None or cached[0] != key:
                cached = (key, check_record(path))
                self._checked[rid] = cached
            if cached[1] is None:
                good.add(rid)
            else:
                bad[rid] = cached[1]
        return good, bad

    def set_aside_damaged(self) -> list[tuple[Path, Path, str]]:
        """Move the damaged records to ``corrupt/`` (call with the lock held).

        Nothing is deleted or overwritten: a name already in ``corrupt/`` gets a suffix
        (``<run_id>.1.parquet``…). Returns ``(from, to, problem)`` per record moved.
        """
        moved = []
        for rid, problem in sorted(self.damaged_ids().items()):
            src = self.record_path(rid)
            self.corrupt_dir.mkdir(parents=True, exist_ok=True)
            dest = self.corrupt_dir / src.name
            n = 0
            while dest.exists():
                n += 1
                dest = self.corrupt_dir / f"{rid}.{n}{RECORD_SUFFIX}"
            os.replace(src, dest)
            self._checked.pop(rid, None)
            moved.append((src, dest, problem))
        return moved

    def failed_ids(self) -> set[str]:
        return _ids(self.failed_dir, FAILED_SUFFIX)

    def write_record(self, run_id: str, data: bytes) -> None:
        atomic_write_bytes(self.record_path(run_id), data)
        with contextlib.suppress(FileNotFoundError):
            self.failed_path(run_id).unlink()

    def write_failure(self, run_id: str, info: dict[str, Any]) -> None:
        write_json(self.failed_path(run_id), info)

    def read_failure(self, run_id: str) -> dict[str, Any]:
        return read_json(self.failed_path(run_id))

    def read_meta(self, run_id: str) -> dict[str, Any]:
        """A record's metadata and summary (reads the Parquet footer only)."""
        path = self.record_path(run_id)
        try:
            return record_meta(pq.read_schema(path))
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise GovsimError(f"{path}: {_damage_text(exc)}") from None

    def read_daily(self, run_id: str, columns: list[str] | None = None) -> pa.Table:
        """A record's daily table (``columns`` it lacks are left out).

        Raises
        ------
        GovsimError
            The record cannot be read back (a damaged file), naming it.
        """
        path = self.record_path(run_id)
        try:
            if columns is not None:
                have = set(pq.read_schema(path).names)
                columns = [c for c in columns if c in have]
            return pq.read_table(path, columns=columns)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise GovsimError(f"{path}: {_damage_text(exc)}") from None

    def iter_meta(self, run_ids) -> Iterator[tuple[str, dict[str, Any]]]:
        for rid in run_ids:
            yield rid, self.read_meta(rid)


def _ids(folder: Path, suffix: str) -> set[str]:
    if not folder.is_dir():
        return set()
    return {
        name[: -len(suffix)]
        for name in os.listdir(folder)
        if name.endswith(suffix) and not name.startswith(".")
    }


def _warn(message: str) -> None:
    # always from this line: the default filter shows each message once per process
    warnings.warn(message, RecordWarning, stacklevel=1)


def _arrow_text(exc: BaseException) -> str:
    """pyarrow's message, its first sentence, on one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.split(". ")[0].rstrip(".")


def _damage_text(exc: BaseException) -> str:
    return f"damaged run record, cannot be read back ({_arrow_text(exc)})"


def check_record(path: Path) -> str | None:
    """What is wrong with a run record, or ``None`` if it reads back whole.

    Reads the Parquet footer only: it must be readable (a truncated file has none), hold
    the ``govsim.record`` metadata, and count as many rows as that metadata's ``rows``
    (``days`` in records written before ``rows`` was stored).
    """
    try:
        md = pq.read_metadata(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        return f"truncated or damaged: its Parquet footer cannot be read ({_arrow_text(exc)})"
    raw = (md.metadata or {}).get(RECORD_KEY)
    if raw is None:
        return "no govsim.record metadata; not a complete govsim run record"
    try:
        meta = json.loads(raw)
    except ValueError:
        return "its govsim.record metadata is not valid JSON"
    expected = meta.get("rows", meta.get("days")) if isinstance(meta, dict) else None
    if expected is not None and md.num_rows != expected:
        return f"{md.num_rows} daily rows where its metadata records {expected}"
    return None


def record_meta(schema: pa.Schema) -> dict[str, Any]:
    meta = schema.metadata or {}
    if RECORD_KEY not in meta:
        raise GovsimError("not a govsim run record (no govsim.record metadata)")
    return json.loads(meta[RECORD_KEY])


def encode_record(daily: dict[str, Any], meta: dict[str, Any]) -> bytes:
    """A run record as Parquet bytes: the daily table, ``meta`` in the schema metadata."""
    cols = {str(k): pa.array(np.asarray(v)) for k, v in daily.items()}
    table = pa.table(cols) if cols else pa.table({"day": pa.array([], pa.int64())})
    meta = {**meta, "rows": table.num_rows}  # checked when the record is read back
    table = table.replace_schema_metadata({RECORD_KEY: json_dumps(meta).encode("utf-8")})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


# --------------------------------------------------------------------------- status


def status(root: str | Path) -> dict[str, Any]:
    """``{done, failed, pending, failed_ids}`` of an experiment folder (safe while it runs).

    ``done`` counts runs of the plan whose record reads back whole, ``failed`` those with
    a failed record and no record, ``pending`` the rest. ``failed_ids`` lists the failed
    run ids. Damaged records (see the module docstring) count as pending, are named in a
    :class:`RecordWarning` and listed under ``damaged_ids`` (a key present only then).
    """
    folder = ExperimentFolder(root)
    plan = folder.read_plan()
    planned = [r["run_id"] for r in plan.unique_runs()]
    done = folder.done_ids()
    failed = folder.failed_ids() - done
    n_done = sum(1 for r in planned if r in done)
    failed_ids = [r for r in planned if r in failed]
    out: dict[str, Any] = {
        "done": n_done,
        "failed": len(failed_ids),
        "pending": len(planned) - n_done - len(failed_ids),
        "failed_ids": failed_ids,
    }
    damaged = folder.damaged_ids()
    if damaged:
        out["damaged_ids"] = [r for r in planned if r in damaged]
    return out
