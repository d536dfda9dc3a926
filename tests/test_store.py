"""Run folder: atomic writes, refusal to overwrite, exact round trip, provenance."""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pyarrow as pa
import pytest

from sim import store
from sim.errors import GovsimError


def _daily(n: int = 5) -> dict[str, np.ndarray]:
    return {
        "day": np.arange(n, dtype=np.int32),
        "new_issues": np.arange(n, dtype=np.int64) * 1_000_000_007,
        "open_latent": np.arange(n, dtype=np.uint8),
        "gain_index": np.array([70.125, np.nan, 1e-300, -0.0, 71.0 / 3.0])[:n],
        "trust_mean": np.linspace(0, 1, n, dtype=np.float32),
        "flag": np.array([True, False, True, True, False])[:n],
    }


def _write(out_dir, **kwargs):
    args = {
        "manifest": {"run_id": "abc", "scenario": {"city": "盐城市"}},
        "daily": _daily(),
        "summary": {"resolution_rate": 0.8, "mean_resolution_days": math.nan},
    }
    args.update(kwargs)
    return store.write_run(out_dir, **args)


def _hidden_entries(parent) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def _snapshot(folder) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _one_png(figures_dir):
    path = figures_dir / "a.png"
    path.write_bytes(b"\x89PNG fake")
    return [path]


def test_write_run_creates_all_files_and_no_temp_dirs(tmp_path):
    out = tmp_path / "runs" / "nested" / "run1"
    result = _write(out, figures=_one_png, extra_files={"logs/traceback.txt": b"none"})
    assert result == out.absolute()
    for name in ("manifest.json", "daily.parquet", "summary.json", "figures/a.png"):
        assert (out / name).is_file(), name
    assert (out / "logs" / "traceback.txt").read_bytes() == b"none"
    assert _hidden_entries(out.parent) == []


def test_json_is_utf8_and_nan_becomes_null(tmp_path):
    out = _write(tmp_path / "run", manifest={"city": "盐城市", "n": np.int64(3)})
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert "盐城市" in text  # ensure_ascii=False
    assert json.loads(text) == {"city": "盐城市", "n": 3}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary == {"resolution_rate": 0.8, "mean_resolution_days": None}


def test_daily_parquet_round_trips_exactly(tmp_path):
    daily = _daily()
    out = _write(tmp_path / "run", daily=daily)
    table = store.read_run(out)["daily"]
    assert table.column_names == list(daily)
    for name, values in daily.items():
        back = table.column(name).to_numpy()
        assert back.dtype == values.dtype, name
        np.testing.assert_array_equal(back, values)
    assert np.signbit(table.column("gain_index").to_numpy()[3])  # -0.0 kept bit-exact


def test_daily_accepts_arrow_table(tmp_path):
    table = pa.table({"day": np.arange(3), "resolved": np.array([1.5, 2.5, np.nan])})
    out = _write(tmp_path / "run", daily=table)
    back = store.read_run(out)["daily"]
    assert back.schema == table.schema
    for name in table.column_names:  # Table.equals treats NaN != NaN
        np.testing.assert_array_equal(back.column(name).to_numpy(), table.column(name).to_numpy())


def test_existing_folder_refused_and_untouched(tmp_path):
    out = _write(tmp_path / "run", figures=_one_png)
    before = _snapshot(out)
    called = []

    def figures(figures_dir):
        called.append(figures_dir)
        return []

    with pytest.raises(GovsimError, match=r"run.*--out another folder or --force"):
        _write(out, manifest={"run_id": "new"}, figures=figures)
    assert called == []
    assert _snapshot(out) == before
    assert _hidden_entries(tmp_path) == []


def test_force_replaces(tmp_path):
    out = _write(tmp_path / "run", figures=_one_png)
    _write(out, manifest={"run_id": "new"}, force=True)
    run = store.read_run(out)
    assert run["manifest"] == {"run_id": "new"}
    assert not (out / "figures").exists()  # nothing of the old run is left
    assert _hidden_entries(tmp_path) == []


def test_force_refuses_a_folder_that_is_not_a_run(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(GovsimError, match="not a govsim run folder"):
        _write(precious, force=True)
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert _hidden_entries(tmp_path) == []


def test_exception_in_figures_leaves_nothing(tmp_path):
    def broken(figures_dir):
        (figures_dir / "half.png").write_bytes(b"\x89PNG")
        raise RuntimeError("boom")

    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom"):
        _write(out, figures=broken)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_exception_with_force_keeps_old_run(tmp_path):
    out = _write(tmp_path / "run")
    before = _snapshot(out)

    def broken(figures_dir):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        _write(out, manifest={"run_id": "new"}, figures=broken, force=True)
    assert _snapshot(out) == before
    assert _hidden_entries(tmp_path) == []


def test_bad_extra_file_name(tmp_path):
    with pytest.raises(ValueError, match="relative path"):
        _write(tmp_path / "run", extra_files={"../escape.txt": b"x"})
    with pytest.raises(ValueError, match="overwrite"):
        _write(tmp_path / "run", extra_files={"summary.json": b"x"})
    assert list(tmp_path.iterdir()) == []


def test_read_run_errors(tmp_path):
    with pytest.raises(GovsimError, match="not found"):
        store.read_run(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    with pytest.raises(GovsimError, match="missing manifest.json"):
        store.read_run(tmp_path / "half")


def test_provenance_without_git(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    info = store.provenance()
    assert info["git_commit"] is None and info["git_dirty"] is None
    assert set(info["packages"]) == {"numpy", "numba", "mesa", "pyarrow", "pydantic", "scipy"}
    assert info["packages"]["numpy"] == np.__version__
    assert info["python"].startswith("3.")
    assert info["cpu_count"] >= 1
    assert info["timestamp_utc"].endswith("+00:00")
    json.dumps(info)  # storable in the manifest


def test_peak_rss_mb():
    assert 1.0 < store.peak_rss_mb() < 1e6
