"""The run folder: one run's manifest, daily metrics, summary and figures, written atomically.

Layout of a run folder::

    manifest.json    resolved scenario, run id, seed, versions, timings (UTF-8 JSON)
    daily.parquet    one row per day, one column per metric (sim.metrics_schema)
    summary.json     end-of-run numbers (sim.metrics_schema.SUMMARY_KEYS)
    figures/         PNG files, when a figures callback is given
    ...              any extra files the caller passes (e.g. traceback.txt)

Everything is built in a hidden temporary sibling folder and renamed into place, so a
killed run leaves no half-written record (a Parquet file is unreadable until its footer is
written), and an existing folder is replaced only with ``force=True``: the old folder is
moved aside first, the new one renamed in, and only then the old one deleted.

JSON cannot hold NaN or infinity: such floats are written as ``null``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__
from sim.errors import GovsimError
from sim.io import json_dumps

MANIFEST_FILE = "manifest.json"
DAILY_FILE = "daily.parquet"
SUMMARY_FILE = "summary.json"
EVENTS_FILE = "events.parquet"  # the event log (sim.events), with ``govsim run --events``
FIGURES_DIR = "figures"
_RESERVED = {MANIFEST_FILE, DAILY_FILE, SUMMARY_FILE, FIGURES_DIR}

PROVENANCE_PACKAGES = ("numpy", "numba", "mesa", "pyarrow", "pydantic", "scipy")
GIT_TIMEOUT_S = 5.0


# --------------------------------------------------------------------------- daily table


def _daily_table(daily: Mapping[str, np.ndarray] | pa.Table) -> pa.Table:
    """Daily metrics as an Arrow table, one column per array, dtypes kept."""
    if isinstance(daily, pa.Table):
        return daily
    columns = {}
    for name, values in daily.items():
        array = np.asarray(values)
        if array.ndim != 1:
            raise ValueError(f"daily column {name!r} must be 1-D, got shape {array.shape}")
        columns[str(name)] = pa.array(array)
    lengths = {len(column) for column in columns.values()}
    if len(lengths) > 1:
        shapes = {name: len(column) for name, column in columns.items()}
        raise ValueError(f"daily columns differ in length: {shapes}")
    return pa.table(columns)


# --------------------------------------------------------------------------- folder


def _refuse_existing(out_dir: Path) -> None:
    raise GovsimError(
        f"Run folder {out_dir} already exists; pass --out another folder or --force to replace it."
    )


def _check_replaceable(out_dir: Path) -> None:
    """With force: replace only an earlier run folder (or an empty folder), never a file.

    Guards against ``--out ~ --force`` deleting a home directory.
    """
    if not out_dir.is_dir() or out_dir.is_symlink():
        raise GovsimError(
            f"{out_dir} exists and is not a run folder; --force replaces only folders."
        )
    if not (out_dir / MANIFEST_FILE).is_file() and any(out_dir.iterdir()):
        raise GovsimError(
            f"{out_dir} exists and is not a govsim run folder (no {MANIFEST_FILE}); "
            "refusing to replace it even with --force: pass --out another folder."
        )


def _sibling(out_dir: Path, tag: str) -> Path:
    return out_dir.parent / f".{out_dir.name}.{tag}-{os.getpid()}-{secrets.token_hex(4)}"


def _fsync_tree(root: Path) -> None:
    """Flush the files and folders under ``root`` to disk (best effort)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _safe_relative(name: str) -> Path:
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"extra file name must be a relative path inside the run folder: {name!r}")
    if rel.parts[0] in _RESERVED:
        raise ValueError(f"extra file {name!r} would overwrite the run's own {rel.parts[0]}")
    return rel


