"""govsim: an agent-based simulator of city-level social governance (市域社会治理现代化)."""

import os

__version__ = "0.1.0"

# numba's OpenMP threads wait passively (sleep) at the end of a parallel region unless the
# user says otherwise. Spinning threads hold a core that the other threads of the region
# need when the machine is busy: a small model's day (about 20 parallel regions) then took
# 100× longer (149 ms instead of 2 ms at 10,000 residents with a second process running).
# It must be set before the first parallel kernel runs, when OpenMP reads it: here, on
# importing the package, before any kernel module.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def model_version() -> str:
    """``__version__`` plus a digest of the model's source code (``sim/**/*.py``).

    Part of every run id, so a changed model never reuses an old run's record, even
    before the version number is bumped. Computed once per process.
    """
    global _MODEL_VERSION
    if _MODEL_VERSION is None:
        import hashlib
        from pathlib import Path

        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for f in sorted(root.rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
        _MODEL_VERSION = f"{__version__}+{h.hexdigest()[:12]}"
    return _MODEL_VERSION


_MODEL_VERSION: str | None = None
