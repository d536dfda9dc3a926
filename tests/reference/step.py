"""One whole day of a :class:`sim.model.GovernanceModel` run with the reference twins.

The twins replace the kernels in the model's table (:class:`sim.model.Kernels`), so stage
order and bookkeeping (stage timings, the metrics row, weekly compaction, ``day``,
``last_row`` and the DataCollector) are the model's own and the day still goes through
``model.step()``; a benchmark can time the daily step against its plain-Python twin and a
test can compare the two day by day.
"""

from __future__ import annotations

from sim.model import Kernels

from . import activation, escalate, generate, handle, measure, participation, route, surface, trust


def _without_buffers(twin):
    """The twin, called with a kernel's signature: the kernels' reusable buffers
    (``out``, ``neighbours``) are dropped; the twin returns new arrays."""

    def call(*args, out=None, neighbours=None, **kwargs):
        return twin(*args, **kwargs)

    call.__name__ = twin.__name__
    return call


TWIN_KERNELS = Kernels(
    generate=generate.generate_step,
    surface=surface.surface_step,
    route=route.route_step,
    handle=handle.handle_step,
    escalate=escalate.escalate_step,
    participation=_without_buffers(participation.participation_step),
    trust=_without_buffers(trust.trust_step),
    activation=_without_buffers(activation.activation_step),
    measure=measure.measure_step,
)


def reference_step(model) -> dict[str, float]:
    """Advance ``model`` by one day (``model.step()``) using the twins; returns that day's
    metrics row."""
    with model.using(TWIN_KERNELS):
        model.step()
    return model.last_row
