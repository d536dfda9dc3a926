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
    "chart_escalation": ("矛盾升级(累计)", "Escalations (cumulative)"),
    "axis_day": ("天", "day"),
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
    "levers.capability.patrol_hours_per_day": ("铁脚板：每日巡查(小时)", "Patrol hours per day"),
    "levers.capability.early_warning": ("风险预测预警", "Risk early warning"),
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
