"""The planning notebook (issue 16) runs end to end at a tiny scale, as CI executes it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_planning_notebook_runs_end_to_end(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = ROOT / "notebooks" / "planning_session.ipynb"
    nb = nbformat.read(path, as_version=4)
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    for english in ("Setup", "Write the plan", "Search within the budget", "By county", "Discuss"):
        assert any(english in h for h in headings), english
    monkeypatch.setenv("GOVSIM_NB_SCALE", "0.001")
    monkeypatch.setenv("GOVSIM_NB_DAYS", "10")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "预算 (budget)" in text and "1:1,000" in text and "planner_report.html" in text
    data = [o.get("data", {}) for o in outputs if o.output_type in ("display_data",)]
    assert any("image/png" in d for d in data)
    assert any("text/markdown" in d and "亭湖区" in d["text/markdown"] for d in data)
