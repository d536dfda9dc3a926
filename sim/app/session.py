"""One browser session's simulation: configuration A and, in A/B mode, B.

A :class:`Session` is created by the page for each browser session (inside its ``Page``
component), never at module level, so students never share a model. It holds one
:class:`SimRun` per configuration; both runs of an A/B comparison use the same seed, so
the class sees the effect of the levers, not noise.

Concurrency: a session's own actions (the play loop, a button, a lever) are serialised
by the session's lock. Model steps of all sessions are serialised by ``_NUMBA_LOCK``:
numba's parallel kernels are not safe to launch from several threads at once with
every threading layer (workqueue), and a step at 1:100 takes a few milliseconds. The
lock guards a process-wide resource; it holds no model state. Steps run the kernels on
``STEP_THREADS`` numba thread(s) (``numba.set_num_threads`` is per calling thread): at
1:100 a step is ~5 ms on one thread, while two threads on a classroom laptop busy with
the browser and other sessions were measured 10–20× slower (thread contention).
"""

from __future__ import annotations

import dataclasses
import threading
import tomllib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np

from sim.app.annotate import Change, change_text, notable_changes
from sim.app.events import LOG_KINDS, Event, describe, feed_kinds, select_events
from sim.app.export import NotableSink, class_record_html, daily_csv, events_csv
from sim.app.figures import LiveCharts, LiveMap, shared_range
from sim.app.indicators import INDICATOR_KEYS, county_indicator, grid_indicator
from sim.app.levers import changed_levers, get_lever, with_lever
from sim.app.text import pick, scenario_title
from sim.errors import GovsimError
from sim.events import COLLECTIVE, EventLog, kind_code
from sim.model import GovernanceModel
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario

_NUMBA_LOCK = threading.Lock()
STEP_THREADS = 1
MAX_EVENTS = 40
EVENT_WINDOW_DAYS = 7  # days of the model's event log kept in memory
DEFAULT_SCENARIO = Path("scenarios") / "yancheng.toml"


def default_scenario() -> Scenario:
    return Scenario(
        name="yancheng",
        title_zh="盐城基线：部分整合",
        title_en="Yancheng baseline: partial integration",
    )


@dataclass(frozen=True)
class AppConfig:
    """What ``govsim app`` was started with (passed to the page through the environment)."""

    scenario: str | None = None  # path of the scenario file; None: built-in baseline
    overrides: tuple[str, ...] = ()
    lang: str = "zh"
    webfont: bool = False  # the page's Chinese web font is served (sim.app.webfont)

    def load(self) -> Scenario:
        if self.scenario is None:
            path = DEFAULT_SCENARIO
            if path.is_file():
                return load_scenario(path, list(self.overrides))
            if self.overrides:
                raise GovsimError("--set needs a scenario file (none given, none found)")
            return default_scenario()
        return load_scenario(self.scenario, list(self.overrides))

    def presets(self, base: Scenario) -> dict[str, Scenario]:
        """The configurations a teacher can pick: ``base`` and its sibling scenario files.

        Siblings are loaded with the same overrides; files that do not load, or that
        differ from ``base`` in seed, scale or city, are left out (A/B needs one city).
        """
        out = {base.name: base}
        folder = Path(self.scenario).parent if self.scenario else DEFAULT_SCENARIO.parent
        if not folder.is_dir():
            return out
        for path in sorted(folder.glob("*.toml")):
            try:
                with path.open("rb") as fh:
                    if "experiments" in tomllib.load(fh):
                        continue
                sc = load_scenario(path, list(self.overrides))
            except (GovsimError, OSError, tomllib.TOMLDecodeError):
                continue
            if (sc.seed, sc.scale, sc.city) != (base.seed, base.scale, base.city):
                continue
            out.setdefault(sc.name, sc)
        return out


