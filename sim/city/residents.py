"""The residents' state that changes during a run, one per model.

:class:`~sim.city.population.City` is the static territory: grids, counties, towns, the
social network and the residents' fixed attributes (age, urban, hardship, vulnerability,
organisation membership, grid). It is never written after :func:`sim.city.build_city`, so
one City can be shared by any number of models. What a run changes lives here instead:
each :class:`sim.model.GovernanceModel` starts its own :class:`Residents` from the city's
initial values (``City.initial``, copied once per model, never per day) and passes it
explicitly to the mechanisms of the day.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class Residents:
    """Per-resident arrays that change during a run (rows as in the City).

    Attributes
    ----------
    trust : float32[n_residents]
        Trust in government, Epstein's legitimacy ``L`` in [0, 1]
        (:mod:`sim.kernels.trust`, :mod:`sim.kernels.datagov`).
    participation : float32[n_residents]
        Propensity to report, in [0, 1] (:mod:`sim.kernels.participation`).
    grievance : float32[n_residents]
        ``G = H (1 - L)`` from felt hardship and trust, in [0, 1]; built from the static
        hardship, rewritten by activation every day (:mod:`sim.kernels.activation`).
    digital : uint8[n_residents]
        1 = can use online channels; the digital-inclusion lever adds access once, when
        the model is built (:func:`sim.model.apply_digital_inclusion`).
    """

    trust: np.ndarray
    participation: np.ndarray
    grievance: np.ndarray
    digital: np.ndarray

    @property
    def n_residents(self) -> int:
        return int(self.trust.shape[0])

    def copy(self) -> Residents:
        """Writable copies of every array (a model's own state)."""
        return Residents(
            **{f.name: np.array(getattr(self, f.name), copy=True) for f in fields(self)}
        )

    def read_only(self) -> Residents:
        """``self``, with every array made read-only (the City's initial values)."""
        for f in fields(self):
            getattr(self, f.name).flags.writeable = False
        return self

    def nbytes(self) -> int:
        """Memory held by the arrays (bytes)."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))


RESIDENT_STATE = tuple(f.name for f in fields(Residents))
"""Names of the per-resident arrays that change during a run."""
