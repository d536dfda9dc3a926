"""Guided lessons for the teaching page: lesson plans as data (``lessons/*.toml``).

A lesson is a short sequence of steps a teacher walks a class through in 15–20 minutes
(issue 15, deliverable 3). Each step quotes the source article (a passage with its
section, ``docs/sources/article.txt``), names the preset it applies (a scenario file,
optionally with ``--set``-style lever settings), how many days it runs, what to watch
(daily-metric keys of :mod:`sim.metrics_schema`), the discussion questions and the
teacher's notes; Chinese first, English beside it. The page advances with one button
(下一步): the step's preset is applied to the running city — everything the run has
built up stays (:meth:`sim.app.session.Session.apply_scenario`) — and its days run.

A lesson file::

    title_zh = "条块分割到联合指挥"
    title_en = "From silos to a joint command centre"
    summary_zh = "…"
    summary_en = "…"

    [[steps]]
    title_zh = "条块分割"
    title_en = "Siloed departments"
    minutes = 6
    scenario = "../scenarios/siloed.toml"     # relative to the lesson file
    set = ["levers.data.data_sharing=0.2"]    # optional, as govsim's --set
    days = 60
    watch = ["transfers", "mean_resolution_days"]
    indicator = "unresolved"                  # the map's indicator during the step
    passage = { section_zh = "四、…", section_en = "4 …", zh = "…", en = "…" }
    questions = [{ zh = "…", en = "…" }]
    notes_zh = "…"                            # the teacher's notes (hidden on the projector)
    notes_en = "…"

Every problem is one :class:`~sim.errors.GovsimError` line naming the file, the key,
the value and what is allowed, worded as :mod:`sim.scenario.messages` words scenario
errors. A lesson's city is fixed by its first step: a later step may not change a
city-shaping field (:attr:`sim.model.GovernanceModel.CITY_SHAPING`), because that would
restart the class's run at day 0.
"""

from __future__ import annotations

import tomllib
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.app.indicators import INDICATOR_KEYS
from sim.app.text import pick, t
from sim.errors import GovsimError
from sim.metrics_schema import DAILY_COLUMNS
from sim.model import GovernanceModel
from sim.scenario import load_scenario
from sim.scenario.messages import (
    allowed_text,
    describe_toml_error,
    dotted,
    fmt_value,
    model_class,
    one_line,
    suggest,
    unwrap,
)
from sim.scenario.schema import Scenario

# The shipped lessons: ``lessons/`` at the top of the repository (an editable install,
# ``pip install -e .``, runs from the checkout, so this is found wherever govsim starts).
LESSON_DIR = Path(__file__).resolve().parents[2] / "lessons"
WATCH_KEYS = tuple(k for k in DAILY_COLUMNS if k != "day")
LESSON_MINUTES = (15, 20)  # what a shipped lesson must take in class (tests check it)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Passage(_Strict):
    """A passage of the source article, quoted verbatim, with its section."""

    section_zh: str = Field(min_length=1, description="The article's section, e.g. 四、…")
    section_en: str = Field(min_length=1, description="The section in English")
    zh: str = Field(min_length=1, description="The passage, quoted from article.txt")
    en: str = Field(min_length=1, description="The passage in English")


class Question(_Strict):
    """A discussion question."""

    zh: str = Field(min_length=1, description="The question in Chinese")
    en: str = Field(min_length=1, description="The question in English")


