"""govsim: an agent-based simulator of city-level social governance (市域社会治理现代化)."""

__version__ = "0.1.0"
