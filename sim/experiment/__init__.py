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

from sim.experiment.api import (
    ExperimentResult,
    compare,
    report,
    sensitivity,
    status,
    summarize,
    sweep,
)
from sim.experiment.runner import read_runs

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
