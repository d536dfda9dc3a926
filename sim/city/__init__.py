"""Territory, population synthesis and the social network of the simulated city."""

from sim.city.build import build_city
from sim.city.population import City
from sim.city.residents import Residents

__all__ = ["City", "Residents", "build_city"]
