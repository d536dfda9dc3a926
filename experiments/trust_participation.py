"""Trust and participation over a three-year run, one PNG per scenario (issue 12, 4).

    python experiments/trust_participation.py [--scale 0.002] [--days 1095] [--out DIR]
                                              [SCENARIO.toml ...]

Runs the baseline (scenarios/yancheng.toml) and each scenario (default: every file in
scenarios/ but the equal-cost twins) with the same seed, and writes
``<out>/<name>_trust_participation.png`` (the scenario against the dashed baseline) and
``<out>/trust_participation.csv`` (trust and participation at the start and the end).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.viz.experience import trust_participation_figure

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", type=Path)
    ap.add_argument("--scale", type=float, default=0.002)
    ap.add_argument("--days", type=int, default=1095)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "trust_participation")
    args = ap.parse_args(argv)
    paths = args.scenarios or sorted(
        p for p in (ROOT / "scenarios").glob("*.toml") if not p.stem.endswith("_equal_cost")
    )
    args.out.mkdir(parents=True, exist_ok=True)
    sets = [f"scale={args.scale}", f"days={args.days}"]
    base = run_scenario(load_scenario(ROOT / "scenarios" / "yancheng.toml", sets)).daily
    rows = []
    for path in paths:
        sc = load_scenario(path, sets)
        daily = base if sc.name == "yancheng" else run_scenario(sc).daily
        fig = trust_participation_figure(
            daily, None if sc.name == "yancheng" else base, title=sc.title_zh or sc.name
        )
        fig.savefig(args.out / f"{sc.name}_trust_participation.png", dpi=120)
        rows.append(
            {
                "scenario": sc.name,
                "trust_start": float(daily["trust_mean"][0]),
                "trust_end": float(daily["trust_mean"][-1]),
                "participation_start": float(daily["participation_rate"][0]),
                "participation_end": float(daily["participation_rate"][-1]),
            }
        )
        print(rows[-1], flush=True)
    with open(args.out / "trust_participation.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
