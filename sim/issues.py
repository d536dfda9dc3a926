"""Issues (enquiries, needs, disputes, safety risks) as rows of growable arrays.

Every issue has exactly one status code at any time. Open issues stay in the table;
closed ones are compacted away (and handed to a sink, e.g. the run record) so memory is
bounded by the number of open issues, not by the length of the run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Categories (DIGEST.md, "Issue lifecycle").
CAT_ENQUIRY, CAT_NEED, CAT_DISPUTE, CAT_RISK = 0, 1, 2, 3
N_CATEGORIES = 4

# Status codes. Open: LATENT, ROUTING, QUEUED, IN_SERVICE. Closed: the rest.
LATENT = 0  # arisen, not yet known to anyone who can act (hidden)
ROUTING = 1  # known, waiting to be sent to a handler (intake, dispatch, transfer, referral)
QUEUED = 2  # waiting in a handler pool's queue
IN_SERVICE = 3  # being handled (a server of a pool is busy with it)
RESOLVED = 4  # resolved or mediated
LITIGATED = 5  # left the governance system for court
FAILED = 6  # handled but not resolved
ABANDONED = 7  # hidden or waiting too long; need unmet / risk realised
N_STATUS = 8
STATUS_NAMES = (
    "latent",
    "routing",
    "queued",
    "in_service",
    "resolved",
    "litigated",
    "failed",
    "abandoned",
)
FIRST_CLOSED = RESOLVED

# Channels through which an issue surfaced (-1: not surfaced).
CH_HOTLINE, CH_ONLINE, CH_GRID_REPORT, CH_PATROL, CH_VIDEO, CH_SOCIAL, CH_MASS, CH_ESCALATION = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
)
N_CHANNELS = 8
CHANNEL_NAMES = (
    "hotline",
    "online",
    "grid_report",
    "patrol",
    "video",
    "social_org",
    "mass_org",
    "escalation",
)

# What a ROUTING issue needs next.
NEXT_INTAKE, NEXT_DISPATCH, NEXT_TRANSFER, NEXT_MEDIATE, NEXT_PETITION, NEXT_DIVERT = (
    0,
    1,
    2,
    3,
    4,
    5,
)

# Escalation levels along the dispute pyramid.
LEVEL_NONE, LEVEL_PETITION, LEVEL_LITIGATION = 0, 1, 2

ISSUE_FIELDS: dict[str, type] = {
    "iid": np.int64,  # global issue id (stable; used in random-number counters)
    "resident": np.int32,
    "grid": np.int32,
    "county": np.int16,
    "category": np.uint8,
    "sector": np.uint8,  # the department sector the issue truly belongs to
    "severity": np.float32,
    "vulnerable": np.uint8,
    "urban": np.uint8,
    "digital": np.uint8,
    "status": np.uint8,
    "channel": np.int8,
    "next_step": np.uint8,
    "pool": np.int32,  # current (or last) handler pool, -1 if none yet
    "tier": np.uint8,  # mediation tiers tried
    "transfers": np.uint8,
    "level": np.uint8,  # LEVEL_*
    "collective": np.uint8,  # 1 once it has caused a collective incident
    "diverted": np.uint8,  # 1 once diverted from court to online pre-filing mediation
    "t_created": np.float64,  # hours since the start of the run
    "t_surfaced": np.float64,
    "t_ready": np.float64,  # when it can enter its next pool (arrival time in queue)
    "t_start": np.float64,
    "t_done": np.float64,
    "t_closed": np.float64,
    "busy_hours": np.float32,  # handling hours spent on it so far
}


def rows_by_grid(codes: np.ndarray, grid: np.ndarray, code: int, n_grids: int) -> np.ndarray:
    """How many issue rows carry ``code`` in a per-row code array, by grid (int64
    [n_grids]); e.g. misused data uses (routing) or collective incidents (escalation)."""
    return np.bincount(grid[codes == code], minlength=n_grids).astype(np.int64)


class IssueTable:
    """Structure of arrays holding the open issues (and closed ones until compaction).

    Parameters
    ----------
    capacity : int
        Initial number of rows allocated; grows by doubling.
    """

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(int(capacity), 16)
        self.cols: dict[str, np.ndarray] = {
            k: np.zeros(capacity, dtype=t) for k, t in ISSUE_FIELDS.items()
        }
        self.n = 0
        self.next_iid = 0
        # closed rows removed by compact(hold=True), not yet handed to a sink
        self.held: list[dict[str, np.ndarray]] = []

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    @property
    def capacity(self) -> int:
        return int(self.cols["iid"].shape[0])

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more rows (amortised doubling)."""
        need = self.n + int(extra)
        if need <= self.capacity:
            return
        new_cap = max(need, 2 * self.capacity)
        for k, a in self.cols.items():
            b = np.zeros(new_cap, dtype=a.dtype)
            b[: self.n] = a[: self.n]
            self.cols[k] = b

    def full(self, name: str) -> np.ndarray:
        """The whole allocated column (for kernels that append rows)."""
        return self.cols[name]

    def status_counts(self) -> np.ndarray:
        return np.bincount(self.status, minlength=N_STATUS)

    def compact(
        self,
        before_hour: float,
        sink: Callable[[dict[str, np.ndarray]], None] | None,
        hold: bool = False,
    ) -> int:
        """Remove issues closed before ``before_hour``; hand them to ``sink`` first.

        With ``hold`` the removed rows are kept aside instead, and the next call without
        it hands them to ``sink`` together with its own, as one chunk in row order (the
        order of ``iid``: rows are appended in it and never reordered). A table compacted
        every day with ``hold`` except every seventh therefore gives its sink the same
        chunks, row for row, as one compacted every seventh day, while the kernels that
        scan the table no longer walk over the closed rows of earlier days. Without a sink
        the rows are dropped.

        Returns the number of rows removed. Row order of the remaining rows is kept.
        """
        st = self.status
        closed = (st >= FIRST_CLOSED) & (self.t_closed < before_hour)
        n_closed = int(closed.sum())
        if n_closed:
            # index arrays once, then one take per column (a boolean mask per column
            # costs three times as much)
            gone_rows, kept_rows = np.flatnonzero(closed), np.flatnonzero(~closed)
            gone = {k: v.take(gone_rows) for k, v in self.cols.items()}
            m = kept_rows.shape[0]
            for a in self.cols.values():
                a[:m] = a.take(kept_rows)
            self.n = m
            self.held.append(gone)
        if hold:
            return n_closed
        held, self.held = self.held, []
        if sink is not None and held and any(h["iid"].shape[0] for h in held):
            if len(held) == 1:
                sink(held[0])
            else:
                order = np.argsort(np.concatenate([h["iid"] for h in held]), kind="stable")
                sink({k: np.concatenate([h[k] for h in held])[order] for k in held[0]})
        return n_closed
