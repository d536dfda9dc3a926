"""The mechanism contract (issue 11): the schema is the only home of defaults.

Every public function, class and numba kernel of the mechanism modules is enumerated with
``inspect.signature``; a parameter that is a modelled quantity must not have a default
(buffers, optional inputs defaulting to ``None`` and a few non-modelled flags are fine).
Each mechanism builds its ``Params`` from the scenario, and no module imports the
validation package.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

from sim.scenario.schema import Scenario

MECHANISMS = (
    "generate",
    "surface",
    "route",
    "diversion",
    "handle",
    "escalate",
    "participation",
    "trust",
    "activation",
    "accountability",
    "warning",
    "reallocation",
    "datagov",
    "measure",
    "selfgov",
    "keyperson",
)
NOT_MODELLED = {"symmetric"}  # EngagedNeighbours: whether the network is known symmetric


def _callables(module):
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if hasattr(obj, "py_func"):  # numba dispatcher: every kernel, public or not
            yield name, obj.py_func
        elif not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj)):
            yield name, obj


@pytest.mark.parametrize("mech", MECHANISMS)
def test_no_defaults_for_modelled_quantities(mech):
    module = importlib.import_module(f"sim.kernels.{mech}")
    bad = []
    for name, fn in _callables(module):
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            continue
        for p in sig.parameters.values():
            if p.default is inspect.Parameter.empty or p.default is None:
                continue
            if p.name in NOT_MODELLED:
                continue
            bad.append(f"{name}({p.name}={p.default!r})")
    assert not bad, f"sim.kernels.{mech}: defaults for modelled quantities: {bad}"


@pytest.mark.parametrize("mech", [m for m in MECHANISMS if m != "diversion"])
def test_params_from_scenario(mech):
    module = importlib.import_module(f"sim.kernels.{mech}")
    sc = Scenario.model_validate({"name": "t", "scale": 0.001})
    if mech == "generate":
        from sim.city import build_city

        p = module.Params.from_scenario(sc, build_city(sc), sc.seed)
    else:
        p = module.Params.from_scenario(sc)
    with pytest.raises(AttributeError):  # frozen
        p.__setattr__(next(iter(vars(p))), 0)


def test_no_import_cycle_with_validation():
    """The model never loads the validation harnesses (checked in a fresh interpreter:
    reloading modules here would leave other tests holding classes of the old copies)."""
    code = (
        "import sys, sim.model; print([m for m in sys.modules if m.startswith('sim.validation')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert importlib.util.find_spec("sim.docking") is None


def test_stream_numbers_only_in_the_registry():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "sim"
    import re

    pat = re.compile(r"^\s*(S_[A-Z_]+|STREAM_[A-Z_]+)\s*=\s*\d", re.M)
    owners = {
        str(p.relative_to(root)): pat.findall(p.read_text(encoding="utf-8"))
        for p in root.rglob("*.py")
    }
    elsewhere = {k: v for k, v in owners.items() if v and k != "rng.py"}
    assert not elsewhere, elsewhere
