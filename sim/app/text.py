"""The teaching page's words: Chinese by default, English on the switch.

Terms follow the source article (网格化, 12345, 苏解纷, 获得感/幸福感/安全感). Metric
labels come from :mod:`sim.metrics_schema`; this module holds the page's own words.
"""

from __future__ import annotations

LANGS = ("zh", "en")

# key -> (Chinese, English)
UI: dict[str, tuple[str, str]] = {
    "title": ("盐城市域社会治理 · 课堂沙盘", "Yancheng city governance · classroom simulator"),
    "subtitle": (
        "调整治理举措，看群众的获得感、幸福感、安全感如何变化",
        "Move a governance lever and see what residents get out of it",
    ),
    "lang_switch": ("English", "中文"),
    "play": ("播放", "Play"),
    "pause": ("暂停", "Pause"),
    "step": ("单步", "Step"),
    "reset": ("重置", "Reset"),
    "speed": ("速度(天/秒)", "Speed (days/s)"),
    "day": ("第 {day} 天", "Day {day}"),
    "mode": ("模式", "Mode"),
    "mode_single": ("单一配置", "One configuration"),
    "mode_ab": ("A/B 对比", "A/B comparison"),
    "ab_note": (
        "A、B 两种配置使用同一随机种子：差别来自治理举措，而非偶然。",
        "A and B run on the same seed: the difference comes from the levers, not chance.",
    ),
    "editing": ("调整配置", "Editing configuration"),
    "preset": ("预设方案", "Preset"),
    "levers": ("治理举措", "Governance levers"),
    "restart_note": (
        "改变城市结构，将从第 0 天重新开始",
        "Reshapes the city: the run restarts at day 0",
    ),
    "changed": ("已调整", "Changed"),
    "map": ("城市网格地图", "City grid map"),
    "indicator": ("地图指标", "Map indicator"),
    "charts": ("实时曲线", "Live charts"),
    "events": ("今日动态", "What happened"),
    "no_events": ("尚无动态：请点击“单步”或“播放”。", "Nothing yet: press Step or Play."),
    "config_a": ("配置 A", "Configuration A"),
    "config_b": ("配置 B", "Configuration B"),
    "solid_dashed": ("实线 = A，虚线 = B", "solid = A, dashed = B"),
    "residents": ("{n:,} 名居民 · {g} 个网格 · 比例 1:{s}", "{n:,} residents · {g} grids · 1:{s}"),
    "error": ("无法应用", "Could not apply"),
    "summary": ("当前指标", "Now"),
    "county_map_title": ("盐城市九个县(市、区)", "Yancheng's nine divisions"),
    "chart_indices": ("获得感、幸福感、安全感", "Gain, well-being, security"),
    "chart_resolution": ("平均办结时间(天)", "Mean resolution time (days)"),
    "chart_escalation": ("矛盾升级(每日)", "Escalations (per day)"),
    "chart_marks": ("（▼ 明显变化）", " (▼ notable change)"),
    "projector": ("投影模式", "Projector"),
    "why": ("指数为何变化", "Why the indices moved"),
    "no_changes": ("尚无明显变化（≥0.5分）。", "No notable change yet (≥ 0.5 point)."),
    "why_note": (
        "▼ 标出变化≥0.5分的日子；安全感、幸福感按指数定义拆分，获得感为“与当日事件相关”。",
        "▼ marks changes ≥ 0.5 point; security and well-being are split by the "
        "index definitions, gain is 'related to the day's events'.",
    ),
    "county": ("区县详情", "County detail"),
    "county_pick": (
        "选择区县（地图图片不可点击）",
        "Choose a county (the map image is not clickable)",
    ),
    "county_none": ("全市", "Whole city"),
    "county_counts": (
        "本次运行：聚集性事件 {c} 起 · 信访 {p} 件 · 诉讼 {l} 件",
        "This run: {c} collective incidents · {p} petitions · {l} lawsuits",
    ),
    "axis_day": ("天", "day"),
    "export": ("导出", "Export"),
    "export_charts": ("曲线图 PNG", "Charts PNG"),
    "export_daily": ("每日指标 CSV", "Daily metrics CSV"),
    "export_events": ("事件记录 CSV", "Event log CSV"),
    "export_record": ("课堂记录 HTML", "Class record HTML"),
    # guided lessons (sim/app/lessons.py)
    "lesson": ("课程", "Lesson"),
    "lesson_pick": ("引导课程", "Guided lesson"),
    "lesson_none": ("自由探索（不用课程）", "Free exploration (no lesson)"),
    "lesson_head": (
        "课程：{title} · 第 {k}/{n} 步 · 全课约 {m} 分钟",
        "Lesson: {title} · step {k} of {n} · about {m} min in all",
    ),
    "lesson_intro": (
        "课程：{title} · 共 {n} 步 · 约 {m} 分钟",
        "Lesson: {title} · {n} steps · about {m} min",
    ),
    "lesson_step_time": ("第 {a}–{b} 天 · 约 {m} 分钟", "days {a}–{b} · about {m} min"),
    "lesson_plan_line": ("{title}（{m} 分钟，运行 {d} 天）", "{title} ({m} min, runs {d} days)"),
    "lesson_next": ("下一步", "Next step"),
    "lesson_next_what": ("下一步：{title}（运行 {d} 天）", "Next: {title} (runs {d} days)"),
    "lesson_done": (
        "课程结束。可用“导出”保存课堂记录，或选择其他课程。",
        "The lesson is over. Export the class record, or pick another lesson.",
    ),
    "lesson_exit": ("退出课程", "Leave the lesson"),
    "lesson_passage": ("原文 · {section}", "The article · {section}"),
    "lesson_watch": ("观察", "Watch"),
    "lesson_watch_line": (
        "{name}：本步平均 {now}（上一步 {before}，{delta}）",
        "{name}: step mean {now} (step before {before}, {delta})",
    ),
    "lesson_watch_first": ("{name}：本步平均 {now}", "{name}: step mean {now}"),
    "lesson_questions": ("讨论", "Discuss"),
    "lesson_notes": ("教师备注（投影模式下隐藏）", "Teacher's notes (hidden in projector mode)"),
    "lesson_error": ("无法载入课程", "Could not load the lesson"),
}

