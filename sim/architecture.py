"""Generate ``docs/architecture.md``: the day as a table and the package layers as a figure.

Both parts are read from the code, so the page cannot drift from it
(``tests/test_architecture_doc.py`` fails when the committed page differs):

- **the day** — the statements of :meth:`sim.model.GovernanceModel._day` in order, parsed
  with :mod:`ast`: for each call, its stage (the ``self._clock("…")`` block it sits in),
  what it reads (its arguments), what it writes (the names it assigns) and the module of
  the function it calls;
- **the layers** — the ``layers`` contract of ``[tool.importlinter]`` in ``pyproject.toml``
  (checked by ``lint-imports`` in ``.ci/run``), drawn as a Mermaid flowchart.

Regenerate with ``python -m sim.architecture --write``.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import textwrap
import tomllib
from pathlib import Path

from sim import model

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"

# names in ``_day`` bound to values of the run, with what they stand for
_ALIASES = {"s": "state", "p": "params", "k": "kernels", "d": "day", "t": "issues"}


def _name(node: ast.AST) -> str:
    """``a.b.c`` for a name or attribute chain; ``…`` for anything more complex."""
    if isinstance(node, ast.Name):
        return _ALIASES.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    if isinstance(node, ast.Starred):
        return _name(node.value)
    if isinstance(node, ast.Call):
        return f"{_name(node.func)}(…)"
    if isinstance(node, ast.Constant):
        return repr(node.value)
    return "…"


def _reads(call: ast.Call) -> list[str]:
    out: list[str] = []
    for arg in [*call.args, *(kw.value for kw in call.keywords)]:
        for node in ast.walk(arg):
            if isinstance(node, ast.Attribute | ast.Name) and not isinstance(
                getattr(node, "ctx", None), ast.Store
            ):
                name = _name(node)
                # keep the longest chain only (``state.city`` is implied by ``state.city.trust``)
                if name not in out and not any(o.startswith(name + ".") for o in out):
                    out = [o for o in out if not name.startswith(o + ".")] + [name]
        # calls inside arguments read what they read; constants read nothing
    return [r for r in out if r not in {"float", "int", "np.float64", "self"}]


def _writes(stmt: ast.stmt) -> list[str]:
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, ast.AugAssign | ast.AnnAssign):
        targets = [stmt.target]
    out = []
    for tgt in targets:
        elts = tgt.elts if isinstance(tgt, ast.Tuple) else [tgt]
        out += [_name(e) for e in elts]
    return out


# instance attributes of the model whose class is not a module-level name of sim.model
_INSTANCE = {
    "issues": "IssueTable",
    "self.metrics": "MetricsRecorder",
    "self.datacollector": "mesa.DataCollector",
}


def _module_of(func: str) -> str:
    """The module that defines the function a call in ``_day`` names ("—": a method of a
    value made inside the day)."""
    for prefix, cls in _INSTANCE.items():
        if func.startswith(prefix + "."):
            obj = vars(model).get(cls)
            if obj is None and cls.startswith("mesa."):
                obj = getattr(model.mesa, cls.split(".", 1)[1])
            return getattr(obj, "__module__", "—")
    parts = func.split(".")
    if parts[0] == "kernels":
        fn = getattr(model.KERNELS, parts[1], None)
        return getattr(fn, "__module__", "—")
    obj = vars(model).get(parts[0])
    if obj is None:
        return "sim.model" if parts[0] == "self" else "—"
    for attr in parts[1:]:
        obj = getattr(obj, attr, None)
    if inspect.ismodule(obj):
        return obj.__name__
    return getattr(obj, "__module__", None) or getattr(vars(model)[parts[0]], "__name__", "—")


def day_rows() -> list[dict[str, str]]:
    """One row per call statement of ``GovernanceModel._day``, in order."""
    src = textwrap.dedent(inspect.getsource(model.GovernanceModel._day))
    fn = ast.parse(src).body[0]
    rows: list[dict[str, str]] = []

    def visit(stmts: list[ast.stmt], stage: str) -> str:
        for stmt in stmts:
            if isinstance(stmt, ast.With):
                item = stmt.items[0].context_expr
                if isinstance(item, ast.Call) and _name(item.func) == "self._clock":
                    stage = item.args[0].value
                visit(stmt.body, stage)
                continue
            if isinstance(stmt, ast.If):
                visit(stmt.body, stage)
                continue
            value = getattr(stmt, "value", None)
            if not isinstance(value, ast.Call):
                continue
            func = _name(value.func)
            if func.startswith(("np.", "float", "int")):
                continue
            rows.append(
                {
                    "stage": stage,
                    "call": func,
                    "reads": ", ".join(_reads(value)),
                    "writes": ", ".join(_writes(stmt)) or "(in place)",
                    "module": _module_of(func),
                }
            )
        return stage

    visit(fn.body, "start")
    return rows


def layers() -> list[list[str]]:
    """The layers of the import-linter ``layers`` contract, top first (each a list of
    independent or sibling modules)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config.get("tool", {}).get("importlinter", {}).get("contracts", [])
    for c in contracts:
        if c.get("type") == "layers":
            return [
                [m.strip() for m in layer.replace(":", "|").split("|")] for layer in c["layers"]
            ]
    return []


def render() -> str:
    """The whole page."""
    out = [
        "# Architecture",
        "",
        "Generated by `python -m sim.architecture --write` from the code itself",
        "(`GovernanceModel._day` and the import-linter contract in `pyproject.toml`);",
        "`tests/test_architecture_doc.py` fails when this page and the code disagree.",
        "",
        "## The day",
        "",
        "`GovernanceModel.step()` runs one day: the calls below, in this order. Each reads",
        "only its arguments and writes only what it returns or the state it is given",
        '("in place": the named mechanism state or arrays among its arguments). Names:',
        "`state` is the run's `ModelState`, `params` the mechanisms' `Params` built once",
        "from the scenario, `kernels` the numba kernels (or their plain-Python twins in",
        "`tests/reference/`).",
        "",
        "| # | stage | call | reads | writes | module |",
        "|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(day_rows(), 1):
        cells = [str(i), r["stage"], f"`{r['call']}`", r["reads"], r["writes"], r["module"]]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += [
        "",
        "## Package layers",
        "",
        "A module may import only from layers below its own (checked by `lint-imports` in",
        "`.ci/run`). Modules side by side in one layer are independent of each other.",
        "",
        "```mermaid",
        "flowchart TD",
    ]
    ls = layers()
    for i, layer in enumerate(ls):
        label = " · ".join(m.removeprefix("sim.") for m in layer)
        out.append(f'    L{i}["{label}"]')
    for i in range(len(ls) - 1):
        out.append(f"    L{i} --> L{i + 1}")
    out += ["```", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print the page, or write it to ``docs/architecture.md`` with ``--write``."""
    ap = argparse.ArgumentParser(prog="python -m sim.architecture", description=__doc__)
    ap.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    text = render()
    if args.write:
        DOC.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
