"""Where does fine_grids_equal_staff's 安全感 difference come from? (runs/headline)

    python experiments/security_decomposition.py [runs/headline] [--label fine_grids_equal_staff]

Reads a finished ``govsim compare`` folder (default: the headline's) and prints, paired by
replication against the baseline ``yancheng``, the difference in the mean security index
over the reported days, on day 0 alone, and in the mean running sum of each daily
first-order part (``security_from_incidents``, ``_fading``, ``_risks``). Measured
2026-12-07 on ``runs/headline`` (1:20, 10 replications, 365 days): +0.041 points over the
year (sd 0.066), +0.044 on day 0 (sd 0.085); the risks part sums to +0.72 points more
while the level does not move — first-order parts are not a decomposition of the level
over many days (docs/model.md §3.4).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from sim.experiment import read_runs

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("security_from_incidents", "security_from_fading", "security_from_risks")


def daily(folder: Path, label: str) -> dict[int, dict[str, np.ndarray]]:
    """Per replication, the security index and its daily parts of ``label``'s runs."""
    table = read_runs(folder).to_pylist()
    out = {}
    for row in table:
        if row["label"] == label and row["status"] == "done":
            t = pq.read_table(folder / "runs" / f"{row['run_id']}.parquet")
            out[row["rep"]] = {c: t.column(c).to_numpy() for c in ("security_index", *PARTS)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", nargs="?", type=Path, default=ROOT / "runs" / "headline")
    p.add_argument("--label", default="fine_grids_equal_staff")
    p.add_argument("--baseline", default="yancheng")
    args = p.parse_args()
    base, other = daily(args.folder, args.baseline), daily(args.folder, args.label)
    reps = sorted(base.keys() & other.keys())
    if not reps:
        raise SystemExit(f"{args.folder}: no replication has both {args.baseline} and {args.label}")
    rows = {"security_index, mean over the days": [], "security_index, day 0": []}
    rows |= {f"{c}, mean running sum": [] for c in PARTS}
    for r in reps:
        a, b = base[r], other[r]
        rows["security_index, mean over the days"].append(
            b["security_index"].mean() - a["security_index"].mean()
        )
        rows["security_index, day 0"].append(b["security_index"][0] - a["security_index"][0])
        for c in PARTS:
            rows[f"{c}, mean running sum"].append(np.cumsum(b[c]).mean() - np.cumsum(a[c]).mean())
    print(f"{args.label} − {args.baseline}, {len(reps)} replications (points):")
    for name, v in rows.items():
        v = np.asarray(v)
        print(f"  {name:45s} {v.mean():+.3f}  (sd {v.std(ddof=1):.3f})")


if __name__ == "__main__":
    main()
