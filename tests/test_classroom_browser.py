"""Role play (沙盘推演) in real headless Chromium: a teacher and three groups at once (slow).

``govsim app --roleplay`` runs as a subprocess (1:1000, rounds of 5 days, the class saved
in a temporary folder); four browser contexts — the teacher and three groups, each its
own browser session — play one round. One group tries another role's lever and is
refused; the 复盘 page shows the decisions; then the server is stopped with SIGTERM and
started again on the same folder, and the groups' and the teacher's pages, reloaded,
show the same class (restored from disk). Browser set-up as in ``test_app_browser.py``
(Debian's chromium, no request leaves localhost).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from test_app_browser import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, SHOTS, TIMEOUT_MS

from sim.app.cli import app_command, register

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ROUND_DAYS = 5

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (.ci/install_browser.sh)",
                allow_module_level=True)  # fmt: skip
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect


class Server:
    """``govsim app --roleplay`` on a free port, the class saved in ``folder``."""

    def __init__(self, folder: Path, log: Path) -> None:
        p = argparse.ArgumentParser()
        register(p.add_subparsers())
        args = p.parse_args([
            "app", str(ROOT / "scenarios" / "yancheng.toml"), "--scale", "0.001",
            "--port", "0", "--roleplay", "--round-days", str(ROUND_DAYS),
            "--classroom-dir", str(folder),
        ])  # fmt: skip
        cmd, env, self.url = app_command(args)
        self.key = (folder / "teacher.key").read_text().strip()
        self.log = log
        with log.open("a") as out:
            self.proc = subprocess.Popen(
                cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer at {self.url}: {log.read_text()[-2000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Browser:
    """One browser context (the teacher or a group), cut off from everything but localhost."""

    def __init__(self, browser, url: str) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                           locale="zh-CN")  # fmt: skip
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, url: str, selector: str) -> None:
        """Go to ``url`` and wait (up to the page's timeout) until ``selector`` is there:
        the first page of a new server restores the class first."""
        self.page.goto(url)
        self.page.wait_for_selector(selector)

    def join(self, code: str, name: str, role: str) -> str:
        page = self.page
        page.fill("#govsim-join-code input", code)
        page.wait_for_selector("#govsim-join-name input")
        page.fill("#govsim-join-name input", name)
        page.click("#govsim-join-role .v-select__slot")
        page.get_by_role("option", name=role, exact=True).click()
        page.click("#govsim-join")
        expect(page.locator("#govsim-role")).to_contain_text(name)
        assert "token=" in page.url
        return page.url.split("?", 1)[1]

    def slider_right(self, path: str, scope: str = "") -> None:
        lever = self.page.locator(f'{scope} [data-lever="{path}"]'.strip())
        lever.locator("[role=slider]").focus()
        self.page.keyboard.press("ArrowRight")
        self.page.keyboard.press("Tab")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / name), full_page=True)

    def close(self) -> None:
        try:
            assert self.outside == [], f"requests outside localhost: {self.outside}"
            assert self.errors == [], f"page errors: {self.errors}"
        finally:
            self.context.close()


def test_teacher_and_three_groups_play_a_round_then_the_server_restarts(tmp_path):
    folder = tmp_path / "classroom"
    log = SHOTS.parent / "classroom_server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    server = Server(folder, log)
    visits: list[Browser] = []
    try:
        with sync_api.sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

            def visit(url: str) -> Browser:
                v = Browser(chromium, url)
                visits.append(v)
                return v

            # the teacher opens a class and gets its join code
            teacher = visit(f"{server.url}?teacher={server.key}")
            teacher.page.click("#govsim-open-class")
            code = teacher.page.inner_text("#govsim-code").strip()
            assert len(code) == 6 and f"code={code}" in teacher.page.url
            # a wrong teacher key shows no console
            intruder = visit(f"{server.url}?teacher=guess")
            expect(intruder.page.get_by_text("教师地址无效")).to_be_visible()

            # three groups join from their own browsers
            justice, county, centre = visit(server.url), visit(server.url), visit(server.url)
            q_justice = justice.join(code, "法治组", "条 · 市司法局")
            q_county = county.join(code, "射阳组", "块 · 射阳县")
            centre.join(code, "指挥组", "指挥中心 · 市社会治理现代化指挥中心")
            # a taken role is no longer offered
            late = visit(server.url)
            late.page.fill("#govsim-join-code input", code)
            late.page.click("#govsim-join-role .v-select__slot")
            expect(late.page.get_by_role("option", name="块 · 射阳县", exact=True)).to_have_count(0)

            # each group moves its own lever: pending until the round
            justice.page.locator('[data-lever="levers.capability.online_mediation"] input').click(
                force=True
            )
            expect(justice.page.locator("#govsim-pending")).to_contain_text(
                "苏解纷在线解纷平台 关 → 开"
            )
            county.slider_right("levers.capability.patrol_hours_per_day")
            expect(county.page.locator("#govsim-pending")).to_contain_text("2 小时/人·天 → 2.5")
            centre.slider_right("levers.data.centre_integration")
            expect(centre.page.locator("#govsim-pending")).to_contain_text("联合指挥中心整合度")

            # the county tries the justice bureau's platform: the server refuses, in Chinese
            # open the read-only panel; under load (CI: xdist and four browsers) a click on
            # its header can land during a re-render and be lost, so click until it opens
            their = county.page.locator(
                '#govsim-others [data-lever="levers.capability.online_mediation"]'
            )
            # (a header click toggles: click again only while the panel is still closed)
            for _ in range(3):
                if not their.is_visible():
                    county.page.get_by_text("其他角色的举措（只读）").click()
                try:
                    their.wait_for(state="visible", timeout=5000)
                    break
                except sync_api.TimeoutError:
                    continue
            # the same under load for the switch: a click lost in a re-render shows no
            # refusal, so try again (every attempt is refused; the pending check below
            # still fails if one got through)
            # refusal; a re-render can also close the panel under the click ("element is
            # not visible"): reopen it and try again
            refusal = county.page.locator("#govsim-refusal")
            for _ in range(3):
                try:
                    if not their.is_visible():
                        county.page.get_by_text("其他角色的举措（只读）").click()
                        their.wait_for(state="visible", timeout=5000)
                    their.locator("input").click(force=True)
                    refusal.wait_for(state="visible", timeout=5000)
                    break
                except sync_api.Error:  # TimeoutError is one too
                    continue
            expect(refusal).to_contain_text("「苏解纷在线解纷平台」由市司法局掌握")
            expect(refusal).to_contain_text("本组（射阳县）无权调整")
            expect(county.page.locator("#govsim-pending")).not_to_contain_text("苏解纷")
            county.shot("classroom_group_refused.png")

            # the teacher sees the groups' pending decisions and starts the round
            groups = teacher.page.locator("#govsim-groups")
            for words in ("法治组", "射阳组", "指挥组", "苏解纷在线解纷平台 关 → 开"):
                expect(groups).to_contain_text(words)
            teacher.page.click("#govsim-advance")
            done = f"已完成 1 轮 · 第 {ROUND_DAYS} 天"
            expect(teacher.page.locator("#govsim-round")).to_contain_text(done)
            teacher.shot("classroom_teacher.png")
            # every group's page follows (they poll the class)
            for v in (justice, county, centre):
                expect(v.page.locator("#govsim-round")).to_contain_text(done)
                expect(v.page.locator("#govsim-pending")).to_contain_text("暂无")
            expect(justice.page.locator(
                '[data-lever="levers.capability.online_mediation"]'
            )).to_contain_text("开")  # fmt: skip

            # the projector view and the 复盘 page
            projector = visit(f"{server.url}?code={code}&view=projector")
            projector.page.wait_for_selector("#govsim-round")
            expect(projector.page.locator("#govsim-round")).to_contain_text(done)
            expect(projector.page.locator("#govsim-charts img")).to_be_visible()
            projector.page.set_viewport_size({"width": 1280, "height": 720})
            projector.shot("classroom_projector.png")
            review = visit(f"{server.url}?code={code}&view=review")
            review.page.wait_for_selector("#govsim-review-decisions")
            decisions = review.page.locator("#govsim-review-decisions")
            for words in ("法治组", "市司法局", "苏解纷在线解纷平台 关 → 开", "射阳组",
                          "铁脚板", "指挥组", "联合指挥中心整合度", "万元"):  # fmt: skip
                expect(decisions).to_contain_text(words)
            expect(review.page.locator("#govsim-review-city")).to_contain_text("第1轮")
            expect(review.page.locator("#govsim-review-counties")).to_contain_text("射阳县")
            expect(review.page.locator("#govsim-review-events")).to_contain_text("第1轮")
            review.shot("classroom_review.png")
            before = review.page.inner_text("#govsim-review-decisions")
            city_before = review.page.inner_text("#govsim-review-city")

            # a browser reload keeps the group's desk
            county.page.reload()
            county.page.wait_for_selector("#govsim-role")
            expect(county.page.locator("#govsim-role")).to_contain_text("射阳组")
            expect(county.page.locator("#govsim-round")).to_contain_text(done)

            # a pending decision, then the server restarts on the same folder
            justice.slider_right("levers.capability.rule_of_law")
            expect(justice.page.locator("#govsim-pending")).to_contain_text("法治化水平")
            server.stop()
            server = Server(folder, log)
            # the first page of the new server restores the class (replays round 1)
            county.open(f"{server.url}?{q_county}", "#govsim-role")
            expect(county.page.locator("#govsim-role")).to_contain_text("射阳组")
            expect(county.page.locator("#govsim-round")).to_contain_text(done)
            justice.open(f"{server.url}?{q_justice}", "#govsim-pending")
            expect(justice.page.locator("#govsim-pending")).to_contain_text("法治化水平")
            review.open(f"{server.url}?code={code}&view=review", "#govsim-review-city")
            expect(review.page.locator("#govsim-review-city")).to_contain_text("第1轮")
            assert review.page.inner_text("#govsim-review-decisions") == before
            assert review.page.inner_text("#govsim-review-city") == city_before
            teacher.open(f"{server.url}?teacher={server.key}&code={code}", "#govsim-groups")
            expect(teacher.page.locator("#govsim-groups")).to_contain_text("射阳组")
            assert not teacher.page.get_by_text("不一致").count()  # the replay matched
            teacher.page.click("#govsim-advance")
            expect(teacher.page.locator("#govsim-round")).to_contain_text(
                f"已完成 2 轮 · 第 {2 * ROUND_DAYS} 天"
            )
            for v in visits:
                v.close()
            chromium.close()
    finally:
        server.stop()