# The six sections of the article (DIGEST.md) -> (Chinese, English)
GROUPS: dict[str, tuple[str, str]] = {
    "system": ("一、完善市域社会治理体系", "1 Governance system"),
    "community": ("二、打造社会治理共同体", "2 Governance community"),
    "people": ("三、坚持以人民为中心", "3 People-centred governance"),
    "capability": ("四、提升市域社会治理能力", "4 Governance capability"),
    "data": ("五、数据赋能", "5 Empowering with data"),
    "data_governance": ("六、加强数据治理", "6 Governing data use"),
}

# lever path -> (short Chinese label, short English label)
LEVER_LABELS: dict[str, tuple[str, str]] = {
    "levers.system.coordination_group": ("矛盾纠纷多元化解协调小组", "Dispute coordination group"),
    "levers.system.role_clarity": ("厘清条块角色定位", "Clear roles of departments"),
    "levers.system.mass_org_push": ("群团组织助推", "Mass organisations' push"),
    "levers.system.social_org_budget_yuan_per_resident": (
        "社会组织扶持(元/人·年)",
        "Social-org funds (yuan/resident·yr)",
    ),
    "levers.system.self_governance": ("村（居）协商议事覆盖率", "Community consultation councils"),
    "levers.community.multi_actor_participation": ("多方参与机制", "Multi-actor participation"),
    "levers.community.urban_rural_integration": ("城乡一体化", "Urban–rural integration"),
    "levers.community.video_coverage_vulnerable": (
        "雪亮工程覆盖困难群体",
        "Video (雪亮) coverage of the vulnerable",
    ),
    "levers.people.publicity_education": ("宣传教育", "Publicity and education"),
    "levers.people.public_evaluation": ("群众评价与问责", "Public evaluation"),
    "levers.capability.residents_per_grid": ("精网微格：每网格居民数", "Residents per grid"),
    "levers.capability.workers_per_grid": ("每网格网格员数", "Grid workers per grid"),
    "levers.capability.grids_per_worker": ("每组网格员负责网格数", "Grids per grid-worker beat"),
    "levers.capability.patrol_hours_per_day": ("铁脚板：每日巡查(小时)", "Patrol hours per day"),
    "levers.capability.early_warning": ("风险预测预警", "Risk early warning"),
    "levers.capability.warning_team_staff_per_100k": (
        "预警工作组编制(人/十万人)",
        "Early-warning work-team staff (per 100k)",
    ),
    "levers.capability.key_person_visits": (
        "重点人员走访(次/人·月)",
        "Key-person visits (per person·month)",
    ),
    "levers.capability.online_mediation": ("苏解纷在线解纷平台", "Su Jie Fen online mediation"),
    "levers.capability.digital_inclusion": ("数字包容", "Digital inclusion"),
    "levers.capability.resource_allocation": ("资源调配方式", "Resource allocation"),
    "levers.capability.rule_of_law": ("法治化水平", "Rule of law"),
    "levers.data.centre_integration": ("联合指挥中心整合度", "Command-centre integration"),
    "levers.data.unified_data_standards": ("统一数据标准", "Unified data standards"),
    "levers.data.data_sharing": ("政务云数据共享", "Data sharing (government cloud)"),
    "levers.data_governance.access_logging": ("数据访问终身留痕", "Life-long access logging"),
    "levers.data_governance.permission_control": ("数据使用权限控制", "Permission control"),
    "levers.data_governance.misuse_deterrence": ("数据滥用惩戒", "Deterrence of misuse"),
}

