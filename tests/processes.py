"""Child processes of a command under test (psutil; tests call ``pytest.importorskip``)."""

from __future__ import annotations

import time


def descendants(pid: int) -> set[int]:
    """The pids of every process below ``pid`` (none if it is gone)."""
    import psutil

    try:
        return {c.pid for c in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie waiting to be reaped counts as ended)."""
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def still_running(pids: set[int], timeout: float) -> set[int]:
    """The pids of ``pids`` that have not ended after waiting up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    alive = {p for p in pids if not gone(p)}
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {p for p in alive if not gone(p)}
    return alive
