"""The teaching page in a real headless Chromium, with the network cut off (slow).

Debian's ``chromium`` (/usr/bin/chromium; ``.ci/install_browser.sh`` installs it with
``fonts-noto-cjk``) is driven by pip's ``playwright`` with ``executable_path``: no
browser is downloaded. ``govsim app`` runs as a subprocess on a free localhost port.
Every request to anything but localhost is aborted and recorded; the tests assert none
was made. Screenshots go to ``artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from sim.app.bench import CHROMIUM, CHROMIUM_ARGS
from sim.app.cli import app_command, register
from sim.app.lessons import load_lesson
from sim.app.webfont import WEBFONT_FAMILY, WEBFONT_FILE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
TIMEOUT_MS = 60_000

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (/usr/bin/chromium missing): run "
        ".ci/install_browser.sh (apt-get install chromium fonts-noto-cjk)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect


@pytest.fixture(scope="module")
def server():
    """``govsim app scenarios/yancheng.toml --port 0`` (1:100) as a subprocess."""
    p = argparse.ArgumentParser()
    register(p.add_subparsers())
    args = p.parse_args(["app", str(ROOT / "scenarios" / "yancheng.toml"), "--port", "0"])
    cmd, env, url = app_command(args)
    log = SHOTS.parent / "app_server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"govsim app exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"govsim app did not answer at {url}: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)  # govsim stops its server (issue 15)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """A browser context (one student) with its page and what it asked the network for."""

    def __init__(self, browser, url: str):
        self.outside: list[str] = []
        self.failed: list[tuple[int, str]] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1600, "height": 1400}, locale="zh-CN")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("response", self._response)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.page.wait_for_selector("#govsim-step")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _response(self, response):
        if response.status >= 400:
            self.failed.append((response.status, response.url))

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            before = self.day_text()
            self.page.click("#govsim-step")
            expect(self.page.locator("#govsim-day")).not_to_have_text(before)

    def day_text(self) -> str:
        return self.page.inner_text("#govsim-day")

    def curves(self) -> list[dict]:
        return json.loads(self.page.text_content("#govsim-curves"))

    def chart_png(self) -> bytes:
        return self.page.locator("#govsim-charts canvas").screenshot()

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        try:
            assert self.outside == [], f"requests outside localhost: {self.outside}"
            assert self.failed == [], f"failed requests: {self.failed}"
            assert self.errors == [], f"page errors: {self.errors}"
        finally:
            self.context.close()


@pytest.fixture
def visit(browser, server):
    visits: list[Visit] = []

    def open_visit() -> Visit:
        v = Visit(browser, server)
        visits.append(v)
        return v

    yield open_visit
    for v in visits:
        v.close()


def _platform_fonts(page, selector: str) -> list[dict]:
    """The fonts Chromium really used to draw the text of ``selector`` (DevTools)."""
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    cdp.send("CSS.enable")
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def test_page_loads_offline_in_chinese(visit):
    v = visit()
    page = v.page
    expect(page.locator("#govsim-day")).to_have_text("第 0 天")
    assert "盐城市域社会治理" in page.title()
    body = page.inner_text("body")
    for words in (
        "治理举措",
        "一、完善市域社会治理体系",
        "五、数据赋能",
        "单步",
        "获得感",
        "今日动态",
    ):
        assert words in body, words
    # the page asks for a CJK font stack, and Chromium drew the Chinese with a CJK font
    family = page.evaluate("getComputedStyle(document.querySelector('#govsim-day')).fontFamily")
    assert WEBFONT_FAMILY in family and "Microsoft YaHei" in family
    fonts = _platform_fonts(page, "#govsim-day")
    assert any(f["familyName"] == WEBFONT_FAMILY for f in fonts), fonts
    v.step(2)
    # the day label and the feed are separate widgets, updated by separate messages:
    # wait for the feed to show the second day rather than read it at once
    expect(page.locator(".govsim-feed")).to_contain_text("第2天")
    v.shot("page_zh.png")


def test_lever_then_step_changes_model_and_chart(visit):
    v = visit()
    page = v.page
    v.step(1)
    chart_before = v.chart_png()
    page.get_by_text("四、提升市域社会治理能力").click()
    lever = page.locator('[data-lever="levers.capability.workers_per_grid"]')
    lever.locator("[role=slider]").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    expect(page.locator("#govsim-changed-a")).to_contain_text(
        "每网格网格员数 1 人/网格 → 2 人/网格"
    )
    expect(lever).to_contain_text("每网格网格员数：2 人/网格")
    expect(lever).to_contain_text("§四 · 每个网格的专职网格员人数（单位：人/网格）")
    v.step(3)
    expect(page.locator("#govsim-day")).to_have_text("第 4 天")
    # the chart image arrives in its own widget update: give it time to be redrawn
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while v.chart_png() == chart_before:
        assert time.monotonic() < deadline, "the chart was not redrawn after the steps"
        page.wait_for_timeout(250)
    assert v.curves()[0]["gain_index"] is not None
    v.shot("lever_step_zh.png")


def test_ab_mode_two_configurations_two_curves(visit):
    v = visit()
    page = v.page
    page.click("#govsim-mode >> text=A/B 对比")
    expect(page.locator("#govsim-map-b")).to_be_visible()
    page.click("#govsim-editing >> text=配置 B")
    page.click("#govsim-preset .v-select__slot")
    page.get_by_role("option", name="精网微格", exact=True).click()
    expect(page.get_by_text("B ≠ A")).to_be_visible()
    page.click("#govsim-play")
    deadline = time.monotonic() + 90
    while int("".join(ch for ch in v.day_text() if ch.isdigit()) or 0) < 12:
        assert time.monotonic() < deadline, "play did not advance the days"
        page.wait_for_timeout(250)
    page.click("#govsim-pause")
    page.wait_for_timeout(500)
    a, b = v.curves()
    assert a != b, "A and B show the same curves"
    assert (
        a["mean_resolution_days"] != b["mean_resolution_days"] or a["gain_index"] != b["gain_index"]
    )
    table = page.inner_text("#govsim-summary")
    assert "A" in table and "B" in table
    v.shot("page_ab_zh.png")


def test_english_switch(visit):
    v = visit()
    page = v.page
    page.click("#govsim-lang")
    expect(page.locator("#govsim-day")).to_have_text("Day 0")
    v.step(2)
    body = page.inner_text("body")
    for words in ("Governance levers", "1 Governance system", "Step", "sense of gain"):
        assert words in body, words
    assert "治理举措" not in body
    page.click("#govsim-lang")
    expect(page.locator("#govsim-day")).to_have_text("第 2 天")
    page.click("#govsim-lang")
    expect(page.locator("#govsim-day")).to_have_text("Day 2")
    v.shot("page_en.png")


def test_two_students_have_independent_models(visit):
    s1, s2 = visit(), visit()
    s1.step(3)
    expect(s1.page.locator("#govsim-day")).to_have_text("第 3 天")
    expect(s2.page.locator("#govsim-day")).to_have_text("第 0 天")
    s2.step(1)
    expect(s2.page.locator("#govsim-day")).to_have_text("第 1 天")
    expect(s1.page.locator("#govsim-day")).to_have_text("第 3 天")
    s1.page.click("#govsim-reset")
    expect(s1.page.locator("#govsim-day")).to_have_text("第 0 天")
    expect(s2.page.locator("#govsim-day")).to_have_text("第 1 天")


def test_lever_change_mid_run_keeps_state(visit):
    """Issue 15: switching a lever on and off mid-run leaves the run as it was (the state
    is kept: before, any lever zeroed activation and effort)."""
    moved, plain = visit(), visit()
    moved.step(6)
    page = moved.page
    page.get_by_text("四、提升市域社会治理能力").click()
    switch = page.locator('[data-lever="levers.capability.online_mediation"] input')
    switch.click(force=True)
    expect(page.locator("#govsim-changed-a")).to_contain_text("关 → 开")
    switch.click(force=True)
    expect(page.locator("#govsim-changed-a")).to_have_count(0)
    moved.step(8)
    plain.step(14)
    assert moved.curves() == plain.curves()


def test_ab_with_b_equal_to_a_identical(visit):
    v = visit()
    page = v.page
    page.click("#govsim-mode >> text=A/B 对比")
    expect(page.locator("#govsim-map-b")).to_be_visible()
    page.click("#govsim-editing >> text=配置 B")
    page.click("#govsim-preset .v-select__slot")
    page.get_by_role("option", name="精网微格", exact=True).click()
    expect(page.get_by_text("B ≠ A")).to_be_visible()
    page.click("#govsim-preset .v-select__slot")
    page.get_by_role("option", name="盐城基线：部分整合", exact=True).click()
    expect(page.get_by_text("B ≠ A")).to_have_count(0)
    v.step(10)
    a, b = v.curves()
    assert a == b, "B = A shows different curves"
    assert a["security_index"] is not None


def test_exports_download(visit):
    v = visit()
    page = v.page
    v.step(5)
    checks = {
        "charts": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
        "daily": lambda b: b.decode("utf-8-sig").startswith("配置 config,天 day"),
        "events": lambda b: b.decode("utf-8-sig").startswith("配置 config,天 day,类型"),
        "record": lambda b: b"<!DOCTYPE html>" in b and "课堂记录".encode() in b,
    }
    for key, ok in checks.items():
        with page.expect_download() as info:
            page.click(f"#govsim-export-{key} button")
        data = Path(info.value.path()).read_bytes()
        assert len(data) > 100 and ok(data), (key, data[:80])
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS.parent / info.value.suggested_filename).write_bytes(data)


FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts/truetype/dejavu</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""
CJK_FAMILY_WORDS = ("CJK", "Hei", "WenQuanYi", "Droid", "Source Han", "Ming", "Song")


def test_chinese_glyphs_without_system_cjk_font(browser, server, tmp_path):
    """Issue 15: a browser whose fontconfig sees no CJK font (DejaVu only) still draws the
    page's Chinese, with the web font the page's own server sends."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(FONTS_CONF.format(cache=tmp_path / "fc-cache"))
    env = dict(os.environ, FONTCONFIG_FILE=str(conf))
    if True:  # a second Chromium from the same Playwright, with the restricted fontconfig
        b = browser.browser_type.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
        try:
            v = Visit(b, server)
            fonts_from: list[str] = []
            v.page.on(
                "response",
                lambda r: fonts_from.append(r.url) if r.url.endswith(WEBFONT_FILE) else None,
            )
            page = v.page
            page.reload()
            page.wait_for_selector("#govsim-step")
            page.evaluate("document.fonts.ready")
            expect(page.locator("#govsim-day")).to_have_text("第 0 天")
            # the control: without the web font this browser has no CJK glyphs at all
            page.evaluate(
                "() => { const d = document.createElement('div'); d.id = 'probe';"
                " d.style.fontFamily = 'DejaVu Sans'; d.textContent = '盐城安全感';"
                " document.body.appendChild(d); }"
            )
            probe = [f["familyName"] for f in _platform_fonts(page, "#probe")]
            assert not any(w in f for f in probe for w in CJK_FAMILY_WORDS), probe
            status = page.evaluate(
                f"[...document.fonts].filter(f => f.family.includes('{WEBFONT_FAMILY}'))"
                ".map(f => f.status)"
            )
            assert "loaded" in status, status
            used = [f["familyName"] for f in _platform_fonts(page, "#govsim-day")]
            assert WEBFONT_FAMILY in used, used
            assert fonts_from and all(urlparse(u).hostname in LOCAL_HOSTS for u in fonts_from)
            v.shot("page_zh_no_system_cjk.png")
            v.close()
        finally:
            b.close()