# lever path -> (what it means in Chinese, in English): shown under every lever, with its
# unit and the article's section (§), not only as a tooltip. "{restart}" levers reshape the
# city (the run restarts at day 0).
LEVER_HELP: dict[str, tuple[str, str]] = {
    "levers.system.coordination_group": (
        "成立协调小组后，纠纷在调解层级之间移送不再耽搁",
        "Disputes pass between mediation tiers without a transfer delay",
    ),
    "levers.system.role_clarity": (
        "条块职责越清晰，事项第一次就分到对的部门的概率越高",
        "Clearer roles: a case more often goes to the right department first",
    ),
    "levers.system.mass_org_push": (
        "工会、共青团、妇联等主动发现并服务困难群众的需求",
        "Mass organisations find and serve vulnerable residents' needs",
    ),
    "levers.system.social_org_budget_yuan_per_resident": (
        "财政按常住人口扶持社会组织，决定社会组织能承接多少事项",
        "Public funds for social organisations: how many cases they can take on",
    ),
    "levers.system.self_governance": (
        "有活跃协商议事会的村（居）比例：邻里纠纷、小诉求先由村（居）委会协商化解，"
        "忙不过来的照常上报",
        "Share of villages and communities with an active council: neighbour disputes and "
        "small requests are settled there first; when it is full they go the usual way",
    ),
    "levers.community.multi_actor_participation": (
        "社会组织、志愿者参与发现问题、调解纠纷的程度",
        "How far social organisations and volunteers surface issues and mediate",
    ),
    "levers.community.urban_rural_integration": (
        "城乡公共服务能力均等：0 为现状(偏向城镇)，1 为城乡相同",
        "Equal service capacity: 0 today's urban bias, 1 the same in town and country",
    ),
    "levers.community.video_coverage_vulnerable": (
        "雪亮工程覆盖孤寡老人、留守儿童、救助对象的比例",
        "Share of vulnerable residents covered by the Xueliang video network",
    ),
    "levers.people.publicity_education": (
        "宣传教育力度：居民参与治理的意愿逐步提高",
        "Publicity: residents' willingness to take part rises over time",
    ),
    "levers.people.public_evaluation": (
        "由群众评价的办件比例；评价差的部门被问责、更加努力",
        "Share of cases residents rate; poorly rated offices are held to account",
    ),
    "levers.capability.residents_per_grid": (
        "每个网格的居民数(全国约 1000)；网格重划，从第 0 天重新开始",
        "Residents per grid (national ≈1,000); grids are redrawn, the run restarts",
    ),
    "levers.capability.workers_per_grid": (
        "每个网格的专职网格员人数",
        "Full-time grid workers in each grid",
    ),
    "levers.capability.grids_per_worker": (
        "一组网格员负责的相邻网格数；网格更细而人员不变时调大，从第 0 天重新开始",
        "Neighbouring grids one team of grid workers covers; raise it for finer grids with "
        "the same staff; the run restarts",
    ),
    "levers.capability.patrol_hours_per_day": (
        "每名网格员每天走访巡查的时间(铁脚板)",
        "Hours each grid worker patrols a day (on foot)",
    ),
    "levers.capability.early_warning": (
        "开启后先巡查风险最高的网格，并派工作组提前处置",
        "On: patrol the riskiest grids first and send a team early",
    ),
    "levers.capability.warning_team_staff_per_100k": (
        "预警工作组的专职人员编制；每天按风险高低派往被预警网格，派完为止；开启预警时才计入成本",
        "Full-time early-warning work-team members; each day they go to the flagged grids, "
        "riskiest first, until all are sent; paid only with early warning on",
    ),
    "levers.capability.key_person_visits": (
        "网格员每月走访每名重点人员(反复诉求、信访未结者)的次数；走访占用巡查时间",
        "Monthly grid-worker visits to each listed resident (repeat callers, open "
        "petitions); visits take patrol time",
    ),
    "levers.capability.online_mediation": (
        "开启后纠纷可通过苏解纷平台在线调解",
        "On: disputes can be mediated online (Su Jie Fen)",
    ),
    "levers.capability.digital_inclusion": (
        "为不会或不能上网的居民补齐数字接入的比例；从第 0 天重新开始",
        "Share of the digital-access gap closed; the run restarts",
    ),
    "levers.capability.resource_allocation": (
        "每月调配人手：条块固定份额、按需统筹或城乡均衡",
        "Monthly staffing: fixed shares, by demand, or urban–rural equity",
    ),
    "levers.capability.rule_of_law": (
        "法治化水平：程序公正，信访和群体性升级减少",
        "Rule of law: fair procedure, fewer petitions and collective escalations",
    ),
    "levers.data.centre_integration": (
        "综治、12345、数字城管等渠道由联合指挥中心统一派单的比例",
        "Share of channels (综治, 12345, city management) dispatched by the centre",
    ),
    "levers.data.unified_data_standards": (
        "开启后各部门数据口径统一，派单更准更快",
        "On: one data standard, faster and more accurate dispatch",
    ),
    "levers.data.data_sharing": (
        "政务云数据共享程度：发现问题、分派和找到困难群众更准",
        "Data sharing: better detection, routing and finding the vulnerable",
    ),
    "levers.data_governance.access_logging": (
        "开启后每次数据访问终身留痕",
        "On: every data access is logged for life",
    ),
    "levers.data_governance.permission_control": (
        "开启后使用数据须经明确授权",
        "On: data use needs explicit permission",
    ),
    "levers.data_governance.misuse_deterrence": (
        "对数据滥用的惩戒力度",
        "How hard misuse of data is sanctioned",
    ),
}

