"""Territory, population synthesis and the social network of the simulated city."""

from sim.city.population import City

__all__ = ["City"]