def test_projector_layout_fits_1280x720(browser, server):
    """Issue 15: in 投影模式 at 1280×720 the controls, the day, the chart, the event feed
    and the summary table are inside the viewport (bounding boxes), and the chart's
    smallest text is ≥ 14 px on screen. Proxy for the text: the PNG's smallest font in
    image pixels (``data-font-px``, from matplotlib's font size at the figure's dpi)
    times the displayed/natural width ratio of the image."""
    v = Visit(browser, server)
    try:
        page = v.page
        page.set_viewport_size({"width": 1280, "height": 720})
        page.click("#govsim-projector")
        expect(page.locator(".govsim-projector")).to_have_count(1)
        v.step(3)
        expect(page.locator(".govsim-feed")).to_contain_text("第3天")
        page.wait_for_timeout(500)
        for sel in ("#govsim-step", "#govsim-play", "#govsim-day", "#govsim-charts canvas",
                    "#govsim-summary", ".govsim-feed"):  # fmt: skip
            box = page.locator(sel).first.bounding_box()
            assert box is not None, sel
            assert box["x"] >= 0 and box["y"] >= 0, (sel, box)
            assert box["x"] + box["width"] <= 1280 + 1, (sel, box)
            assert box["y"] + box["height"] <= 720 + 1, (sel, box)
        font_px = float(page.get_attribute("#govsim-charts", "data-font-px"))
        shown, natural = page.evaluate(
            "(() => { const c = document.querySelector('#govsim-charts canvas');"
            " return [c.clientWidth, c.width]; })()"
        )
        assert natural > 0
        assert font_px * shown / natural >= 14.0, (font_px, shown, natural)
        # the table and feed text are large too
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.govsim-summary td')).fontSize)"
        )
        assert size >= 16
        v.shot("page_projector_1280x720.png")
    finally:
        v.close()