@dataclass
class SimRun:
    """One configuration's model, its events and its live figures."""

    scenario: Scenario
    seed: int | None = None
    events: deque = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    restarts: int = 0
    # levers moved during this run: (reported day, path, before, after), for the record
    history: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seed = self.scenario.seed if self.seed is None else int(self.seed)
        self.origin = self.scenario  # the preset the levers started from
        self.map = LiveMap()
        self._build()

    # ------------------------------------------------------------------ model
    def _build(self) -> None:
        with _NUMBA_LOCK:
            numba.set_num_threads(min(STEP_THREADS, numba.config.NUMBA_NUM_THREADS))
            self.notable = NotableSink()  # the whole run's notable events (exports)
            self.model = GovernanceModel(
                self.scenario,
                seed=self.seed,
                events=EventLog(window_days=EVENT_WINDOW_DAYS, sink=self.notable),
            )
        self.history = []
        self.index_changes: list[Change] = []  # notable index changes, oldest first
        self._collective_counties: dict[int, np.ndarray] = {}  # reported day -> counties
        self._sunk: list[dict[str, np.ndarray]] = []
        self.model.issue_sink = self._sunk.append
        self.events.clear()

    @property
    def day(self) -> int:
        """Reported day: days since the end of the model's warm-up (0 at the start)."""
        return self.model.day - self.model.metrics.day_offset

    def reset(self) -> None:
        """Start again at day 0 with the current levers."""
        self._build()

    def step(self) -> list[Event]:
        """Advance one day; returns (and records) the day's selected events."""
        self._sunk.clear()
        day = self.model.day
        with _NUMBA_LOCK:
            numba.set_num_threads(min(STEP_THREADS, numba.config.NUMBA_NUM_THREADS))
            self.model.step()
        events = self._events(day)
        self._sunk.clear()
        self.events.extendleft(reversed(events))
        self._annotate()
        return events

    def _annotate(self) -> None:
        """Record today's notable index changes with their causes (:mod:`sim.app.annotate`)."""
        today = self.model.events.select(self.day - 1, self.day - 1)
        d = self.day - 1  # the reported day just simulated
        self._collective_counties[d] = today["county"][today["kind"] == COLLECTIVE]
        ix = self.scenario.indices
        self._collective_counties.pop(d - int(ix.window_days) - 1, None)
        out = self._collective_counties.get(d - int(ix.window_days), np.zeros(0, np.int16))
        daily = self.daily()
        self.index_changes += notable_changes(
            daily, daily["day"].shape[0] - 1, today, out, self.model.metrics.n_residents, ix
        )

    def _events(self, day: int) -> list[Event]:
        """The day's feed from the model's event log; the issues' details (sector, channel,
        handler, resident) from their rows, open or compacted away today."""
        state = self.model.state
        # the log counts reported days (after the warm-up); the feed selects by model day
        offset = self.model.metrics.day_offset
        logged = self.model.events.select(day - offset, day - offset, kinds=LOG_KINDS)
        t = state.issues
        cols = {k: getattr(t, k) for k in t.cols}
        if t.held:  # this week's closed rows, out of the table but not yet sunk: put them
            # back in row (iid) order, where the table of a weekly compaction kept them
            parts = [cols, *t.held]
            order = np.argsort(np.concatenate([p["iid"] for p in parts]), kind="stable")
            cols = {k: np.concatenate([p[k] for p in parts])[order] for k in cols}
        for sunk in self._sunk:  # rows compacted away at the end of the day
            cols = {k: np.concatenate([cols[k], sunk[k]]) for k in cols}
        kind = feed_kinds(cols, logged)
        events = select_events(cols, kind, day, state.pools.kind, state.city.vulnerability)
        return [dataclasses.replace(e, day=e.day - offset) for e in events]

    def set_scenario(self, scenario: Scenario) -> bool:
        """Switch to ``scenario`` from the next day on, keeping everything the run has
        built up (:meth:`GovernanceModel.change_scenario`); returns True when the run had
        to restart at day 0 (a city-shaping field changed, see :data:`CITY_SHAPING`)."""
        if scenario == self.scenario:
            return False
        moved = changed_levers(self.scenario, scenario)
        if GovernanceModel.city_shaping_changes(self.scenario, scenario):
            self.scenario = scenario
            self._build()
            self.restarts += 1
            self.history = [(0, p, a, b) for p, (a, b) in moved.items()]
            return True
        self.model.change_scenario(scenario)
        self.scenario = scenario
        self.history += [(self.day, p, a, b) for p, (a, b) in moved.items()]
        return False

    def notable_events(self) -> dict[str, np.ndarray]:
        """The run's notable events so far (:data:`sim.app.export.NOTABLE`), all days."""
        self.model.events.flush()  # the days since the last weekly flush
        return self.notable.columns()

    def changes(self) -> dict[str, tuple[Any, Any]]:
        """Levers moved away from the preset this run started from: path -> (was, now)."""
        return changed_levers(self.origin, self.scenario)

    def set_lever(self, path: str, value: Any) -> bool:
        """Move one lever; returns True when the run restarted (city-shaping lever)."""
        if get_lever(self.scenario, path) == value:
            return False
        return self.set_scenario(with_lever(self.scenario, path, value))

    # ------------------------------------------------------------------ data
    def daily(self) -> dict[str, np.ndarray]:
        return self.model.metrics.daily_arrays()

    def indicator(self, key: str) -> np.ndarray:
        return grid_indicator(self.model.state, key)

    def event_lines(self, lang: str) -> list[tuple[int, str]]:
        city = self.model.state.city
        return [
            (ev.day, describe(ev, city.county_names_zh, city.county_names_en, lang))
            for ev in self.events
        ]

    def annotation_lines(self, lang: str, county: int | None = None) -> list[tuple[int, str]]:
        """The notable index changes with their causes, newest first: (day, text).

        With ``county``, only changes with a cause in that county.
        """
        city = self.model.state.city
        out = []
        for ch in reversed(self.index_changes):
            if county is not None and not any(c.county == county for c in ch.causes):
                continue
            out.append((ch.day, change_text(ch, city.county_names_zh, city.county_names_en, lang)))
        return out

    def county_detail(self, county: int, lang: str) -> dict[str, Any]:
        """One county's indicators now, its escalations so far and its events.

        ``indicators``: the map's indicators for the county (resident-weighted);
        ``counts``: collective incidents, petitions, litigation of the whole run (from
        the log's notable events); ``events``: the feed's lines of the county;
        ``changes``: index changes with a cause in the county.
        """
        city = self.model.state.city
        notable = self.notable_events()
        here = notable["county"] == county
        counts = {
            k: int((here & (notable["kind"] == kind_code(k))).sum())
            for k in ("collective", "petition", "litigation")
        }
        names_zh, names_en = city.county_names_zh, city.county_names_en
        return {
            "name": names_zh[county] if lang == "zh" else names_en[county],
            "indicators": {
                k: float(county_indicator(self.model.state, k)[county]) for k in INDICATOR_KEYS
            },
            "counts": counts,
            "events": [
                (ev.day, describe(ev, names_zh, names_en, lang))
                for ev in self.events
                if ev.county == county
            ],
            "changes": self.annotation_lines(lang, county),
        }

    def county_en(self) -> dict[str, str]:
        city = self.model.state.city
        return dict(zip(city.county_names_zh, city.county_names_en, strict=True))