class LessonStep(_Strict):
    """One step: a passage, a preset applied to the running city, days, what to watch."""

    title_zh: str = Field(min_length=1, description="Step title in Chinese")
    title_en: str = Field(min_length=1, description="Step title in English")
    minutes: int = Field(ge=1, le=30, description="Class time of the step, minutes")
    scenario: str = Field(
        min_length=1, description="Scenario file of the preset, relative to the lesson file"
    )
    set: list[str] = Field(
        default_factory=list, description="Lever settings on top of it, as --set KEY=VALUE"
    )
    days: int = Field(ge=1, le=365, description="Days the step runs")
    watch: list[str] = Field(min_length=1, description="Daily metrics to watch")
    indicator: str = Field("unresolved", description="The map's indicator during the step")
    passage: Passage
    questions: list[Question] = Field(min_length=1, description="Discussion questions")
    notes_zh: str = Field(min_length=1, description="Teacher's notes in Chinese")
    notes_en: str = Field(min_length=1, description="Teacher's notes in English")

    @field_validator("watch")
    @classmethod
    def _known_metrics(cls, keys: list[str]) -> list[str]:
        for k in keys:
            if k not in WATCH_KEYS:
                raise ValueError(f"{k!r} is not a daily metric; {suggest(k, WATCH_KEYS)}")
        return keys

    @field_validator("indicator")
    @classmethod
    def _known_indicator(cls, key: str) -> str:
        if key not in INDICATOR_KEYS:
            raise ValueError(
                f"{key!r} is not a map indicator; {suggest(key, INDICATOR_KEYS, 'value')}"
            )
        return key

    def title(self, lang: str) -> str:
        return pick((self.title_zh, self.title_en), lang)


class Lesson(_Strict):
    """A lesson plan: a title, what it is for, and its steps (at least one)."""

    title_zh: str = Field(min_length=1, description="Lesson title in Chinese")
    title_en: str = Field(min_length=1, description="Lesson title in English")
    summary_zh: str = Field(min_length=1, description="What the class learns, in Chinese")
    summary_en: str = Field(min_length=1, description="What the class learns, in English")
    steps: list[LessonStep] = Field(min_length=1, description="The steps, in class order")

    def title(self, lang: str) -> str:
        return pick((self.title_zh, self.title_en), lang)

    @property
    def minutes(self) -> int:
        """Class time of the whole lesson (the steps' minutes)."""
        return sum(s.minutes for s in self.steps)


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadedLesson:
    """A validated lesson with each step's scenario (file + its settings + the app's)."""

    name: str
    path: Path
    lesson: Lesson
    scenarios: tuple[Scenario, ...]


