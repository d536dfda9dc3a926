"""Names, labels and units of the daily metrics and the run summary.

One place for every outcome the model reports, with its Chinese label first and the
English beside it, so tables, figures, reports and the teaching page agree.
"""

from __future__ import annotations

# column -> (Chinese label, English label, unit)
DAILY_COLUMNS: dict[str, tuple[str, str, str]] = {
    "day": ("日", "day", "day"),
    "new_issues": ("新增事项", "new issues", "count"),
    "new_enquiry": ("新增咨询", "new enquiries", "count"),
    "new_need": ("新增民生诉求", "new needs", "count"),
    "new_dispute": ("新增矛盾纠纷", "new disputes", "count"),
    "new_risk": ("新增安全隐患", "new safety risks", "count"),
    "open_latent": ("未发现事项", "hidden issues", "count"),
    "open_queued": ("排队事项", "queued issues", "count"),
    "open_in_service": ("办理中事项", "issues in service", "count"),
    "open_enquiry": ("未结咨询", "open enquiries", "count"),
    "open_need": ("未结民生诉求", "open needs", "count"),
    "open_dispute": ("未结矛盾纠纷", "open disputes", "count"),
    "open_risk": ("未结安全隐患", "open safety risks", "count"),
    "surfaced": ("当日发现", "surfaced today", "count"),
    "surfaced_hotline": ("12345热线", "via 12345 hotline", "count"),
    "surfaced_online": ("网上平台", "via online platform", "count"),
    "surfaced_grid_report": ("向网格员反映", "told to grid worker", "count"),
    "surfaced_patrol": ("网格巡查发现", "found on patrol", "count"),
    "surfaced_video": ("大数据/雪亮发现", "found by big data/video", "count"),
    "surfaced_social_org": ("社会组织反映", "via social organisation", "count"),
    "surfaced_mass_org": ("群团组织反映", "via mass organisation", "count"),
    "mean_detection_days": ("平均发现时间", "mean time to detection", "days"),
    "resolved": ("当日办结", "resolved today", "count"),
    "failed": ("办理未解决", "closed unresolved", "count"),
    "abandoned": ("放弃/未发现失效", "abandoned", "count"),
    "litigated": ("进入诉讼", "went to court", "count"),
    "resolution_rate": ("解决率", "resolution rate", "share"),
    "mean_resolution_days": ("平均办结时间", "mean resolution time", "days"),
    "median_resolution_days": ("办结时间中位数", "median resolution time", "days"),
    "p90_resolution_days": ("办结时间90分位", "p90 resolution time", "days"),
    "transfers": ("转办次数", "transfers", "count"),
    "pre_litigation_share": ("诉前化解率", "disputes resolved before litigation", "share"),
    "escalations_petition": ("信访", "petitions", "count"),
    "escalations_litigation": ("诉讼", "litigation", "count"),
    "escalations_collective": ("群体性事件", "collective incidents", "count"),
    "participation_rate": ("参与率", "participation rate", "share"),
    "trust_mean": ("信任度", "mean trust", "share"),
    "gain_index": ("获得感", "sense of gain", "0-100"),
    "happiness_index": ("幸福感", "well-being", "0-100"),
    "security_index": ("安全感", "sense of security", "0-100"),
    "security_from_incidents": (
        "安全感变化·新发群体性事件",
        "安全感 change: new incidents",
        "points",
    ),
    "security_from_fading": ("安全感变化·记忆淡化", "安全感 change: incidents fading", "points"),
    "security_from_risks": ("安全感变化·安全隐患", "安全感 change: open risks", "points"),
    "happiness_from_exposure": ("幸福感变化·安全环境", "幸福感 change: exposure", "points"),
    "urban_rural_gap": ("城乡差距", "urban–rural gap in needs met", "share"),
    "staff_days": ("人力投入(人日)", "staff-days", "staff-days"),
    "busy_hours": ("办理工时", "handling hours", "hours"),
    "misuse_incidents": ("数据滥用事件", "data-misuse incidents", "count"),
    "unrest_incidents": ("聚集性事件", "collective incidents from activation", "count"),
    "active_share": ("激活居民占比", "share of residents active (Epstein)", "share"),
}