class Session:
    """The state of one browser session: mode, configurations A/B, live figures.

    Parameters
    ----------
    base : Scenario
        Configuration A at the start (and B when A/B mode is switched on).
    presets : dict of name -> Scenario, optional
        Configurations a teacher can pick from.
    """

    def __init__(self, base: Scenario, presets: dict[str, Scenario] | None = None) -> None:
        self.base = base
        self.presets = dict(presets or {base.name: base})
        self.presets.setdefault(base.name, base)
        self.lock = threading.RLock()
        self.runs: list[SimRun] = [SimRun(base)]
        self.charts = LiveCharts()
        self.projector_charts = LiveCharts(projector=True)
        self.version = 0  # bumped on every change; the page re-renders on it
        self.message = ""
        self._ranges: dict[str, tuple[float, float]] = {}  # map colour range per indicator

    @classmethod
    def from_config(cls, config: AppConfig) -> Session:
        base = config.load()
        return cls(base, config.presets(base))

    # ------------------------------------------------------------------ actions
    @property
    def ab(self) -> bool:
        return len(self.runs) > 1

    @property
    def day(self) -> int:
        return self.runs[0].day

    def _bump(self) -> None:
        self.version += 1
        if any(r.day == 0 for r in self.runs):  # a (re)start: colour scales start afresh
            self._ranges.clear()

    def set_ab(self, on: bool, b_scenario: Scenario | None = None) -> None:
        """Switch A/B mode; both configurations restart at day 0 on the same seed."""
        with self.lock:
            if on:
                a = self.runs[0]
                a.reset()
                b = SimRun(b_scenario or a.scenario, seed=a.seed)
                b.origin = a.origin if b_scenario is None else b_scenario
                self.runs = [a, b]
            else:
                self.runs = self.runs[:1]
            self.message = ""
            self._bump()

    def step(self, n: int = 1) -> None:
        with self.lock:
            for _ in range(n):
                for run in self.runs:
                    run.step()
            self._bump()

    def reset(self) -> None:
        with self.lock:
            for run in self.runs:
                run.reset()
            self.message = ""
            self._bump()

    def set_lever(self, which: int, path: str, value: Any, lang: str = "zh") -> bool:
        """Move a lever of configuration ``which`` (0 = A, 1 = B).

        Returns True on success; on a value the schema rejects, keeps the old value and
        sets ``message`` to the one-line reason.
        """
        with self.lock:
            try:
                restarted = self.runs[which].set_lever(path, value)
            except GovsimError as e:
                self.message = str(e)
                self._bump()
                return False
            self.message = ""
            if restarted and self.ab:  # keep A and B on the same days
                for r in self.runs:
                    if r.day:
                        r.reset()
            self._bump()
            return True

    def set_preset(self, which: int, name: str) -> None:
        """Give configuration ``which`` the levers of preset ``name``."""
        self.apply_scenario(which, self.presets[name])

    def apply_scenario(self, which: int, sc: Scenario) -> None:
        """Give configuration ``which`` the levers of ``sc`` from the next day on, keeping
        the run's state (a lesson step's preset, :mod:`sim.app.lessons`)."""
        with self.lock:
            restarted = self.runs[which].set_scenario(sc)
            self.runs[which].origin = sc
            if restarted and self.ab:
                for r in self.runs:
                    if r.day:
                        r.reset()
            self.message = ""
            self._bump()

    # ------------------------------------------------------------------ views
    def titles(self, lang: str) -> list[str]:
        names = [
            pick(("配置 A", "Configuration A"), lang),
            pick(("配置 B", "Configuration B"), lang),
        ]
        return [f"{names[i]}：{scenario_title(r.scenario, lang)}" for i, r in enumerate(self.runs)]

    def chart_font_px(self, projector: bool = False) -> float:
        """The charts' smallest text in the PNG's pixels (the page scales the image)."""
        return (self.projector_charts if projector else self.charts).font_px

    def marks(self) -> list[list[tuple[int, str]]]:
        """Per run, (day, index key) of its notable index changes (markers on the chart)."""
        return [[(c.day, c.key) for c in r.index_changes] for r in self.runs]

    def charts_png(self, lang: str, projector: bool = False, fmt: str = "png") -> bytes:
        """The charts as PNG (``fmt="jpeg"``: the page's faster live frame)."""
        with self.lock:
            charts = self.projector_charts if projector else self.charts
            return charts.render([r.daily() for r in self.runs], lang, self.marks(), fmt)

    def export_daily_csv(self) -> bytes:
        """Every configuration's daily metrics (CSV, UTF-8 with BOM)."""
        with self.lock:
            return daily_csv(self)

    def export_events_csv(self) -> bytes:
        """Every configuration's notable events of the whole run (CSV)."""
        with self.lock:
            return events_csv(self)

    def export_record_html(self) -> bytes:
        """The one-page class record (HTML, Chinese first, charts embedded)."""
        with self.lock:
            charts = self.charts.render([r.daily() for r in self.runs], "zh", self.marks())
            return class_record_html(self, charts)

    def maps_png(self, indicator: str, lang: str, fmt: str = "png") -> list[bytes]:
        if indicator not in INDICATOR_KEYS:
            raise ValueError(f"unknown indicator {indicator!r}; allowed: {INDICATOR_KEYS}")
        with self.lock:
            values = [r.indicator(indicator) for r in self.runs]
            vr = shared_range(values, indicator)
            # the colour scale only widens during a run (stable colours, rare redraws)
            old = self._ranges.get(indicator)
            if old is not None:
                vr = (min(old[0], vr[0]), max(old[1], vr[1]))
            self._ranges[indicator] = vr
            out = []
            for i, (run, v) in enumerate(zip(self.runs, values, strict=True)):
                city = run.model.state.city
                title = self.titles(lang)[i] if self.ab else scenario_title(run.scenario, lang)
                where = (city.grid_lon, city.grid_lat)
                args = (v, indicator, lang, vr, title, run.county_en(), fmt)
                out.append(run.map.render(*where, *args))
            return out

    def curves_digest(self) -> list[dict[str, float]]:
        """The last plotted value of each chart series, per run (rounded; for the page)."""
        from sim.app.figures import ESCALATION_KEYS, INDEX_KEYS, RESOLUTION_KEY

        out = []
        for run in self.runs:
            d = run.daily()
            row = {}
            for k in (*INDEX_KEYS, RESOLUTION_KEY):
                v = d[k][-1] if d[k].size else float("nan")
                row[k] = None if v != v else round(float(v), 4)
            for k in ESCALATION_KEYS:
                row[k] = int(np.nansum(d[k]))
            out.append(row)
        return out

    def latest(self) -> list[dict[str, float]]:
        """Each run's last daily row (empty dict before the first step)."""
        return [dict(r.model.last_row or {}) for r in self.runs]

    def lever_diff(self) -> dict[str, tuple[Any, Any]]:
        """Levers where B differs from A (empty outside A/B mode)."""
        if not self.ab:
            return {}
        return changed_levers(self.runs[0].scenario, self.runs[1].scenario)


def summary_rows(session: Session, keys: Sequence[str], lang: str) -> list[list[str]]:
    """A small table of the latest values: one row per key, one column per run."""
    from sim.metrics_schema import DAILY_COLUMNS

    rows = []
    latest = session.latest()
    for k in keys:
        zh, en, unit = DAILY_COLUMNS[k]
        cells = [zh if lang == "zh" else en]
        for row in latest:
            v = row.get(k)
            if v is None or v != v:
                cells.append("—")
            elif unit == "share":
                cells.append(f"{100 * v:.1f}%")
            elif unit == "days":
                cells.append(f"{v:.1f}")
            else:
                cells.append(f"{v:.1f}" if unit == "0-100" else f"{v:,.0f}")
        rows.append(cells)
    return rows
