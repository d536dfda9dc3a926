"""Territory, population synthesis and the social network of the simulated city."""

from sim.city.build import build_city
from sim.city.population import City

__all__ = ["City", "build_city"]
