"""The residents' clock: how often their slow state (trust, participation, the survey) moves.

Issues arise, are reported, handled and escalate every day. What residents think —
their trust in government (:mod:`sim.kernels.trust`), their propensity to take part
(:mod:`sim.kernels.participation`) and their answers to the index items
(:func:`sim.kernels.measure.survey_step`) — changes slowly, over weeks and months (the
trust and participation rates of the scenario are a few per cent a day or less), and is
observed only by periodic surveys. ``Scenario.attitude_days`` = k lets that slow state
move every k days instead of every day, with the daily rates compounded over the k days
(:func:`compound`): a multi-rate scheme, as climate and epidemic models step their slow
variables on a longer clock than their fast ones (e.g. Gear & Wells 1984 [1]_).

k = 1 (the default) is the daily model, bit for bit. For k > 1 what changes is this:

- a resident's own reports closed in the last k days, and the word of mouth about them,
  reach her trust and participation together on the k-th day (up to k − 1 days late);
- she still meets the k neighbours she would have met on each of the k days, one after
  another with Deffuant's μ unchanged, but each at the trust that neighbour had at the
  start of the step (the meetings of a step do not see one another's outcome);
- participation relaxes toward its baseline at ``1 − (1 − δ)^k`` per step (exact for the
  linear drift, the trust pull included), and a neighbour's engagement spreads one tie
  per k days instead of one a day;
- the survey's answers are recomputed every k days and carried in between; the daily
  parts of its change (incidents, fading, risks) use the slopes of the last survey.

Whether k changes a result is an empirical question, answered for the headline by
``tests/test_clock.py`` (the effect of a configuration estimated with k = 1 and with k =
7 on the same seeds) and in the README ("Resolution").

References
----------
.. [1] Gear, C. W., & Wells, D. R. (1984). Multirate linear multistep methods. BIT
   Numerical Mathematics 24(4), 484–502. doi:10.1007/BF01934907
"""

from __future__ import annotations

__all__ = ["compound", "on_clock"]


def compound(rate: float, days: int) -> float:
    """The share of a gap closed in ``days`` days at ``rate`` a day: ``1 − (1 − rate)^days``.

    Exactly ``rate`` for one day (``1 − (1 − r)`` is not always ``r`` in floating point).
    """
    if days == 1:
        return rate
    return 1.0 - (1.0 - rate) ** days


def on_clock(day: int, every: int) -> bool:
    """True on the days the slow state moves: the last day of each block of ``every``
    days, counted from the model's first day (warm-up included, so a model forked from a
    snapshot keeps the clock of the one it came from)."""
    return day % every == every - 1
