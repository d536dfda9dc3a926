"""One classroom's role play (沙盘推演): groups, their decisions, rounds, saved state.

A :class:`ClassSession` is the shared city of one class: the teacher opens it and gets a
join code; groups join with the code and each takes a role (:mod:`sim.app.classroom.roles`);
a group's decisions wait until the teacher starts the next round, then all apply at once
at the round boundary and the city runs one round (a month) with every state kept
(:meth:`sim.app.session.SimRun.set_scenario` → :meth:`GovernanceModel.change_scenario`).

Saved state: ``<root>/<CODE>/session.json`` (atomic write after every change): the
starting scenario and seed, the roles, the groups, each round's decisions and the pending
ones, and a digest of the city's daily metrics after each round. A session is restored by
rebuilding the model from the scenario and seed and replaying the rounds' decisions at
the same days: the model is deterministic, so the replayed city is bit-identical (the
digests are checked; a mismatch is reported, never hidden).

Unlike the teaching page (one model per browser session), a classroom is shared by every
browser that knows its code: the :class:`Classroom` keeps the open sessions of one
server process, each with its own lock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.app.annotate import change_text
from sim.app.classroom.roles import RoleSet
from sim.app.indicators import INDICATOR_KEYS, county_indicator
from sim.app.levers import all_levers, get_lever, with_lever
from sim.app.session import Session
from sim.errors import GovsimError
from sim.events import kind_code
from sim.io import atomic_write_json
from sim.kernels.costs import configuration_cost
from sim.scenario.schema import Scenario

FORMAT = 1
SESSION_FILE = "session.json"
# join codes: no 0/O, 1/I/L; 6 characters of 31 ≈ 8.9e8 codes
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
INDEX_KEYS = ("gain_index", "happiness_index", "security_index")
ESCALATION_KINDS = ("collective", "petition", "litigation")


def new_code(taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A fresh join code (``secrets``: unpredictable), not in ``taken``."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code


def normalise_code(text: str) -> str:
    """What a student typed, as a code: upper case, no spaces or dashes."""
    return "".join(ch for ch in str(text).upper() if ch.isalnum())


@dataclass
class Group:
    token: str  # the group's secret (in its page address); never shown to others
    name: str
    role: str
    joined_utc: str


@dataclass
class Decision:
    """One lever a group moved, applied at the start of round ``round``."""

    round: int
    role: str
    group: str
    path: str
    before: Any  # the role's own setting before
    after: Any
    cost_yuan: float  # change of the role's yearly spending (whole city, yuan/year)


@dataclass
class Round:
    index: int  # 1-based
    start_day: int  # reported day at the start
    end_day: int
    decisions: list[Decision]
    digest: str  # of the city's daily metrics after the round
    outcome: dict[str, Any] = field(default_factory=dict)


def _digest(daily: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(daily):
        a = np.ascontiguousarray(daily[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:32]


class ClassSession:
    """The shared city of one class and the groups playing in it.

    Parameters
    ----------
    code : str
        The join code.
    base : Scenario
        The starting configuration (its seed is the run's seed).
    roles : RoleSet
    folder : Path, optional
        Where the session is saved (``session.json``); None: not saved (tests).
    days_per_round : int, optional
        Days per round (default: the roles file's, 30).
    """

    def __init__(
        self,
        code: str,
        base: Scenario,
        roles: RoleSet,
        folder: Path | None = None,
        days_per_round: int | None = None,
        created_utc: str | None = None,
    ) -> None:
        self.code = code
        self.base = base
        self.roles = roles
        self.folder = Path(folder) if folder is not None else None
        self.days_per_round = int(days_per_round or roles.days_per_round)
        self.created_utc = created_utc or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.groups: dict[str, Group] = {}
        self.settings: dict[str, dict[str, Any]] = {}  # applied: role -> path -> value
        self.pending: dict[str, dict[str, Any]] = {}  # waiting for the next round
        self.rounds: list[Round] = []
        self.lock = threading.RLock()
        self.version = 0
        self.restore_note = ""  # set when a restore did not match the saved digests
        self.city = Session(base)  # the shared city: model, charts, maps (sim.app.session)
        self._cost_cache: dict[str, float] = {}

    # ------------------------------------------------------------------ groups
    @property
    def run(self):
        return self.city.runs[0]

    @property
    def day(self) -> int:
        return self.run.day

    def taken_roles(self) -> dict[str, str]:
        """role id -> group name, for roles a group has taken."""
        return {g.role: g.name for g in self.groups.values()}

    def join(self, name: str, role_id: str) -> Group:
        """A group joins and takes ``role_id``; returns the group with its secret token.

        Raises
        ------
        GovsimError
            Unknown role, role already taken, or empty name (message in Chinese first).
        """
        with self.lock:
            name = " ".join(str(name).split())[:40]
            if not name:
                raise GovsimError("请填写小组名称 (a group name is needed)")
            role = self.roles.role(role_id)
            taken = self.taken_roles()
            if role_id in taken:
                raise GovsimError(
                    f"角色「{role.name_zh}」已由「{taken[role_id]}」担任，请选择其他角色 "
                    f"(role {role.name_en} is taken)"
                )
            g = Group(secrets.token_urlsafe(12), name, role_id, _now())
            self.groups[g.token] = g
            self._changed()
            return g

    def group(self, token: str | None) -> Group | None:
        return self.groups.get(token or "")

    # ------------------------------------------------------------------ costs
    def _cost(self, sc: Scenario) -> float:
        """Yearly cost of ``sc`` for the whole real city (yuan): the simulated city's cost
        (:func:`sim.kernels.costs.configuration_cost`) divided by the scale."""
        key = sc.model_dump_json()
        if key not in self._cost_cache:
            city = self.run.model.state.city
            self._cost_cache[key] = configuration_cost(sc, city) / sc.scale
        return self._cost_cache[key]

    def role_spend(self, role_id: str, moved: dict[str, Any] | None = None) -> float:
        """Extra yearly spending (yuan, whole city) of a role's settings over the start.

        ``moved`` defaults to the role's applied settings with its pending ones on top.
        Priced alone (the other roles at their start), so a role pays for its own moves.
        """
        if moved is None:
            moved = {**self.settings.get(role_id, {}), **self.pending.get(role_id, {})}
        if not moved:
            return 0.0
        sc = self.roles.city_scenario(self.base, {role_id: moved})
        return self._cost(sc) - self._cost(self.base)

    def city_cost(self) -> float:
        """Yearly cost of the city's configuration now (yuan, whole city)."""
        return self._cost(self.run.scenario)

    # ------------------------------------------------------------------ decisions
    def value(self, role_id: str, path: str, pending: bool = True) -> Any:
        """The role's own setting of ``path`` (pending on top when ``pending``)."""
        if pending and path in self.pending.get(role_id, {}):
            return self.pending[role_id][path]
        if path in self.settings.get(role_id, {}):
            return self.settings[role_id][path]
        return get_lever(self.base, path)

    def decide(self, token: str | None, path: str, value: Any, lang: str = "zh") -> str | None:
        """A group sets one lever for the next round; returns None, or why it is refused.

        Refused (nothing changes): an unknown group, a lever the group's role does not
        control (:meth:`RoleSet.refusal`), a value the schema rejects, or a decision that
        takes the role over its budget.
        """
        with self.lock:
            g = self.group(token)
            if g is None:
                return (
                    "未识别的小组：请用加入课堂时的地址重新打开本页"
                    if lang == "zh"
                    else "unknown group: open the page with the address you joined with"
                )
            why = self.roles.refusal(g.role, path, lang)
            if why is not None:
                return why
            spec = all_levers()[path]
            try:
                value = get_lever(with_lever(self.base, path, value), path)
            except GovsimError as e:
                return f"取值无效：{e}" if lang == "zh" else f"invalid value: {e}"
            role = self.roles.role(g.role)
            moved = {**self.settings.get(g.role, {}), **self.pending.get(g.role, {})}
            moved[path] = value
            spend = self.role_spend(g.role, moved)
            if spend > role.budget_yuan_per_year + 1e-6 and spend > self.role_spend(g.role):
                if lang == "zh":
                    return (
                        f"超出预算：本组每年可追加 {_wan(role.budget_yuan_per_year)}，"
                        f"「{spec.label_zh}」调整后共需 {_wan(spend)}。"
                    )
                return (
                    f"over budget: your group may add {_wan(role.budget_yuan_per_year, 'en')} "
                    f"a year; with '{spec.label_en}' it needs {_wan(spend, 'en')}."
                )
            pend = self.pending.setdefault(g.role, {})
            if value == self.value(g.role, path, pending=False):
                pend.pop(path, None)
            else:
                pend[path] = value
            if not pend:
                self.pending.pop(g.role, None)
            self._changed()
            return None

    # ------------------------------------------------------------------ rounds
    def advance(self, save: bool = True) -> Round:
        """Apply every group's pending decisions, then run one round (a month)."""
        with self.lock:
            n = len(self.rounds) + 1
            decisions = []
            names = self.taken_roles()
            for rid in sorted(self.pending, key=list(self.roles.roles).index):
                moved = self.pending[rid]
                applied = self.settings.setdefault(rid, {})
                spend0 = self.role_spend(rid, applied)
                for path in sorted(moved):
                    was = self.value(rid, path, pending=False)
                    applied[path] = moved[path]
                    spend1 = self.role_spend(rid, applied)
                    cost = spend1 - spend0
                    group = names.get(rid, "")
                    decisions.append(Decision(n, rid, group, path, was, moved[path], cost))
                    spend0 = spend1
            self.pending = {}
            start = self.day
            with self.city.lock:
                scenario = self.roles.city_scenario(self.base, self.settings)
                self.run.set_scenario(scenario)
                self.city.step(self.days_per_round)
            r = Round(n, start, self.day, decisions, _digest(self.run.daily()))
            r.outcome = self._outcome(start, self.day)
            self.rounds.append(r)
            self._changed(save)
            return r

    def _outcome(self, start: int, end: int) -> dict[str, Any]:
        """The round's outcomes: city indices at its end, resolution and escalations over
        it, and per county its indicators at the end and escalations over the round."""
        d = self.run.daily()
        days = d["day"]
        sel = (days >= start) & (days < end)
        city: dict[str, float] = {}
        for k in INDEX_KEYS:
            city[k] = float(d[k][sel][-1]) if sel.any() else float("nan")
        city["resolution_rate"] = float(np.nanmean(d["resolution_rate"][sel]))
        city["mean_resolution_days"] = float(np.nanmean(d["mean_resolution_days"][sel]))
        for k in ESCALATION_KINDS:
            city[f"escalations_{k}"] = int(np.nansum(d[f"escalations_{k}"][sel]))
        city["cost_yuan_per_year"] = self.city_cost()
        notable = self.run.notable_events()
        in_round = (notable["day"] >= start) & (notable["day"] < end)
        state = self.run.model.state
        ind = {k: county_indicator(state, k) for k in INDICATOR_KEYS}
        counties = []
        for c in range(len(self.base.city.counties)):
            here = in_round & (notable["county"] == c)
            row: dict[str, Any] = {k: float(ind[k][c]) for k in INDICATOR_KEYS}
            for k in ESCALATION_KINDS:
                row[k] = int((here & (notable["kind"] == kind_code(k))).sum())
            counties.append(row)
        return {"city": city, "counties": counties}

    def key_events(
        self, index: int, lang: str = "zh", county: int | None = None, limit: int | None = None
    ) -> list[str]:
        """The notable index changes of round ``index`` with their causes (the event log,
        :mod:`sim.app.annotate`), in day order; with ``county``, those it caused; with
        ``limit``, the ``limit`` largest changes."""
        r = self.rounds[index - 1]
        city = self.run.model.state.city
        chosen = [
            ch
            for ch in self.run.index_changes
            if r.start_day <= ch.day < r.end_day
            and (county is None or any(c.county == county for c in ch.causes))
        ]
        if limit is not None:
            keep = sorted(chosen, key=lambda ch: -abs(ch.delta))[:limit]
            chosen = [ch for ch in chosen if ch in keep]
        return [change_text(ch, city.county_names_zh, city.county_names_en, lang) for ch in chosen]

    # ------------------------------------------------------------------ saving
    def _changed(self, save: bool = True) -> None:
        self.version += 1
        if save:
            self.save()

    def to_data(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "code": self.code,
            "created_utc": self.created_utc,
            "saved_utc": _now(),
            "seed": self.base.seed,
            "days_per_round": self.days_per_round,
            "scenario": self.base.model_dump(mode="json"),
            "roles": self.roles.to_data(),
            "groups": [dataclasses.asdict(g) for g in self.groups.values()],
            "rounds": [
                {
                    "index": r.index,
                    "start_day": r.start_day,
                    "end_day": r.end_day,
                    "digest": r.digest,
                    "decisions": [dataclasses.asdict(x) for x in r.decisions],
                }
                for r in self.rounds
            ],
            "pending": self.pending,
            "provenance": self._provenance,
        }

    @property
    def _provenance(self) -> dict[str, Any]:
        if not hasattr(self, "_prov"):
            from sim.store import provenance

            self._prov = provenance()
        return self._prov

    def save(self) -> None:
        if self.folder is None:
            return
        atomic_write_json(self.folder / SESSION_FILE, self.to_data(), make_parents=True)

    @classmethod
    def load(cls, folder: str | Path) -> ClassSession:
        """Restore a saved session: rebuild the city from the scenario and seed and replay
        every round's decisions at the same days (bit-identical; the digests are checked).

        Raises
        ------
        GovsimError
            The file is missing or not a classroom session.
        """
        folder = Path(folder)
        path = folder / SESSION_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise GovsimError(f"{path}: cannot read ({e.strerror or e})") from None
        except json.JSONDecodeError as e:
            raise GovsimError(f"{path}: not valid JSON ({e})") from None
        if data.get("format") != FORMAT:
            raise GovsimError(f"{path}: format = {data.get('format')!r}: expected {FORMAT}")
        base = Scenario.model_validate(data["scenario"])
        if base.seed != data["seed"]:
            raise GovsimError(f"{path}: seed = {data['seed']}: the scenario's seed is {base.seed}")
        roles = RoleSet.from_data(data["roles"], base, f"{path}: roles")
        s = cls(data["code"], base, roles, folder, data["days_per_round"], data["created_utc"])
        if "provenance" in data:
            s._prov = data["provenance"]
        for g in data["groups"]:
            s.groups[g["token"]] = Group(**g)
        mismatched = []
        for saved in data["rounds"]:
            if s.day != saved["start_day"]:
                raise GovsimError(
                    f"{path}: rounds[{saved['index'] - 1}].start_day = {saved['start_day']}: "
                    f"the replay is at day {s.day}"
                )
            s.pending = {}
            for x in saved["decisions"]:
                s.pending.setdefault(x["role"], {})[x["path"]] = x["after"]
            r = s.advance(save=False)
            if r.digest != saved["digest"]:
                mismatched.append(r.index)
        s.pending = {rid: dict(v) for rid, v in data.get("pending", {}).items()}
        if mismatched:
            s.restore_note = (
                f"注意：第 {', '.join(map(str, mismatched))} 轮复原后的结果与保存时不一致"
                "（模型代码可能已更改）"
            )
        s.version += 1
        return s


class Classroom:
    """The classroom sessions of one server: create, find by code, restore from disk.

    Parameters
    ----------
    root : Path
        Folder of the saved sessions (``runs/classroom``): one sub-folder per join code,
        and ``teacher.key``, the secret in the teacher's address (kept across restarts).
    base : Scenario
        The starting configuration of new sessions.
    roles_path : Path, optional
        The roles file (default :data:`sim.app.classroom.roles.ROLES_FILE`).
    """

    def __init__(
        self,
        root: str | Path,
        base: Scenario,
        roles_path: str | Path | None = None,
        days_per_round: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.base = base
        self.roles_path = roles_path
        self.days_per_round = days_per_round
        self.sessions: dict[str, ClassSession] = {}
        self.lock = threading.Lock()
        RoleSet.load(base, roles_path)  # a bad roles file fails at start, not in class

    def teacher_key(self) -> str:
        """The teacher's secret (created once, kept in ``<root>/teacher.key``)."""
        path = self.root / "teacher.key"
        if path.is_file():
            return path.read_text().strip()
        self.root.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(16)
        path.touch(mode=0o600)
        path.write_text(key + "\n")
        return key

    def codes(self) -> list[str]:
        """Join codes of the saved sessions, newest first."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if (p / SESSION_FILE).is_file()]
        found.sort(key=lambda p: (p / SESSION_FILE).stat().st_mtime, reverse=True)
        return [p.name for p in found]

    def create(self) -> ClassSession:
        with self.lock:
            code = new_code(set(self.codes()) | set(self.sessions))
            roles = RoleSet.load(self.base, self.roles_path)
            s = ClassSession(code, self.base, roles, self.root / code, self.days_per_round)
            s.save()
            self.sessions[code] = s
            return s

    def get(self, code: str | None) -> ClassSession | None:
        """The session with join code ``code`` (restored from disk on first use), or None."""
        code = normalise_code(code or "")
        if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
            return None
        with self.lock:
            if code not in self.sessions:
                folder = self.root / code
                if not (folder / SESSION_FILE).is_file():
                    return None
                self.sessions[code] = ClassSession.load(folder)
            return self.sessions[code]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _wan(yuan: float, lang: str = "zh") -> str:
    """Yuan as 万元 (Chinese) or million yuan (English)."""
    if lang == "zh":
        return f"{yuan / 1e4:,.0f} 万元"
    return f"{yuan / 1e6:,.1f} million yuan"
