"""The event log: what happened to each issue (and in each grid), one row per event.

An :class:`EventLog` is one columnar table of issue-level and grid-level events with the
day, the kind, the issue, its grid, county, handler pool and category. The model writes it
when asked (``GovernanceModel(..., events=True)``, or ``model.events = EventLog(...)``
before the first day; ``govsim run --events``; the teaching page), from the values each
stage of the day returns and the issue table's timestamps of today (one ``record_*`` call
per stage in :meth:`sim.model.GovernanceModel._day`). Off by default: the model does no
work for it then.

Kinds (``kind`` column, a ``uint8`` code; :data:`KINDS` gives name, Chinese, English):

====  ===========  ===========  =====================================================
code  name         中文          when (and from what)
====  ===========  ===========  =====================================================
0     surfaced     显性化        it became known today by a channel other than escalation
                                (``t_surfaced`` today; escalated disputes come to light
                                as petition/litigation events instead)
1     routed       派单          routing sent it to a pool's queue (``pool``: that pool)
2     handled      开始办理      a server of its pool started on it (``t_start`` today; a
                                case that starts twice in one day counts once)
3     resolved     办结          closed resolved (``t_closed`` today)
4     failed       未解决        closed unresolved
5     abandoned    放弃          closed abandoned (hidden, or waited too long)
6     diverted     诉前分流      a dispute bound for court went to online pre-filing
                                mediation (routing, handling or escalation)
7     petition     信访          a waiting dispute petitioned (escalation)
8     litigation   诉讼          it left for court (``t_closed`` today, status litigated)
9     collective   聚集性事件    a collective incident: an escalating dispute that
                                turned collective (``issue`` ≥ 0; also a petition, 集体访,
                                but logged once, as this kind), or an activation onset
                                in a grid (``issue`` = −1)
10    warning      预警          the early warning flagged the grid (warning on only)
11    misuse       数据滥用      a data-misuse incident, in the resident's grid
====  ===========  ===========  =====================================================

Grid-level events (warning, misuse, activation onsets) have ``issue``, ``pool`` and
``category`` −1; a grid with n incidents in a day has n rows. The counts per day agree
with the daily metrics of the same run (``tests/test_events.py``): resolved, failed,
abandoned, litigated (= ``escalations_litigation``), surfaced, petitions + issue-level
collective (= ``escalations_petition``), issue-level collective
(= ``escalations_collective``), grid-level collective (= ``unrest_incidents``), misuse
(= ``misuse_incidents``).

Cost. Each ``record_*`` call is a few vectorised numpy passes over the issue rows (the
same size as the measurement pass) and copies only the rows with an event; no Python loop
runs per event. Memory is bounded by ``window_days`` (only the last N days are kept in
memory, e.g. for the page) and/or a ``sink`` that takes the events at each
:meth:`EventLog.flush` (the model flushes at the weekly compaction; :class:`ParquetSink`
writes them to a Parquet file, for ``govsim run --events``). With neither, everything is
kept (small runs, notebooks).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.issues import (
    ABANDONED,
    CH_ESCALATION,
    FAILED,
    FIRST_CLOSED,
    LITIGATED,
    NEXT_DIVERT,
    QUEUED,
    RESOLVED,
    ROUTING,
)
from sim.kernels.escalate import E_COLLECTIVE, E_DIVERTED, E_PETITION

# (name, Chinese label, English label), indexed by the kind code
KINDS: tuple[tuple[str, str, str], ...] = (
    ("surfaced", "显性化", "surfaced"),
    ("routed", "派单", "routed"),
    ("handled", "开始办理", "handling started"),
    ("resolved", "办结", "resolved"),
    ("failed", "未解决", "closed unresolved"),
    ("abandoned", "放弃", "abandoned"),
    ("diverted", "诉前分流", "diverted to pre-filing mediation"),
    ("petition", "信访", "petition"),
    ("litigation", "诉讼", "litigation"),
    ("collective", "聚集性事件", "collective incident"),
    ("warning", "预警", "warning flag"),
    ("misuse", "数据滥用", "data misuse"),
)
KIND_NAMES = tuple(k[0] for k in KINDS)
(
    SURFACED, ROUTED, HANDLED, RESOLVED_EV, FAILED_EV, ABANDONED_EV, DIVERTED, PETITION,
    LITIGATION, COLLECTIVE, WARNING, MISUSE,
) = range(len(KINDS))  # fmt: skip

COLUMNS: dict[str, type] = {
    "day": np.int32,  # reported day (the daily metrics' ``day``: 0 after the warm-up)
    "kind": np.uint8,  # code into KINDS
    "issue": np.int64,  # issue id (``iid``), −1 for a grid-level event
    "grid": np.int32,
    "county": np.int16,
    "pool": np.int32,  # the issue's pool (current or last), −1 if none / grid-level
    "category": np.int8,  # issue category, −1 for a grid-level event
}

# closing status -> event kind
_CLOSED_KIND = np.full(256, 255, dtype=np.uint8)
_CLOSED_KIND[RESOLVED] = RESOLVED_EV
_CLOSED_KIND[FAILED] = FAILED_EV
_CLOSED_KIND[ABANDONED] = ABANDONED_EV
_CLOSED_KIND[LITIGATED] = LITIGATION
# escalation code (sim.kernels.escalate.E_*) -> event kind (litigation is logged on closing)
_ESCALATED_KIND = np.full(256, 255, dtype=np.uint8)
_ESCALATED_KIND[E_PETITION] = PETITION
_ESCALATED_KIND[E_COLLECTIVE] = COLLECTIVE
_ESCALATED_KIND[E_DIVERTED] = DIVERTED


def kind_code(name: str) -> int:
    """The code of the kind called ``name`` (see :data:`KINDS`)."""
    try:
        return KIND_NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown event kind {name!r}; allowed: {', '.join(KIND_NAMES)}") from None


def schema() -> pa.Schema:
    """The events table's schema, with the kinds' labels in its metadata."""
    meta = {
        "govsim.kinds": json.dumps(
            [{"code": i, "name": n, "zh": zh, "en": en} for i, (n, zh, en) in enumerate(KINDS)],
            ensure_ascii=False,
        )
    }
    return pa.schema([(k, pa.from_numpy_dtype(np.dtype(t))) for k, t in COLUMNS.items()], meta)


def _empty() -> dict[str, np.ndarray]:
    return {k: np.empty(0, dtype=t) for k, t in COLUMNS.items()}


def _concat(chunks: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    chunks = list(chunks)
    if not chunks:
        return _empty()
    return {k: np.concatenate([c[k] for c in chunks]) for k in COLUMNS}


class ParquetSink:
    """Writes flushed events to a Parquet file (row group by row group).

    The file is complete once :meth:`close` has run; it holds an empty table if there
    were no events.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: pq.ParquetWriter | None = None

    def __call__(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, schema())
        self._writer.close()


