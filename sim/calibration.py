"""Calibration targets: public figures the Yancheng baseline must reproduce within bands.

Sources are in ``docs/sources/calibration.md``; the table with model values is in
``docs/model.md`` (section "Calibration"), produced by ``govsim calibrate``-equivalent
``python -m sim.calibration [--scale S]``. Bands are stated before looking at the model:
each is the published figure widened by the spread between comparable published sources.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from sim.run import run_scenario
from sim.scenario import load_scenario


@dataclass(frozen=True)
class Target:
    key: str  # summary key
    label: str
    figure: str
    source: str
    low: float
    high: float


TARGETS = (
    Target(
        "requests_per_resident_year", "12345/online requests per resident-year",
        "0.51", "Jiangsu 12345, 2024: 43.67 M requests / 85 M residents", 0.40, 0.62,
    ),
    Target(
        "enquiry_share", "share of requests that are enquiries",
        "0.585–0.637", "Beijing 2019–21: 58.5 %; Tangshan 2024: 63.7 %", 0.50, 0.70,
    ),
    Target(
        "hotline_direct_share", "enquiries answered by the hotline directly",
        "0.828–0.859", "Nantong 2021: 82.8 %; Tangshan 2024: 85.9 %", 0.75, 0.95,
    ),
    Target(
        "enquiry_working_days", "handling time of enquiry work orders (working days)",
        "1.4", "Jiangsu 12345 handling time, enquiries", 0.7, 2.1,
    ),
    Target(
        "request_working_days", "handling time of other work orders (working days)",
        "4.6", "Jiangsu 12345 handling time, other requests", 3.0, 6.5,
    ),
    Target(
        "mediation_success", "people's mediation success",
        "≥ 0.95 reported; ≈ 0.70 court pre-filing", "China 2021–25 (inflated); 2024", 0.90, 0.98,
    ),
    Target(
        "dispute_claim_share", "disputes that surface as claims",
        "0.70", "Miller & Sarat 1980 (shape check)", 0.50, 0.95,
    ),
    Target(
        "dispute_court_share", "disputes that reach court",
        "0.05", "Miller & Sarat 1980 (shape check)", 0.02, 0.10,
    ),
)  # fmt: skip

ROOT = Path(__file__).resolve().parents[1]


def calibration_summary(scale: float = 0.01, days: int = 365, seed: int | None = None) -> dict:
    """Run the Yancheng baseline and return its summary (the model side of the table)."""
    sets = [f"scale={scale}", f"days={days}"] + ([f"seed={seed}"] if seed is not None else [])
    return run_scenario(load_scenario(ROOT / "scenarios" / "yancheng.toml", sets)).summary


def table(summary: dict, command: str) -> str:
    """The calibration table in Markdown."""
    rows = ["| figure | source | published | band | model | in band |", "|---|---|---|---|---|---|"]
    for t in TARGETS:
        v = summary[t.key]
        ok = t.low <= v <= t.high
        rows.append(
            f"| {t.label} | {t.source} | {t.figure} | {t.low}–{t.high} | {v:.3f} | "
            f"{'yes' if ok else '**no**'} |"
        )
    return "\n".join(rows) + f"\n\nModel values from `{command}`."


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.calibration")
    p.add_argument("--scale", type=float, default=0.01)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    s = calibration_summary(a.scale, a.days)
    if a.json:
        print(json.dumps({t.key: s[t.key] for t in TARGETS}, indent=2))
    else:
        print(table(s, "python -m sim.calibration " + " ".join(argv or sys.argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
