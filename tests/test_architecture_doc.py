"""``docs/architecture.md`` is generated from the code and must match it (issue 11).

Regenerate with ``python -m sim.architecture --write`` after changing the day
(``GovernanceModel._day``) or the import-linter layers in ``pyproject.toml``.
"""

from __future__ import annotations

from sim import architecture


def test_architecture_page_matches_the_code():
    committed = architecture.DOC.read_text(encoding="utf-8")
    assert committed == architecture.render(), (
        "docs/architecture.md is out of date: run `python -m sim.architecture --write`"
    )


def test_the_day_table_lists_every_mechanism_in_order():
    rows = architecture.day_rows()
    stages = [r["stage"] for r in rows]
    order = ["generate", "surface", "route", "handle", "escalate", "dynamics", "reallocate"]
    firsts = [stages.index(s) for s in order]
    assert firsts == sorted(firsts), stages
    modules = {r["module"] for r in rows}
    mechanisms = "generate surface route handle escalate participation trust accountability"
    mechanisms += " reallocation warning datagov measure"
    for mech in mechanisms.split():
        assert f"sim.kernels.{mech}" in modules, mech


def test_layers_come_from_the_import_contract():
    layers = architecture.layers()
    assert layers[0] == ["sim.cli"] and ["sim.app", "sim.experiment"] in layers


def test_every_module_sits_in_a_layer():
    """A module missing from the contract would escape ``lint-imports`` unseen."""
    grimp = __import__("grimp")
    graph = grimp.build_graph("sim")
    tops = {".".join(m.split(".")[:2]) for m in graph.modules if m != "sim"}
    listed = {m for layer in architecture.layers() for m in layer}
    assert tops - listed == set()