def write_run(
    out_dir: Path,
    *,
    manifest: Mapping[str, Any],
    daily: Mapping[str, np.ndarray] | pa.Table,
    summary: Mapping[str, Any],
    figures: Callable[[Path], list[Path]] | None = None,
    force: bool = False,
    extra_files: Mapping[str, bytes] | None = None,
    added_files: Mapping[str, Path] | None = None,
) -> Path:
    """Write a run folder atomically and return its path.

    Parameters
    ----------
    out_dir : Path
        The run folder to create. Parent folders are created as needed.
    manifest, summary : mapping
        Written as UTF-8 JSON (NaN and infinity as null).
    daily : mapping of column name to 1-D array, or pyarrow.Table
        Written as ``daily.parquet``, each array one column with its dtype.
    figures : callable, optional
        Called with the (temporary) ``figures/`` folder; writes its files there.
    force : bool
        Replace an existing run folder. Without it an existing ``out_dir`` is an error
        and nothing is written.
    extra_files : mapping of relative file name to bytes, optional
        More files to put in the folder (e.g. ``{"traceback.txt": b"..."}``).
    added_files : mapping of relative file name to path, optional
        Finished files written elsewhere during the run to put in the folder, e.g. the
        event log's Parquet file (``{EVENTS_FILE: path}``): hard-linked (copied if the file
        system cannot link), never read into memory. The sources are left in place; the
        caller removes them.

    Raises
    ------
    GovsimError
        ``out_dir`` exists and ``force`` is False, or ``out_dir`` is not a run folder.
        Whatever the error, the temporary folder is removed and an existing ``out_dir``
        is left as it was.
    """
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() or out_dir.is_symlink():
        if not force:
            _refuse_existing(out_dir)
        _check_replaceable(out_dir)
    extra = {_safe_relative(name): data for name, data in (extra_files or {}).items()}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(out_dir, "tmp")
    tmp.mkdir()
    try:
        # the folder is the atomic unit (renamed into place below), not each file in it
        (tmp / MANIFEST_FILE).write_text(json_dumps(manifest, indent=2) + "\n", "utf-8")
        pq.write_table(_daily_table(daily), tmp / DAILY_FILE)
        (tmp / SUMMARY_FILE).write_text(json_dumps(summary, indent=2) + "\n", "utf-8")
        for rel, data in extra.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        added = {_safe_relative(name): Path(src) for name, src in (added_files or {}).items()}
        for rel, src in added.items():
            try:
                os.link(src, tmp / rel)
            except OSError:
                shutil.copyfile(src, tmp / rel)
        if figures is not None:
            figures_dir = tmp / FIGURES_DIR
            figures_dir.mkdir()
            figures(figures_dir)
        _fsync_tree(tmp)
        _move_into_place(tmp, out_dir, force=force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(out_dir.parent)
    return out_dir


def _move_into_place(tmp: Path, out_dir: Path, *, force: bool) -> None:
    """Rename the finished temporary folder to ``out_dir`` (checking again for a new one)."""
    if not (out_dir.exists() or out_dir.is_symlink()):
        os.rename(tmp, out_dir)
        return
    if not force:
        _refuse_existing(out_dir)  # appeared while this run was writing
    _check_replaceable(out_dir)
    old = _sibling(out_dir, "old")
    os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_run(path: Path) -> dict[str, Any]:
    """Read a run folder.

    Returns ``{"path", "manifest", "summary", "daily" (pyarrow.Table), "figures"}``, the
    last a sorted list of the PNG files in ``figures/``.
    """
    path = Path(path)
    if not path.is_dir():
        raise GovsimError(f"Run folder {path} not found.")
    missing = [
        name for name in (MANIFEST_FILE, DAILY_FILE, SUMMARY_FILE) if not (path / name).is_file()
    ]
    if missing:
        raise GovsimError(f"{path} is not a complete run folder: missing {', '.join(missing)}.")
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
        summary = json.loads((path / SUMMARY_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise GovsimError(f"{path}: cannot read JSON ({exc}).") from exc
    daily = pq.read_table(path / DAILY_FILE)
    figures_dir = path / FIGURES_DIR
    figure_paths = sorted(figures_dir.glob("*.png")) if figures_dir.is_dir() else []
    return {
        "path": path,
        "manifest": manifest,
        "summary": summary,
        "daily": daily,
        "figures": figure_paths,
    }


# --------------------------------------------------------------------------- provenance


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(args: list[str], cwd: Path) -> str | None:
    """Output of a read-only git command, or None (no git, not a checkout, timeout)."""
    try:
        result = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _git_state() -> dict[str, Any]:
    """Commit and dirty flag of the checkout the sim package is imported from.

    A package installed into a virtualenv that happens to sit inside some repository is
    not "that repository's code": the package's own ``__init__.py`` must be tracked.
    """
    package_dir = Path(__file__).resolve().parent
    none = {"commit": None, "dirty": None}
    if _git(["ls-files", "--error-unmatch", "--", "__init__.py"], package_dir) is None:
        return none
    commit = _git(["rev-parse", "HEAD"], package_dir)
    if not commit:
        return none
    status = _git(["status", "--porcelain", "--untracked-files=no"], package_dir)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _usable_cpus() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count()


def provenance() -> dict[str, Any]:
    """Where and with what a run was made: versions, platform, git commit, command line.

    No host name or user name is recorded.
    """
    git = _git_state()
    return {
        "govsim": __version__,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": {name: _version(name) for name in PROVENANCE_PACKAGES},
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": _usable_cpus(),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "command": list(sys.argv),
        "timestamp_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (NaN where unknown, e.g. Windows)."""
    try:
        import resource  # Unix only: lazy, so that the module loads on Windows
    except ImportError:
        return math.nan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # macOS bytes, Linux KiB
    return peak / scale
