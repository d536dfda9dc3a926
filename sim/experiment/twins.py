"""Re-cost the equal-cost twins (``scenarios/*_equal_cost.toml``) after a model change.

An equal-cost twin is a configuration re-spent at the baseline's budget (issue 12): its
department slots (``handling.department_slots_per_100k``) are set so that it costs what
``scenarios/yancheng.toml`` costs per resident-year
(:func:`sim.kernels.costs.equal_cost_department_slots`). When a mechanism adds or moves a
cost, the twins drift; this prints each twin's gap and, with ``--write``, rewrites the
slots of those more than half a percent off (``tests/test_costs.py`` allows one percent)::

    python -m sim.experiment.twins            # report
    python -m sim.experiment.twins --write    # and rewrite the drifted twins
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sim.city import build_city
from sim.kernels import costs
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
REWRITE_ABOVE = 0.005  # relative gap of a twin that is rewritten
ALREADY_EQUAL = 0.01  # an original this close to the baseline needs no twin


def _city_cache():
    cache = {}

    def city_of(sc):
        cap = sc.levers.capability
        key = (
            cap.residents_per_grid,
            cap.digital_inclusion,
            getattr(cap, "grids_per_worker", 1),
            sc.seed,
            sc.scale,
            sc.city.model_dump_json(),
        )
        if key not in cache:
            cache[key] = build_city(sc)
        return cache[key]

    return city_of


def recost(write: bool = False, folder: Path = SCENARIOS) -> list[tuple[str, float, float]]:
    """Each twin's (file name, original's gap, twin's gap after any rewrite)."""
    city_of = _city_cache()
    base = load_scenario(folder / "yancheng.toml")
    out = []
    for path in sorted(folder.glob("*_equal_cost.toml")):
        original = load_scenario(folder / path.name.replace("_equal_cost", ""))
        g_orig = costs.budget_gap(original, base, city_of)
        g_twin = costs.budget_gap(load_scenario(path), base, city_of)
        if write and abs(g_twin) > REWRITE_ABOVE and abs(g_orig) > ALREADY_EQUAL:
            slots = costs.equal_cost_department_slots(load_scenario(path), base, city_of)
            text = path.read_text(encoding="utf-8")
            text = re.sub(
                r"department_slots_per_100k = [0-9.]+",
                f"department_slots_per_100k = {slots:.1f}",
                text,
            )
            text = re.sub(
                r"costs [+-][0-9.]+% against the baseline",
                f"costs {100 * g_orig:+.1f}% against the baseline",
                text,
            )
            path.write_text(text, encoding="utf-8")
            g_twin = costs.budget_gap(load_scenario(path), base, city_of)
        out.append((path.name, g_orig, g_twin))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.experiment.twins", description=__doc__)
    ap.add_argument("--write", action="store_true", help="rewrite drifted twins' slots")
    args = ap.parse_args(argv)
    for name, g_orig, g_twin in recost(args.write):
        print(f"{name}: original {g_orig:+.2%}, twin {g_twin:+.2%} against the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