def available_lessons(folder: Path = LESSON_DIR) -> dict[str, Path]:
    """The lesson files of ``folder``, by name (the file name without ``.toml``)."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def lesson_titles(folder: Path = LESSON_DIR) -> dict[str, tuple[str, str]]:
    """The lessons of ``folder`` for a picker: name -> (Chinese, English) title.

    Read without loading their scenarios; a file that does not read, or has no titles,
    is left out here (it is reported in full when opened by name or path).
    """
    out = {}
    for name, path in available_lessons(folder).items():
        try:
            d = _read(path)
            out[name] = (str(d["title_zh"]), str(d["title_en"]))
        except (GovsimError, KeyError):
            continue
    return out


def lesson_path(name: str, folder: Path = LESSON_DIR) -> Path:
    """``name``: a shipped lesson's name (``silo_to_command``) or a path to a lesson file.

    Raises
    ------
    GovsimError
        Naming the lessons there are when ``name`` is neither.
    """
    known = available_lessons(folder)
    if name in known:
        return known[name]
    p = Path(name)
    if p.suffix == ".toml" and p.is_file():
        return p
    allowed = suggest(name, list(known), "lesson") if known else f"none in {folder}"
    raise GovsimError(f"--lesson {name!r}: no such lesson; {allowed} (or a path to a .toml file)")


def load_lesson(
    name_or_path: str | Path, overrides: Sequence[str] = (), folder: Path = LESSON_DIR
) -> LoadedLesson:
    """Read and validate a lesson and load every step's scenario.

    Parameters
    ----------
    name_or_path
        A shipped lesson's name or a path to a lesson file.
    overrides
        The app's ``--set`` overrides (``scale=0.001`` …), applied to every step's
        scenario before the step's own settings.

    Raises
    ------
    GovsimError
        One line naming the file, the key (``steps[1].watch[0]``), the value and what is
        allowed; for a scenario that does not load, the scenario loader's message.
    """
    path = lesson_path(str(name_or_path), folder)
    data = _read(path)
    try:
        lesson = Lesson.model_validate(data)
    except ValidationError as exc:
        raise GovsimError(_describe(exc, str(path))) from None
    scenarios = []
    for i, step in enumerate(lesson.steps):
        file = (path.parent / step.scenario).resolve()
        where = f"{path}: steps[{i}]"
        if not file.is_file():
            raise GovsimError(
                f"{where}.scenario = {fmt_value(step.scenario)}: no such scenario file "
                f"({file}); give a path relative to the lesson file, e.g. "
                '"../scenarios/yancheng.toml"'
            )
        try:
            sc = load_scenario(file, [*overrides, *step.set])
        except GovsimError as exc:
            raise GovsimError(
                f"{where} (scenario = {fmt_value(step.scenario)}, set = {fmt_value(step.set)}): "
                f"{exc}"
            ) from None
        if scenarios:
            shaped = GovernanceModel.city_shaping_changes(scenarios[-1], sc)
            if shaped:
                raise GovsimError(
                    f"{where}: the preset changes {', '.join(shaped)} from the step before; "
                    "a lesson runs one city, which these fields shape (the class's run "
                    "would restart at day 0): set them from the first step on"
                )
        scenarios.append(sc)
    return LoadedLesson(path.stem, path, lesson, tuple(scenarios))


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GovsimError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise GovsimError(f"{path}: cannot read the lesson file: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GovsimError(f"{path}: {describe_toml_error(exc, text)}") from None


def _walk(loc: Sequence[Any]) -> tuple[Any, str, list[str]]:
    """(type at ``loc``, nearest description, field names of its table) in :class:`Lesson`."""
    tp: Any = Lesson
    description, fields = "", list(Lesson.model_fields)
    for part in loc:
        tp = unwrap(tp)
        model = model_class(tp)
        if model is not None and isinstance(part, str):
            fields = list(model.model_fields)
            f = model.model_fields.get(part)
            if f is None:
                return None, description, fields
            tp, description = f.annotation, f.description or description
        elif typing.get_origin(tp) is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        else:
            return None, description, fields
    return unwrap(tp), description, fields


def _describe(exc: ValidationError, where: str) -> str:
    """Every problem of a lesson file on one line: ``file: key = value: rule (meaning)``."""
    out: list[str] = []
    errors = exc.errors(include_url=False)
    # a typo'd key often explains a missing one: unknown keys first, missing keys last
    errors.sort(key=lambda e: {"extra_forbidden": 0, "missing": 2}.get(e["type"], 1))
    for err in errors:
        loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
        path = dotted(loc)
        if kind == "extra_forbidden":
            _, _, fields = _walk(loc[:-1] + ("\0",))
            parent = dotted(loc[:-1]) or "the top level"
            hint = suggest(str(loc[-1]), fields)
            text = f"{path} = {fmt_value(value)}: unknown key in {parent}; {hint}"
        elif kind == "missing":
            _, desc, _ = _walk(loc)
            text = f"{path}: required key is missing" + (f" ({desc})" if desc else "")
        elif kind == "value_error":
            reason = str((err.get("ctx") or {}).get("error") or err["msg"])
            text = f"{path} = {fmt_value(value)}: {reason}"
        else:
            tp, desc, _ = _walk(loc)
            rule = allowed_text(kind, err.get("ctx") or {}, err["msg"], value, tp)
            text = f"{path} = {fmt_value(value)}: {rule}" + (f" ({desc})" if desc else "")
        if text not in out:
            out.append(text)
    return one_line(f"{where}: " + "; also ".join(out))


# --------------------------------------------------------------------------- running


@dataclass
class StepResult:
    """What a step did: its days and, per watched metric, the mean over its days and
    over the step before (None for the first step)."""

    first_day: int
    last_day: int
    means: dict[str, float]
    before: dict[str, float | None]


@dataclass(eq=False)
class LessonRun:
    """A lesson in progress on a page's :class:`~sim.app.session.Session`.

    ``done`` steps have run; the page shows the last one run (its passage, what to
    watch with its numbers, the questions) and :meth:`advance` runs the next.
    """

    loaded: LoadedLesson
    session: Any  # sim.app.session.Session (typed loosely: the session imports figures)
    done: int = 0
    results: list[StepResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start()

    @property
    def lesson(self) -> Lesson:
        return self.loaded.lesson

    @property
    def finished(self) -> bool:
        return self.done >= len(self.lesson.steps)

    @property
    def current(self) -> LessonStep | None:
        """The step run last (None before the first)."""
        return self.lesson.steps[self.done - 1] if self.done else None

    @property
    def upcoming(self) -> LessonStep | None:
        """The step :meth:`advance` runs next (None at the end)."""
        return None if self.finished else self.lesson.steps[self.done]

    def start(self) -> None:
        """One configuration, the first step's preset, day 0."""
        s = self.session
        with s.lock:
            s.set_ab(False)
            s.apply_scenario(0, self.loaded.scenarios[0])
            s.reset()
        self.done, self.results = 0, []

    def advance(self) -> StepResult | None:
        """Apply the next step's preset from the next day on (the run keeps its state)
        and run the step's days; returns what it did (None when the lesson is over)."""
        step = self.upcoming
        if step is None:
            return None
        s = self.session
        with s.lock:
            s.apply_scenario(0, self.loaded.scenarios[self.done])
            first = s.day
            s.step(step.days)
            result = self._result(step, first, s.day)
        self.results.append(result)
        self.done += 1
        return result

    def _result(self, step: LessonStep, first: int, last: int) -> StepResult:
        daily = self.session.runs[0].daily()
        day = daily["day"]
        prev = self.results[-1] if self.results else None

        def mean(key: str, lo: int, hi: int) -> float:
            v = np.asarray(daily[key], float)[(day >= lo) & (day < hi)]
            v = v[np.isfinite(v)]
            return float(v.mean()) if v.size else float("nan")

        means = {k: mean(k, first, last) for k in step.watch}
        before = {
            k: mean(k, prev.first_day, prev.last_day) if prev is not None else None
            for k in step.watch
        }
        return StepResult(first, last, means, before)


