"""The options of ``govsim bench`` (and ``python -m sim.bench``), without the model.

Kept apart from :mod:`sim.bench` so that building the command line (``govsim --help``,
``govsim validate``) does not import numba: worker processes import the CLI module before
they size numba's thread pool (:func:`sim.experiment.worker.limit_numba_threads`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sim

REPO_ROOT = Path(sim.__file__).resolve().parent.parent
DEFAULT_SCENARIO_PATH = str(REPO_ROOT / "scenarios" / "yancheng.toml")


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``bench`` options (for ``govsim bench`` and ``python -m sim.bench``)."""
    parser.add_argument("--days", type=int, default=365, help="days per scale (default 365)")
    parser.add_argument("--full", action="store_true", help="also run 1:1 (6.7 M residents)")
    parser.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO_PATH,
        help="scenario file (default scenarios/yancheng.toml, or the built-in baseline)",
    )
    parser.add_argument(
        "--reference-days", type=int, default=5, help="days for the reference ratio (default 5)"
    )
    parser.add_argument(
        "--epstein-steps", type=int, default=50, help="steps of Mesa's Epstein example"
    )
    parser.add_argument("--json-out", metavar="PATH", help="also write the JSON to PATH")
    parser.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--headline",
        metavar="EXPERIMENT",
        help="instead: project a compare experiment's wall time from measured parts "
        "(e.g. experiments/headline_research.toml; sim.experiment.headline_cost)",
    )
    parser.add_argument(
        "--sample-days",
        type=int,
        default=30,
        help="--headline: days timed per scenario (rounded up to whole steps of its attitude_days)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="--headline: worker processes (default 2)"
    )
    parser.add_argument("--one", type=float, metavar="SCALE", help=argparse.SUPPRESS)
    return parser
