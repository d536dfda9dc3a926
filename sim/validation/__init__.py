"""Validation: each mechanism run alone against its known result, and the Epstein docking.

One module per mechanism (:mod:`sim.validation.participation` — Watts's cascade window;
:mod:`sim.validation.trust` — Deffuant's clusters; :mod:`sim.validation.activation` and
:mod:`sim.validation.docking` — Epstein's civil violence, docked with Mesa's example;
:mod:`sim.validation.accountability`, :mod:`sim.validation.warning`,
:mod:`sim.validation.reallocation`, :mod:`sim.validation.datagov`). The mechanisms
themselves live in :mod:`sim.kernels`; nothing there imports from here.
"""