# --------------------------------------------------------------------------- words


def _fmt(key: str, value: float | None, lang: str, signed: bool = False) -> str:
    """A watched metric's value with its unit (a count is a mean per day)."""
    if value is None or not np.isfinite(value):
        return "—"
    unit = DAILY_COLUMNS[key][2]
    sign = ("+" if value > 0 else "−" if value < 0 else "±") if signed else ""
    v = abs(value) if signed else value
    if unit == "share":
        return f"{sign}{100 * v:.1f}" + (
            "个百分点" if signed and lang == "zh" else " pp" if signed else "%"
        )
    if unit == "days":
        return f"{sign}{v:.2f}" + (" 天" if lang == "zh" else " days")
    if unit == "0-100":
        return f"{sign}{v:.1f}"
    return f"{sign}{v:.1f}" + ("/天" if lang == "zh" else "/day")


def watch_lines(step: LessonStep, result: StepResult, lang: str) -> list[str]:
    """What to watch, with the step's means, e.g.
    ``"转办次数：本步平均 6.0/天（上一步 33.8/天，−27.8/天）"``."""

    out = []
    for k in step.watch:
        zh, en, _ = DAILY_COLUMNS[k]
        name = zh if lang == "zh" else en
        now, before = result.means[k], result.before[k]
        if before is None:
            out.append(t("lesson_watch_first", lang, name=name, now=_fmt(k, now, lang)))
        else:
            out.append(
                t(
                    "lesson_watch_line", lang, name=name, now=_fmt(k, now, lang),
                    before=_fmt(k, before, lang), delta=_fmt(k, now - before, lang, signed=True),
                )
            )  # fmt: skip
    return out
