"""Docking harnesses: our kernels' rules re-run in a reference model's own world.

Docking (Axtell, Axelrod, Epstein & Cohen 1996) checks that two implementations of a model
produce statistically indistinguishable output. :mod:`sim.validation.docking.epstein` drives the
activation rule of :mod:`sim.kernels.activation` on Epstein's civil-violence torus and
compares it with the implementation shipped inside Mesa.

References
----------
1. Axtell, R., Axelrod, R., Epstein, J. M., & Cohen, M. D. (1996). Aligning simulation
   models: a case study and results. Computational and Mathematical Organization Theory
   1(2), 123–141. doi:10.1007/BF01299065
"""
