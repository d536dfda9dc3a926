"""Guided lessons (issue 15, deliverable 3): the lesson files, their loader and a real run.

The shipped lessons (``lessons/*.toml``) must load, quote the article verbatim under the
right section, use existing scenarios and fit 15–20 minutes. A bad lesson file is one
clear line naming the file, the key, the value and what is allowed. A lesson is run end
to end through :class:`sim.app.session.Session` (the real model, small scale) and must
give the same days as applying its presets by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.app.lessons import (
    LESSON_DIR,
    LESSON_MINUTES,
    LessonRun,
    available_lessons,
    load_lesson,
)
from sim.app.session import Session, SimRun
from sim.errors import GovsimError
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = (ROOT / "docs" / "sources" / "article.txt").read_text(encoding="utf-8")
SMALL = ["scale=0.002"]
SHIPPED = ("silo_to_command", "mediation", "urban_rural")
NUMERALS = "一二三四五六"


def _article_section(passage: str) -> int:
    """The article's section number (1–6) the passage is quoted from."""
    at = ARTICLE.index(passage)
    heads = [(m.start(), int(m.group(1))) for m in re.finditer(r"^([1-6]) ", ARTICLE, re.M)]
    return max(n for start, n in heads if start < at)


# --------------------------------------------------------------------------- shipped


def test_three_lessons_are_shipped_in_the_repository():
    assert LESSON_DIR == ROOT / "lessons"
    assert set(SHIPPED) <= set(available_lessons())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_lesson_validates_and_fits_the_class(name):
    loaded = load_lesson(name, SMALL)
    lesson = loaded.lesson
    lo, hi = LESSON_MINUTES
    assert lo <= lesson.minutes <= hi, f"{name}: {lesson.minutes} min"
    assert len(loaded.scenarios) == len(lesson.steps) >= 2
    for step, sc in zip(lesson.steps, loaded.scenarios, strict=True):
        assert (loaded.path.parent / step.scenario).resolve().parent == ROOT / "scenarios"
        assert sc.scale == 0.002  # the app's overrides reach every step
        # the passage is the article's own words, under the section it names
        assert step.passage.zh in ARTICLE, step.passage.zh
        n = _article_section(step.passage.zh)
        assert step.passage.section_zh.startswith(NUMERALS[n - 1] + "、"), step.passage.section_zh
        assert step.passage.section_en.startswith(f"{n} ")
        assert step.questions and all(q.zh and q.en for q in step.questions)
        assert step.notes_zh and step.notes_en


def test_shipped_lessons_teach_what_the_issue_asks():
    silo = load_lesson("silo_to_command", SMALL)
    names = [sc.name for sc in silo.scenarios]
    assert names[:2] == ["siloed", "command_centre"]
    med = load_lesson("mediation", SMALL)
    assert not med.scenarios[0].levers.capability.online_mediation
    assert med.scenarios[1].levers.capability.online_mediation
    ur = load_lesson("urban_rural", SMALL)
    assert "urban_rural" in [sc.name for sc in ur.scenarios]


# --------------------------------------------------------------------------- bad files

GOOD_STEP = """
[[steps]]
title_zh = "第一步"
title_en = "Step one"
minutes = 5
scenario = "{scenario}"
days = 3
watch = ["security_index"]
indicator = "unresolved"
passage = {{ section_zh = "四、", section_en = "4", zh = "原文", en = "text" }}
questions = [{{ zh = "问题？", en = "Question?" }}]
notes_zh = "备注"
notes_en = "Notes"
"""
HEAD = 'title_zh = "课"\ntitle_en = "Lesson"\nsummary_zh = "目标"\nsummary_en = "Goal"\n'


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.toml"
    scenario = (ROOT / "scenarios" / "yancheng.toml").as_posix()
    p.write_text(text.replace("{scenario}", scenario), encoding="utf-8")
    return p


def _step(**changes) -> str:
    text = GOOD_STEP.replace("{{", "{").replace("}}", "}")
    for line_start, new in changes.items():
        text = re.sub(rf"^{line_start} = .*$", new, text, flags=re.M)
    return text