def test_county_drill_down_and_why_list(visit):
    v = visit()
    page = v.page
    v.step(2)
    expect(page.locator("#govsim-county")).to_be_visible()
    page.click("#govsim-county .v-select")
    page.get_by_role("option", name="射阳县").click()
    expect(page.locator("#govsim-county-a")).to_contain_text("射阳县")
    expect(page.locator("#govsim-county-a")).to_contain_text("聚集性事件")
    assert "指数为何变化" in page.inner_text("body")


def test_lesson_end_to_end_with_one_button(visit):
    """Issue 15: the teacher picks a lesson and runs it with ONE button, 下一步: each
    press applies the step's preset to the running city and runs its days; the panel
    shows the article's passage, what to watch and the questions; the teacher's notes
    are folded on the laptop and absent in projector mode."""
    lesson = load_lesson("silo_to_command").lesson
    v = visit()
    page = v.page
    v.step(3)  # whatever the class did before: the lesson starts afresh at day 0
    page.click("#govsim-lesson-pick .v-select__slot")
    page.get_by_role("option", name=lesson.title_zh, exact=True).click()
    panel = page.locator("#govsim-lesson")
    expect(panel).to_have_attribute("data-step", "0")
    expect(page.locator("#govsim-day")).to_have_text("第 0 天")
    expect(panel).to_contain_text(lesson.steps[0].title_zh)  # the plan
    day = 0
    for k, step in enumerate(lesson.steps, start=1):
        page.click("#govsim-lesson-next")
        day += step.days
        expect(panel).to_have_attribute("data-step", str(k))
        expect(page.locator("#govsim-day")).to_have_text(f"第 {day} 天")
        expect(page.locator("#govsim-lesson-passage")).to_contain_text(step.passage.zh)
        expect(panel).to_contain_text(step.questions[0].zh)
        watch = page.locator("#govsim-lesson-watch li")
        expect(watch).to_have_count(len(step.watch))
        notes = page.locator("#govsim-lesson-notes")
        if k == 1:
            expect(watch.first).to_contain_text("本步平均")
            expect(notes).to_be_hidden()  # folded until the teacher opens them
            page.get_by_text("教师备注（投影模式下隐藏）").click()
        else:
            expect(watch.first).to_contain_text("上一步")
        expect(notes).to_be_visible()  # opened once, they stay open and follow the step
        expect(notes).to_contain_text(step.notes_zh[:20])
    expect(page.locator("#govsim-lesson-next")).to_be_disabled()
    expect(panel).to_contain_text("课程结束")
    # the presets were applied mid-run (the record lists the levers the lesson moved)
    expect(page.locator("#govsim-changed-a")).to_have_count(0)  # the run is at its preset
    v.shot("lesson_zh.png")
    page.click("#govsim-projector")
    expect(page.locator(".govsim-projector")).to_have_count(1)
    expect(page.locator("#govsim-lesson-passage")).to_contain_text(lesson.steps[-1].passage.zh)
    expect(page.locator("#govsim-lesson-notes")).to_have_count(0)
    v.shot("lesson_projector_zh.png")


def test_page_benchmark_measures_steps_in_the_browser(browser):
    """sim.app.bench --browser: steps timed in headless Chromium (keys, not timings)."""
    from sim.app.bench import benchmark_browser

    scenario = str(ROOT / "scenarios" / "yancheng.toml")
    r = benchmark_browser(scenario, frames=3, warmup=1, browser=browser)
    assert r["frames"] == 3
    assert 0 < r["browser_step_min_ms"] <= r["browser_step_ms"] <= r["browser_step_p90_ms"]
