"""Activation run alone: Epstein's Model I with movement and jail (the docking world).

:func:`epstein_alone` is a thin entry point to
:func:`sim.validation.docking.epstein.run_epstein`, which decides each citizen's state
with :func:`sim.kernels.activation.is_active`.
"""

from __future__ import annotations

from sim.validation.docking.epstein import EpsteinParams, run_epstein

__all__ = ["epstein_alone"]


def epstein_alone(params=None, seed: int = 0, n_steps: int = 200):
    """Run Epstein's Model I alone: citizens and cops on a torus, with movement and jail.

    A thin entry point to :func:`sim.validation.docking.epstein.run_epstein` (the docking harness),
    which decides each citizen's state with :func:`is_active` of this module.

    Parameters
    ----------
    params : sim.validation.docking.epstein.EpsteinParams, optional
        Defaults to Epstein's Run 1 (``EpsteinParams.run1()``).
    seed : int
    n_steps : int

    Returns
    -------
    sim.validation.docking.epstein.EpsteinRun
    """
    return run_epstein(EpsteinParams.run1() if params is None else params, seed, n_steps)