def test_a_good_minimal_file_loads(tmp_path):
    loaded = load_lesson(_write(tmp_path, HEAD + _step()), SMALL)
    assert loaded.lesson.minutes == 5 and loaded.name == "bad"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            HEAD + _step(watch='watch = ["securty_index"]'),
            ["bad.toml", "steps[0].watch", "securty_index", "did you mean 'security_index'"],
        ),
        (
            HEAD + _step(minutes="minutes = 0"),
            ["bad.toml", "steps[0].minutes = 0", "must be ≥ 1", "Class time"],
        ),
        (
            HEAD + _step(days='days = "sixty"'),
            ['steps[0].days = "sixty"', "must be an integer, got a string"],
        ),
        (
            HEAD + _step(minutes="minute = 5"),
            ["steps[0].minute = 5", "unknown key in steps[0]", "did you mean 'minutes'"],
        ),
        (
            HEAD.replace('summary_en = "Goal"\n', "") + _step(),
            ["bad.toml", "summary_en: required key is missing"],
        ),
        (
            HEAD + _step(indicator='indicator = "trsut"'),
            ["steps[0].indicator", "trsut", "did you mean 'trust'"],
        ),
        (HEAD, ["steps: required key is missing"]),
        (
            HEAD + _step(scenario='scenario = "../scenarios/nowhere.toml"'),
            ["bad.toml: steps[0].scenario", "nowhere.toml", "no such scenario file"],
        ),
        (
            HEAD + _step() + 'set = ["levers.capability.workers_per_grid=0"]\n',
            ["bad.toml: steps[0]", "levers.capability.workers_per_grid = 0", "must be ≥ 1"],
        ),
        (HEAD + "[[steps]\n", ["bad.toml", "TOML syntax error at line 5"]),
    ],
)
def test_bad_lesson_file_is_one_clear_line(tmp_path, text, words):
    with pytest.raises(GovsimError) as e:
        load_lesson(_write(tmp_path, text), SMALL)
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_a_later_step_may_not_reshape_the_city(tmp_path):
    second = _step() + 'set = ["levers.capability.digital_inclusion=0.5"]\n'
    with pytest.raises(GovsimError) as e:
        load_lesson(_write(tmp_path, HEAD + _step() + second), SMALL)
    msg = str(e.value)
    assert "steps[1]" in msg and "levers.capability.digital_inclusion" in msg
    assert "first step" in msg


def test_unknown_lesson_name_lists_the_lessons():
    with pytest.raises(GovsimError) as e:
        load_lesson("silo_to_comand")
    assert "did you mean 'silo_to_command'" in str(e.value)


# --------------------------------------------------------------------------- a real run


def test_lesson_runs_end_to_end_through_the_session():
    loaded = load_lesson("silo_to_command", SMALL)
    steps = loaded.lesson.steps
    session = Session(load_scenario(ROOT / "scenarios" / "yancheng.toml", SMALL))
    session.step(5)  # whatever was on screen before: the lesson starts afresh
    run = LessonRun(loaded, session)
    assert session.day == 0 and run.current is None and run.upcoming is steps[0]
    assert session.runs[0].scenario == loaded.scenarios[0]
    day = 0
    for k, step in enumerate(steps):
        result = run.advance()
        assert run.current is step and run.done == k + 1
        assert (result.first_day, result.last_day) == (day, day + step.days)
        day += step.days
        assert session.day == day  # the city kept running: no restart
        assert session.runs[0].scenario == loaded.scenarios[k]
        assert session.runs[0].restarts == 0
        assert set(result.means) == set(step.watch)
        assert all(np.isfinite(v) for v in result.means.values())
        assert (k == 0) == all(v is None for v in result.before.values())
    assert run.finished and run.upcoming is None and run.advance() is None
    # the lesson's days are exactly those of applying its presets by hand mid-run
    by_hand = SimRun(loaded.scenarios[0])
    for step, sc in zip(steps, loaded.scenarios, strict=True):
        by_hand.set_scenario(sc)
        for _ in range(step.days):
            by_hand.step()
    got, want = session.runs[0].daily(), by_hand.daily()
    for key in ("security_index", "transfers", "mean_resolution_days", "misuse_incidents"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    # the class record knows which levers the lesson moved, and on which day
    moved = {(d, p) for d, p, _, _ in session.runs[0].history}
    assert (steps[0].days, "levers.data.centre_integration") in moved
    assert (steps[0].days + steps[1].days, "levers.data_governance.access_logging") in moved


def test_starting_a_lesson_again_starts_at_day_0():
    loaded = load_lesson("mediation", SMALL)
    session = Session(loaded.scenarios[0])
    run = LessonRun(loaded, session)
    run.advance()
    first = session.runs[0].daily()["open_dispute"].copy()
    run.start()
    assert session.day == 0 and run.done == 0 and not run.results
    run.advance()
    np.testing.assert_array_equal(session.runs[0].daily()["open_dispute"], first)
