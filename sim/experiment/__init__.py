"""Experiments: compare scenarios, sweep levers, analyse sensitivity — resumable, on any executor.

Python API (the CLI's names, for notebooks)::

    from sim.experiment import compare, sweep, sensitivity, status, report, read_runs

- :func:`compare` — scenarios × replications with common random numbers; means with
  bootstrap CIs, paired differences, effect sizes, Holm-corrected p-values.
- :func:`sweep` — an experiment file's factors over a factorial grid or Latin hypercube.
- :func:`sensitivity` — SALib Morris or Sobol indices with CIs and a convergence check.
- :func:`status` — ``{done, failed, pending, failed_ids}`` of a folder, also while running.
- :func:`report` — one self-contained HTML page of a folder.
- :func:`read_runs` — the experiment's table (one row per run) as a ``pyarrow.Table``.

Pipeline: :mod:`~sim.experiment.spec` (experiment files) → :mod:`~sim.experiment.plan`
(design points, seeds, run ids) → :mod:`~sim.experiment.executors` and
:mod:`~sim.experiment.worker` (where runs execute) → :mod:`~sim.experiment.records`
(the folder, one atomic record per run) → :mod:`~sim.experiment.stats`,
:mod:`~sim.experiment.indices` → :mod:`~sim.experiment.tables`,
:mod:`~sim.experiment.html_report`. The command line is :mod:`~sim.experiment.cli`.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.experiment.api import compare, report, sensitivity, status, sweep
    from sim.experiment.runner import read_runs
    from sim.experiment.summary import ExperimentResult, summarize

_HOMES = {
    "ExperimentResult": "sim.experiment.summary",
    "compare": "sim.experiment.api",
    "read_runs": "sim.experiment.runner",
    "report": "sim.experiment.api",
    "sensitivity": "sim.experiment.api",
    "status": "sim.experiment.api",
    "summarize": "sim.experiment.summary",
    "sweep": "sim.experiment.api",
}
__all__ = [
    "ExperimentResult",
    "compare",
    "read_runs",
    "report",
    "sensitivity",
    "status",
    "summarize",
    "sweep",
]


def __getattr__(name: str):
    # Lazy (PEP 562): `govsim`'s parser imports sim.experiment.cli, and every worker process
    # sim.experiment.worker, and with either this package; the API (scipy, SALib, pyarrow)
    # loads on first use of one of its names.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sim.experiment' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