class EventLog:
    """The day's events, recorded stage by stage, held in columnar chunks.

    Parameters
    ----------
    window_days : int, optional
        Keep only the events of the last ``window_days`` days in memory.
    sink : callable, optional
        Takes a ``pyarrow.Table`` of events at each :meth:`flush` (e.g. a
        :class:`ParquetSink`); flushed events leave memory unless a window keeps them.
        Without window and sink, every event stays in memory.
    """

    def __init__(
        self, window_days: int | None = None, sink: Callable[[pa.Table], None] | None = None
    ) -> None:
        if window_days is not None and int(window_days) < 1:
            raise ValueError(f"window_days must be an int ≥ 1 or None; got {window_days!r}")
        self.window_days = None if window_days is None else int(window_days)
        self.sink = sink
        self._recent: deque[dict[str, np.ndarray]] = deque()  # chunks kept in memory
        self._pending: list[dict[str, np.ndarray]] = []  # chunks not yet given to the sink
        self.day = 0  # reported day being recorded
        self._h0 = 0.0  # the model day's first hour
        self.n_recorded = 0

    # ------------------------------------------------------------------ recording
    def start_day(self, model_day: int, day: int) -> None:
        """Begin recording ``model_day`` (hours ``24·model_day`` …), logged as ``day``."""
        self.day = int(day)
        self._h0 = 24.0 * model_day
        if self.window_days is not None:
            cutoff = self.day - self.window_days + 1
            while self._recent and self._recent[0]["day"][0] < cutoff:
                self._recent.popleft()

    def _today(self, col: np.ndarray) -> np.ndarray:
        return (col >= self._h0) & (col < self._h0 + 24.0)

    def _add(self, kind, rows: np.ndarray, issues, pool: bool = True) -> None:
        """Events of ``kind`` (code, or codes per row) for issue ``rows``."""
        n = rows.shape[0]
        if n == 0:
            return
        t = issues
        chunk = {
            "day": np.full(n, self.day, dtype=np.int32),
            "kind": np.broadcast_to(np.asarray(kind, dtype=np.uint8), (n,)).copy(),
            "issue": t.iid[rows],
            "grid": t.grid[rows],
            "county": t.county[rows],
            "pool": t.pool[rows] if pool else np.full(n, -1, dtype=np.int32),
            "category": t.category[rows].astype(np.int8),
        }
        self._keep(chunk)

    def _keep(self, chunk: dict[str, np.ndarray]) -> None:
        self.n_recorded += chunk["day"].shape[0]
        if self.sink is not None:
            self._pending.append(chunk)
        if self.sink is None or self.window_days is not None:
            self._recent.append(chunk)

    def record_surfaced(self, issues) -> None:
        """Issues that surfaced today (after the surfacing stage)."""
        t = issues
        m = self._today(t.t_surfaced) & (t.channel >= 0) & (t.channel != CH_ESCALATION)
        self._add(SURFACED, np.flatnonzero(m), t, pool=False)

    def record_routed(self, issues, was_routing: np.ndarray) -> None:
        """After routing: rows that were ROUTING and are now queued at a pool; those that
        routing diverted online today (a mediation ladder run out, decided today)."""
        t = issues
        rows = np.flatnonzero(was_routing & (t.status == QUEUED))
        self._add(ROUTED, rows, t)
        div = (t.next_step[rows] == NEXT_DIVERT) & (t.t_ready[rows] >= self._h0)
        self._add(DIVERTED, rows[div], t)

    def record_handled(self, issues) -> None:
        """After handling: services started today; disputes diverted online by a failed
        mediation (routing left no ROUTING row, so every such row is today's)."""
        t = issues
        self._add(HANDLED, np.flatnonzero(self._today(t.t_start)), t)
        m = (t.status == ROUTING) & (t.next_step == NEXT_DIVERT) & self._today(t.t_ready)
        self._add(DIVERTED, np.flatnonzero(m), t)

    def record_escalated(self, issues, codes: np.ndarray) -> None:
        """After escalation: petitions, collective incidents and diversions, from the
        escalation's per-row codes (``Escalated.codes``)."""
        rows = np.flatnonzero(codes)
        kinds = _ESCALATED_KIND[codes[rows]]
        keep = kinds != 255
        self._add(kinds[keep], rows[keep], issues)

    def record_closed(self, issues) -> None:
        """Issues closed today (any stage), by closing status; before compaction."""
        t = issues
        rows = np.flatnonzero((t.status >= FIRST_CLOSED) & self._today(t.t_closed))
        self._add(_CLOSED_KIND[t.status[rows]], rows, t)

    def record_grids(self, kind: int, per_grid: np.ndarray, grid_county: np.ndarray) -> None:
        """Grid-level events: ``per_grid[g]`` events of ``kind`` in grid g."""
        per_grid = np.asarray(per_grid)
        if not per_grid.any():
            return
        grid = np.repeat(np.arange(per_grid.shape[0], dtype=np.int32), per_grid.astype(np.int64))
        n = grid.shape[0]
        self._keep(
            {
                "day": np.full(n, self.day, dtype=np.int32),
                "kind": np.full(n, kind, dtype=np.uint8),
                "issue": np.full(n, -1, dtype=np.int64),
                "grid": grid,
                "county": grid_county[grid].astype(np.int16),
                "pool": np.full(n, -1, dtype=np.int32),
                "category": np.full(n, -1, dtype=np.int8),
            }
        )

    # ------------------------------------------------------------------ output
    def flush(self) -> None:
        """Hand the events recorded since the last flush to the sink (if any)."""
        if self.sink is None or not self._pending:
            return
        cols = _concat(self._pending)
        self._pending.clear()
        self.sink(pa.Table.from_pydict(cols, schema=schema()))

    def close(self) -> None:
        """Flush, and close the sink if it has a ``close``."""
        self.flush()
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()

    def columns(self) -> dict[str, np.ndarray]:
        """The events in memory, column by column (in the order recorded)."""
        return _concat(self._recent)

    def days_in_memory(self) -> int:
        """Number of distinct days with events in memory."""
        return len({int(c["day"][0]) for c in self._recent})

    def to_table(self) -> pa.Table:
        """The events in memory as a ``pyarrow.Table`` (kind labels in its metadata)."""
        return pa.Table.from_pydict(self.columns(), schema=schema())

    def select(
        self,
        first_day: int | None = None,
        last_day: int | None = None,
        county: int | None = None,
        kinds: Iterable[int | str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Events in memory from ``first_day`` to ``last_day`` (inclusive), optionally of
        one county and some kinds (codes or names), column by column."""
        cols = self.columns()
        m = np.ones(cols["day"].shape[0], dtype=bool)
        if first_day is not None:
            m &= cols["day"] >= first_day
        if last_day is not None:
            m &= cols["day"] <= last_day
        if county is not None:
            m &= cols["county"] == county
        if kinds is not None:
            codes = [kind_code(k) if isinstance(k, str) else int(k) for k in kinds]
            m &= np.isin(cols["kind"], codes)
        return {k: v[m] for k, v in cols.items()}

    def counts(self, n_days: int | None = None) -> np.ndarray:
        """Events in memory per day and kind: int64[n_days, len(KINDS)]."""
        cols = self.columns()
        if n_days is None:
            n_days = int(cols["day"].max()) + 1 if cols["day"].size else 0
        out = np.zeros((n_days, len(KINDS)), dtype=np.int64)
        ok = (cols["day"] >= 0) & (cols["day"] < n_days)
        np.add.at(out, (cols["day"][ok], cols["kind"][ok]), 1)
        return out


def read_events(path: str | Path) -> pa.Table:
    """Read an ``events.parquet`` written by ``govsim run --events``."""
    return pq.read_table(path)