# unit of the schema's registry -> (Chinese, English) as shown after a lever's value
UNIT_LABELS: dict[str, tuple[str, str]] = {
    "lever level 0–1": ("力度 0–1", "level 0–1"),
    "share 0–1": ("比例", "share"),
    "residents per grid": ("人/网格", "residents/grid"),
    "workers per grid": ("人/网格", "workers/grid"),
    "hours per worker-day": ("小时/人·天", "h/worker-day"),
    "yuan per resident-year": ("元/人·年", "yuan/resident-yr"),
    "staff per 100k residents": ("人/十万人", "staff/100k residents"),
}

# article sections as numbered in the text (§一 … §六)
SECTION_MARKS: dict[str, tuple[str, str]] = {
    "system": ("§一", "§1"),
    "community": ("§二", "§2"),
    "people": ("§三", "§3"),
    "capability": ("§四", "§4"),
    "data": ("§五", "§5"),
    "data_governance": ("§六", "§6"),
}

ON_OFF: tuple[tuple[str, str], tuple[str, str]] = (("关", "Off"), ("开", "On"))

CHOICE_LABELS: dict[str, tuple[str, str]] = {
    "siloed": ("条块分配", "siloed shares"),
    "pooled": ("按需统筹", "pooled by demand"),
    "equity": ("城乡均衡", "urban–rural equity"),
}

# map indicator -> (Chinese, English, unit)
INDICATORS: dict[str, tuple[str, str, str]] = {
    "unresolved": ("未解决事项(每千人)", "Unresolved issues per 1,000", "per_1000"),
    "trust": ("信任度", "Trust", "share"),
    "participation": ("参与率", "Participation", "share"),
    "risk": ("未结安全隐患(每千人)", "Open safety risks per 1,000", "per_1000"),
}

# CSS font stack: CJK fonts of Windows, macOS and Linux, then generic sans-serif.
CJK_FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "PingFang SC", '
    '"Hiragino Sans GB", "Microsoft YaHei", "微软雅黑", "SimHei", "WenQuanYi Micro Hei", '
    '"WenQuanYi Zen Hei", "Noto Sans CJK JP", sans-serif'
)


def t(key: str, lang: str = "zh", **fmt) -> str:
    """The page's text ``key`` in ``lang`` ("zh" or "en"), formatted with ``fmt``."""
    zh, en = UI[key]
    s = zh if lang == "zh" else en
    return s.format(**fmt) if fmt else s


def pick(pair: tuple[str, ...], lang: str) -> str:
    """First item for Chinese, second for English."""
    return pair[0] if lang == "zh" else pair[1]


def scenario_title(sc, lang: str) -> str:
    """A scenario's title in ``lang`` ("zh" or "en"), else its Chinese title, else its name."""
    return (sc.title_zh if lang == "zh" else sc.title_en) or sc.title_zh or sc.name
