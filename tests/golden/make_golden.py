"""Write the before-files of the refactor guard (``tests/test_golden.py``).

Daily metrics and the summary of ``yancheng``, ``fine_grids`` and ``modernised`` at 1:100
over 120 days, seeds 1–3, one ``.npz`` per run. Run it only to record a deliberate change
of numbers (say which and why in the commit)::

    python tests/golden/make_golden.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.run import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCENARIOS = ("yancheng", "fine_grids", "modernised")
SEEDS = (1, 2, 3)
OVERRIDES = ("scale=0.01", "days=120")


def golden_run(name: str, seed: int) -> dict[str, np.ndarray]:
    """Daily columns and summary values (``summary.KEY``) of one guarded run."""
    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml", [*OVERRIDES, f"seed={seed}"])
    r = run_scenario(sc)
    out = {f"daily.{k}": np.asarray(v) for k, v in r.daily.items()}
    out.update({f"summary.{k}": np.asarray(float(v)) for k, v in r.summary.items()})
    return out


def main() -> None:
    for name in SCENARIOS:
        for seed in SEEDS:
            np.savez_compressed(HERE / f"{name}_seed{seed}.npz", **golden_run(name, seed))
            print(f"wrote {name} seed {seed}")


if __name__ == "__main__":
    main()
