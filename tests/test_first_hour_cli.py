"""A newcomer's first hour (issue 10): the rough edges of ``govsim compare``, ``status``,
``report`` and ``app``, tested through the commands users type (``sim.cli.main`` or the
``govsim`` console script) with tiny real runs (1:1000, 3 days, 2 replications)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.experiment.records import RECORD_KEY

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "yancheng.toml"
FINE = ROOT / "scenarios" / "fine_grids.toml"
TINY = ["--days", "3", "--scale", "0.001", "--workers", "0"]


def govsim(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- 1. parse errors


def test_compare_reports_a_toml_syntax_error_not_missing_reps(tmp_path, capsys):
    bad = _write(tmp_path / "exp.toml", 'kind = "compare"\nname = "x"\nscenarios = [\n')
    code, _, err = govsim(capsys, "compare", bad)
    assert code == 2
    assert "--reps" not in err, err
    assert f"{bad}: TOML syntax error" in err and re.search(r"line \d+", err), err
    # a broken scenario file among several, without --reps: its error, not --reps
    broken = _write(tmp_path / "broken.toml", 'name = "b"\ndays = = 3\n')
    code, _, err = govsim(capsys, "compare", BASE, broken)
    assert code == 2 and "--reps" not in err, err
    assert f"{broken}: TOML syntax error" in err and re.search(r"line 2", err), err


def test_compare_reports_a_missing_file_not_missing_reps(tmp_path, capsys):
    missing = tmp_path / "nosuch.toml"
    code, _, err = govsim(capsys, "compare", missing)
    assert code == 2 and "--reps" not in err, err
    assert f"{missing}: no such file" in err, err
    code, _, err = govsim(capsys, "compare", BASE, missing, "--reps", "2")
    assert code == 2 and f"{missing}: no such file" in err, err


# --------------------------------------------------------------------------- 2. flags


@pytest.mark.parametrize(
    ("flag", "value", "rule"),
    [
        ("--days", "-5", "must be ≥ 1"),
        ("--scale", "0", "must be > 0"),
        ("--seed", "-1", "must be ≥ 0"),
    ],
)
def test_bad_flags_are_reported_as_the_flag_typed(tmp_path, capsys, flag, value, rule):
    code, _, err = govsim(
        capsys, "compare", BASE, FINE, "--reps", "2", flag, value, "--out", tmp_path / "o"
    )
    assert code == 2, err
    assert f"{flag} {value}: {rule}" in err, err
    assert "--set" not in err and "scenarios[0]" not in err, err
    assert not (tmp_path / "o").exists()


def test_bad_days_flag_with_an_experiment_file(tmp_path, capsys):
    exp = _write(
        tmp_path / "e.toml",
        f'kind = "compare"\nname = "e"\nreplications = 2\nscenarios = ["{BASE.as_posix()}"]\n',
    )
    code, _, err = govsim(capsys, "compare", exp, "--days", "-5", "--out", tmp_path / "o")
    assert code == 2 and "--days -5: must be ≥ 1" in err and "--set" not in err, err


def test_bad_samples_flag_is_reported_as_the_flag_typed(tmp_path, capsys):
    exp = ROOT / "experiments" / "sensitivity_example.toml"
    code, _, err = govsim(capsys, "sensitivity", exp, "--samples", "0", "--out", tmp_path / "o")
    assert code == 2 and "--samples 0: must be ≥ 2" in err and "with options" not in err, err


# --------------------------------------------------------------------------- 3. every problem


def test_every_problem_of_an_experiment_file_is_shown(tmp_path, capsys):
    exp = _write(
        tmp_path / "e.toml",
        'kind = "compare"\nname = "e"\nreplications = 0\ndays = -5\nscale = 7\n'
        f'scenarios = ["{BASE.as_posix()}"]\n',
    )
    code, _, err = govsim(capsys, "compare", exp)
    assert code == 2
    assert "more)" not in err, err
    for needle in ("replications = 0: must be ≥ 1", "days = -5: must be ≥ 1", "scale = 7"):
        assert needle in err, err
    assert err.count("\n") == 1, err  # still one line


# --------------------------------------------------------------------------- 4. status


def test_status_of_a_missing_folder_says_it_does_not_exist(tmp_path, capsys):
    code, _, err = govsim(capsys, "status", tmp_path / "nope")
    assert code == 2 and "does not exist" in err and "not an experiment folder" not in err, err
    (tmp_path / "plain").mkdir()
    code, _, err = govsim(capsys, "status", tmp_path / "plain")
    assert code == 2 and "experiment.json" in err and "does not exist" not in err, err
    code, _, err = govsim(capsys, "report", tmp_path / "nope")
    assert code == 2 and "does not exist" in err, err


# --------------------------------------------------------------------------- 5. output


def test_compare_prints_one_overview_table_and_says_where_the_rest_is(tmp_path, capsys):
    out = tmp_path / "cmp"
    code, text, err = govsim(capsys, "compare", BASE, FINE, "--reps", "2", *TINY, "--out", out)
    assert code == 0, err
    lines = text.strip().splitlines()
    assert len(lines) <= 25, text
    for words in ("获得感", "安全感", "幸福感", "办结时间90分位", "群体性事件", "fine_grids"):
        assert words in text, text
    assert "参照" in text  # the reference row
    assert str(out / "table.md") in text and f"govsim report {out}" in text, text
    assert "compare compare" not in err, err
    assert "compare: yancheng vs fine_grids" in err, err
    # the detail is still in the files
    md = (out / "table.md").read_text(encoding="utf-8")
    assert md.count("### ") >= 30 and "p (Holm)" in md


# --------------------------------------------------------------------------- 6. corrupt records


def _records(folder: Path) -> list[Path]:
    return sorted((folder / "runs").glob("*.parquet"))


def _truncate(path: Path) -> bytes:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return data[: len(data) // 2]


def _drop_a_row(path: Path) -> None:
    """Rewrite a record with its metadata intact but one day missing."""
    table = pq.read_table(path)
    meta = table.schema.metadata
    short = table.slice(0, table.num_rows - 1).replace_schema_metadata(meta)
    pq.write_table(short, path)
    assert RECORD_KEY in pq.read_schema(path).metadata


def test_a_corrupt_record_is_named_moved_aside_and_rerun(tmp_path, capsys):
    out = tmp_path / "exp"
    cmd = ["compare", BASE, FINE, "--reps", "2", *TINY, "--out", out, "--quiet"]
    code, _, err = govsim(capsys, *cmd)
    assert code == 0, err
    recs = _records(out)
    assert len(recs) == 4
    truncated, short = recs[0], recs[1]
    cut = _truncate(truncated)
    _drop_a_row(short)
    short_bytes = short.read_bytes()

    code, text, err = govsim(capsys, "status", out)
    assert code == 0, err
    assert '"done": 2' in text and '"pending": 2' in text, text
    assert str(truncated) in err and str(short) in err, err
    assert "Traceback" not in err

    code, text, err = govsim(capsys, "report", out, "--quiet")
    assert code == 0, err
    assert str(truncated) in err and "Traceback" not in err, err
    assert (out / "report.html").is_file()

    code, text, err = govsim(capsys, *cmd)
    assert code == 0, err
    assert str(truncated) in err and "corrupt" in err, err
    moved = out / "corrupt" / truncated.name
    assert moved.read_bytes() == cut  # nothing written is lost
    assert (out / "corrupt" / short.name).read_bytes() == short_bytes
    assert len(_records(out)) == 4
    code, text, err = govsim(capsys, "status", out)
    assert '"done": 4' in text and '"pending": 0' in text and err == "", (text, err)
    assert pq.read_table(truncated).num_rows == 3


def test_report_on_a_damaged_daily_table_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "exp"
    code, _, err = govsim(capsys, "compare", BASE, "--reps", "1", *TINY, "--out", out, "--quiet")
    assert code == 0, err
    rec = _records(out)[0]
    data = bytearray(rec.read_bytes())
    # keep the footer, damage the column chunks (between the magic bytes and the footer)
    footer = int.from_bytes(data[-8:-4], "little")
    for i in range(4, len(data) - 8 - footer):
        data[i] = 0xFF
    rec.write_bytes(bytes(data))
    code, _, err = govsim(capsys, "report", out, "--quiet")
    assert "Traceback" not in err and str(rec) in err, err


# --------------------------------------------------------------------------- 7. app


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_app_prints_no_third_party_warnings(tmp_path):
    exe = Path(sys.executable).parent / "govsim"
    port = _free_port()
    log = tmp_path / "app.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [str(exe), "app", "--port", str(port)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        time.sleep(1.0)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    assert "teaching page" in text, text
    assert "Warning" not in text and "samesite" not in text, text
    assert len(text.strip().splitlines()) <= 4, text
