"""A newcomer's first hour (issue 10): parallel runs on a cold numba cache, an idempotent
main command, a compile notice, a repository that stands alone.

The parallel test runs the real model through the ``govsim`` console script, as a user
does, with an empty private numba cache: it is slow (the kernels compile, once, in helper
processes on both cores) and runs in the slow suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
GOVSIM = str(Path(sys.executable).with_name("govsim"))
BASE = str(ROOT / "scenarios" / "yancheng.toml")
FINE = str(ROOT / "scenarios" / "fine_grids.toml")


def _env(cache: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_NUM_THREADS")}
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache)
    env.update(extra)
    return env


def _records(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for f in sorted((folder / "runs").glob("*.parquet")):
        t = pq.read_table(f)
        out[f.stem] = {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}
    return out


@pytest.mark.slow
def test_parallel_compare_on_a_cold_cache_equals_a_serial_run(tmp_path):
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    args = [GOVSIM, "compare", BASE, FINE, "--reps", "2", "--days", "5", "--scale", "0.002"]
    par = subprocess.run(
        [*args, "--workers", "2", "--out", str(tmp_path / "par")],
        capture_output=True, text=True, env=_env(cache, NUMBA_DEBUG_CACHE="1"), timeout=600,
        cwd=tmp_path,
    )  # fmt: skip
    assert par.returncode == 0, par.stderr[-3000:]
    # the kernels were compiled once, by helper processes on both cores (their output is
    # read by sim.kernels.compile), not by each worker on its first call
    assert "[cache] data saved to" not in par.stdout, par.stdout[-3000:]
    assert not (tmp_path / "par" / "failed").exists() or not any(
        (tmp_path / "par" / "failed").iterdir()
    ), par.stderr[-3000:]
    # the workers compiled every kernel once, on both cores (sim.kernels.compile): the
    # serial run finds them all in the cache and saves nothing to it
    ser = subprocess.run(
        [*args, "--workers", "0", "--out", str(tmp_path / "ser")],
        capture_output=True, text=True, env=_env(cache, NUMBA_DEBUG_CACHE="1"), timeout=600,
        cwd=tmp_path,
    )  # fmt: skip
    assert ser.returncode == 0, ser.stderr[-3000:]
    assert "[cache] data loaded from" in ser.stdout
    assert "[cache] data saved to" not in ser.stdout, ser.stdout[-3000:]
    a, b = _records(tmp_path / "par"), _records(tmp_path / "ser")
    assert len(a) == 4 and a.keys() == b.keys()
    for rid in a:
        assert a[rid].keys() == b[rid].keys()
        for col, x in a[rid].items():
            y = b[rid][col]
            assert x.dtype == y.dtype
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (rid, col)


def test_worker_modules_do_not_load_numba():
    """The forkserver preloads the worker module and every worker imports the CLI's main
    module before its initializer: neither may load numba before the thread count is set."""
    code = (
        "import sys, sim.experiment.worker, sim.cli, sim.experiment.executors; "
        "sim.cli.build_parser(); print('numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_limit_numba_threads_in_a_fresh_process_sizes_the_pool():
    code = (
        "from sim.experiment.worker import limit_numba_threads; "
        "n = limit_numba_threads(1); import numba; "
        "print(n, numba.config.NUMBA_NUM_THREADS, numba.get_num_threads())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env()
    )
    assert out.stdout.split() == ["1", "1", "1"]


def test_limit_numba_threads_after_numba_loaded_masks_and_keeps_the_setting():
    """With numba loaded (and its pool launched) the variable is left alone, so a later
    compilation does not raise 'Cannot set NUMBA_NUM_THREADS'."""
    code = (
        "import numba, numpy as np, os\n"
        "from numba import njit, prange\n"
        "@njit(parallel=True)\n"
        "def f(x):\n"
        "    s = 0.0\n"
        "    for i in prange(x.shape[0]):\n"
        "        s += x[i]\n"
        "    return s\n"
        "f(np.ones(10))\n"
        "from sim.experiment.worker import limit_numba_threads\n"
        "n = limit_numba_threads(1)\n"
        "@njit(parallel=True)\n"
        "def g(x):\n"
        "    s = 0.0\n"
        "    for i in prange(x.shape[0]):\n"
        "        s += 2 * x[i]\n"
        "    return s\n"
        "print(n, numba.get_num_threads(), g(np.ones(10)), os.environ.get('NUMBA_NUM_THREADS'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(
            NUMBA_NUM_THREADS="2"
        ),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "1", "20.0", "2"]


def test_repository_stands_alone():
    """No file of the product points outside the repository (issue 10, item 4)."""
    pattern = re.compile(r"\.\./shared|/work/shared")
    offenders = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".git", ".venv", "runs", "build"} or not path.is_file():
            continue
        if path.suffix not in {".py", ".md", ".toml", ".txt", ".ipynb", ".html", ".cfg", ""}:
            continue
        if rel.as_posix() == "tests/test_first_hour.py":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if pattern.search(text):
            offenders.append(rel.as_posix())
    assert offenders == []


def _run_cli(args: list[str], cwd: Path, cache: Path | None = None):
    return subprocess.run(
        [GOVSIM, "run", BASE, "--scale", "0.002", "--days", "5", "--no-figures", *args],
        capture_output=True, text=True, cwd=cwd, env=_env(cache), timeout=600,
    )  # fmt: skip


def _summary_lines(stdout: str) -> list[str]:
    return [ln for ln in stdout.splitlines() if "(" in ln and not ln.startswith("运行记录")]


def test_main_command_twice_shows_the_saved_run_and_force_recomputes(tmp_path):
    first = _run_cli(["--quiet"], tmp_path)
    assert first.returncode == 0, first.stderr
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 1
    stamp = (folders[0] / "manifest.json").stat().st_mtime_ns
    second = _run_cli(["--quiet"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "already in its folder" in second.stderr
    assert _summary_lines(second.stdout) == _summary_lines(first.stdout)
    assert (folders[0] / "manifest.json").stat().st_mtime_ns == stamp  # not rewritten
    forced = _run_cli(["--quiet", "--force"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "already in its folder" not in forced.stderr
    assert (folders[0] / "manifest.json").stat().st_mtime_ns != stamp
    assert _summary_lines(forced.stdout) == _summary_lines(first.stdout)


def test_main_command_refuses_a_folder_that_holds_another_run(tmp_path):
    out = tmp_path / "mine"
    assert _run_cli(["--quiet", "--out", str(out)], tmp_path).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    other = _run_cli(["--quiet", "--out", str(out), "--seed", "7"], tmp_path)
    assert other.returncode == 2
    assert "holds another run" in other.stderr and "--force" in other.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_one_run_is_said_to_be_one_draw(tmp_path):
    r = _run_cli(["--quiet"], tmp_path)
    assert "one run is one random draw" in r.stdout and "一次运行是一个随机抽样" in r.stdout


# The first run on a cold cache saying it compiles (with its progress bar), and a later
# run loading the kernels silently, are checked by .ci/run on the README's own main job
# (one cold compile there instead of a second one here).


def test_readme_says_what_one_run_is_and_how_to_get_the_headline():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "One run is one draw" in text
    assert "govsim compare experiments/headline.toml" in text