# summary key -> (Chinese label, English label, unit)
SUMMARY_KEYS: dict[str, tuple[str, str, str]] = {
    "resolution_rate": ("解决率", "resolution rate", "share"),
    "mean_resolution_days": ("平均办结时间", "mean resolution time", "days"),
    "median_resolution_days": ("办结时间中位数", "median resolution time", "days"),
    "p90_resolution_days": ("办结时间90分位", "p90 resolution time", "days"),
    "mean_detection_days": ("平均发现时间", "mean time to detection", "days"),
    "pre_litigation_share": ("诉前化解率", "disputes resolved before litigation", "share"),
    "escalations": ("升级总数", "escalations", "count"),
    "escalations_petition": ("信访", "petitions", "count"),
    "escalations_litigation": ("诉讼", "litigation", "count"),
    "escalations_collective": ("群体性事件", "collective incidents", "count"),
    "transfers_per_case": ("平均转办次数", "transfers per dispatched case", "count"),
    "participation_rate": ("参与率", "participation rate", "share"),
    "trust_mean": ("信任度", "mean trust", "share"),
    "gain_index": ("获得感", "sense of gain (% answering 满意)", "0-100"),
    "happiness_index": ("幸福感", "well-being (% answering happy)", "0-100"),
    "security_index": ("安全感", "sense of security (% answering 很安全/安全)", "0-100"),
    "urban_rural_gap": ("城乡差距", "urban–rural gap in needs met", "share"),
    "staff_days": ("人力投入(人日)", "staff-days", "staff-days"),
    "cost_yuan": ("年度成本（元）", "yearly cost (simulated city)", "yuan per year"),
    "cost_per_resident": ("人均成本（元/人·年）", "cost per resident", "yuan per resident-year"),
    "misuse_incidents": ("数据滥用事件", "data-misuse incidents", "count"),
    "unrest_incidents": ("聚集性事件", "collective incidents from activation", "count"),
    "active_share": ("激活居民占比", "share of residents active (Epstein)", "share"),
    "warning_precision": ("预警准确率", "early-warning precision", "share"),
    "warning_recall": ("预警召回率", "early-warning recall", "share"),
    "warning_lift": ("预警提升度", "early-warning lift (precision ÷ base rate)", "ratio"),
    "warning_lead_days": (
        "预警提前天数",
        "early-warning lead time (first flag to incident)",
        "days",
    ),
    "warning_false_alarms_per_100_grids_year": (
        "预警误报(每百网格·年)",
        "early-warning false alarms per 100 grids per year",
        "count",
    ),
    "requests_per_resident_year": ("人均年诉求量", "requests per resident-year", "count"),
    "enquiry_share": ("咨询类占比", "enquiries among 12345/online requests", "share"),
    "hotline_direct_share": ("热线直接答复率", "enquiries answered by the hotline", "share"),
    "hotline_direct_share_all": (
        "热线直接办结率",
        "12345/online requests closed by the hotline itself",
        "share",
    ),
    "request_completion": ("诉求办结率", "12345/online requests closed by the end", "share"),
    "request_resolved_share": (
        "诉求解决率",
        "closed 12345/online requests that were resolved",
        "share",
    ),
    "collective_per_100k_resident_years": (
        "群体性事件率（起/十万人·年）",
        "collective incidents per 100k resident-years",
        "per 100k resident-years",
    ),
    "litigation_per_100_resident_years": (
        "诉讼率（件/百人·年）",
        "disputes taken to court per 100 resident-years",
        "per 100 resident-years",
    ),
    "enquiry_working_days": (
        "咨询工单办理时长",
        "enquiry work-order handling time",
        "working days",
    ),
    "request_working_days": ("诉求工单办理时长", "other work-order handling time", "working days"),
    "mediation_success": ("人民调解成功率", "people's mediation success", "share"),
    "dispute_claim_share": ("纠纷显性化比例", "disputes that surfaced as claims", "share"),
    "dispute_court_share": ("纠纷诉讼比例", "disputes that went to court", "share"),
    # actors (issue 12): resident self-governance, key-person management
    "selfgov_settled": ("村（居）协商化解件数", "issues settled by community committees", "count"),
    "selfgov_share": (
        "村（居）协商化解占比",
        "share of surfaced issues settled by committees",
        "share",
    ),
    "key_persons_listed": ("列管重点人员数", "residents on the key-person list", "count"),
    "key_persons_listed_mean": ("日均列管重点人员", "key persons listed per day", "count"),
    "key_person_visits": ("重点人员走访次数", "key-person visits", "count"),
    "key_person_settled": ("走访化解件数", "cases settled on key-person visits", "count"),
}


def label(key: str, lang: str = "zh") -> str:
    """Display label of a metric: Chinese first with English beside it, or English only."""
    table = DAILY_COLUMNS if key in DAILY_COLUMNS else SUMMARY_KEYS
    zh, en, _ = table[key]
    return f"{zh} ({en})" if lang == "zh" else en
