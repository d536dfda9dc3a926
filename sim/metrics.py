"""Stage 8 — the daily metrics and the run summary, with the three outcome indices.

Definitions (documented in docs/model.md, "Indices"; parameters in ``[indices]``):

- 获得感 gain, 幸福感 well-being and 安全感 security (0–100) are the shares of residents
  who would answer a published survey item positively (安全感: the NBS national public
  security survey, '很安全/安全'; 幸福感: CSS/CGSS 'happy'; 获得感: the 12345 return-visit
  '满意'), each resident's probability a logistic function of her own experience, her
  exposure and her trust (:func:`sim.kernels.measure.survey_step`).
- urban–rural gap: share of needs met for urban minus rural residents (window).
- participation rate: mean participation propensity (the expected share of residents
  who report a need they have); trust: mean trust (legitimacy L).
- resolution time: days from surfacing to resolution, for resolved issues.
- pre-litigation share: disputes resolved ÷ (resolved + gone to court).
- staff-days: staff on duty (slots ÷ cases per person for case-carrying pools).
- calibration and validation quantities (sim.calibration): requests per resident-year,
  enquiry share, work-order handling times, requests closed directly by the hotline,
  completion and resolution of 12345/online requests, litigation per 100 resident-years.
"""

from __future__ import annotations

import math

import numpy as np

from sim.kernels.measure import (
    C_CALL_CLOSED,
    C_CALL_OPEN,
    C_CALL_RESOLVED,
    C_CLOSED,
    C_DEMAND_CLOSED,
    C_DEMAND_MET,
    C_DISPATCHED,
    C_DISPUTE_LITIGATED,
    C_DISPUTE_RESOLVED,
    C_DISPUTE_SURFACED,
    C_ENQ_DIRECT,
    C_NEW_CAT,
    C_OPEN_CAT,
    C_REQ_RESOLVED,
    C_REQUESTS,
    C_STATUS,
    C_SURF_CH,
    C_TRANSFERS,
    F_DETECT_DAYS,
    F_REQ_WORKDAYS,
    I_GAIN,
    I_HAPPINESS,
    I_SECURITY,
    N_COUNTS,
    N_SUMS,
    SurveyDay,
)
from sim.metrics_schema import DAILY_COLUMNS
from sim.pools import K_MEDIATION, N_KINDS

_HIST_BIN_H = 1.0  # resolution-time histogram: one-hour bins
_HIST_BINS = 24 * 365 * 3


def _safe(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


class MetricsRecorder:
    """Accumulates the daily metrics of a run and computes its summary."""

    def __init__(self, scenario, n_residents: int) -> None:
        self.ix = scenario.indices
        self.n_residents = n_residents
        self.day_offset = 0  # model days before the reported day 0 (warm-up)
        self.cols: dict[str, list] = {k: [] for k in DAILY_COLUMNS}
        self.hist = np.zeros(_HIST_BINS + 1, dtype=np.int64)
        self.res_sum = 0.0
        self.res_n = 0
        self.tot = np.zeros(N_COUNTS, dtype=np.int64)
        self.tot_sums = np.zeros(N_SUMS)
        self.kind_done = np.zeros(N_KINDS, dtype=np.int64)
        self.kind_resolved = np.zeros(N_KINDS, dtype=np.int64)
        self.detect_sum = 0.0
        self.esc = np.zeros(3, dtype=np.int64)
        self.misuse = 0
        self.unrest = 0
        self.staff_days = 0.0
        self.warning_staff_days = 0.0  # early-warning work teams (sim.kernels.costs)
        self.last_counts: np.ndarray | None = None  # the last day's counters (open now)
        self._win_gap = []  # per day: (closed_r, closed_u, met_r, met_u)

    def record(
        self,
        day: int,
        counts: np.ndarray,
        sums: np.ndarray,
        res_days: np.ndarray,
        escalations: tuple[int, int, int],
        misuse: int,
        staff_days: float,
        busy_hours: float,
        trust_mean: float,
        participation_rate: float,
        kind_done: np.ndarray | None = None,
        kind_resolved: np.ndarray | None = None,
        unrest: int = 0,
        active_share: float = 0.0,
        warning_staff: float = 0.0,
        survey: SurveyDay | None = None,
    ) -> dict[str, float]:
        """Add one day; returns that day's row.

        ``survey`` is the day's answers to the index items
        (:func:`sim.kernels.measure.survey_step`); the indices are NaN without it.
        """
        ix = self.ix
        w = ix.window_days
        self.tot += counts
        self.last_counts = counts
        self.tot_sums += sums
        if kind_done is not None:
            self.kind_done += kind_done
            self.kind_resolved += kind_resolved
        self.detect_sum += float(sums[F_DETECT_DAYS])
        pet, _, coll = escalations
        litigated = int(counts[C_CLOSED + 1])
        self.esc += (pet, litigated, coll)
        self.misuse += misuse
        self.staff_days += staff_days
        self.warning_staff_days += warning_staff  # included in staff_days; costed apart
        if res_days.size:
            self.res_sum += float(res_days.sum())
            self.res_n += int(res_days.size)
            b = np.minimum((res_days * 24.0 / _HIST_BIN_H).astype(np.int64), _HIST_BINS)
            self.hist += np.bincount(b, minlength=_HIST_BINS + 1)

        self._win_gap.append(
            (
                int(counts[C_DEMAND_CLOSED]),
                int(counts[C_DEMAND_CLOSED + 1]),
                int(counts[C_DEMAND_MET]),
                int(counts[C_DEMAND_MET + 1]),
            )
        )
        self.unrest += unrest
        win = np.asarray(self._win_gap[-w:], dtype=np.float64).sum(axis=0)
        gap = _safe(win[3], win[1]) - _safe(win[2], win[0])
        shares = np.full(3, math.nan) if survey is None else survey.shares
        parts = (
            (math.nan,) * 4
            if survey is None
            else (
                survey.security_incidents,
                survey.security_fading,
                survey.security_risks,
                survey.happiness_exposure,
            )
        )

        resolved = int(counts[C_CLOSED])
        closed_today = int(counts[C_CLOSED : C_CLOSED + 4].sum())
        st = counts[C_STATUS : C_STATUS + 8]
        row = {
            "day": day - self.day_offset,
            "new_issues": int(counts[C_NEW_CAT : C_NEW_CAT + 4].sum()),
            "new_enquiry": int(counts[C_NEW_CAT]),
            "new_need": int(counts[C_NEW_CAT + 1]),
            "new_dispute": int(counts[C_NEW_CAT + 2]),
            "new_risk": int(counts[C_NEW_CAT + 3]),
            "open_latent": int(st[0]),
            "open_queued": int(st[1] + st[2]),
            "open_in_service": int(st[3]),
            "open_enquiry": int(counts[C_OPEN_CAT]),
            "open_need": int(counts[C_OPEN_CAT + 1]),
            "open_dispute": int(counts[C_OPEN_CAT + 2]),
            "open_risk": int(counts[C_OPEN_CAT + 3]),
            "surfaced": int(counts[C_SURF_CH : C_SURF_CH + 7].sum()),
            "surfaced_hotline": int(counts[C_SURF_CH + 0]),
            "surfaced_online": int(counts[C_SURF_CH + 1]),
            "surfaced_grid_report": int(counts[C_SURF_CH + 2]),
            "surfaced_patrol": int(counts[C_SURF_CH + 3]),
            "surfaced_video": int(counts[C_SURF_CH + 4]),
            "surfaced_social_org": int(counts[C_SURF_CH + 5]),
            "surfaced_mass_org": int(counts[C_SURF_CH + 6]),
            "mean_detection_days": _safe(
                float(sums[F_DETECT_DAYS]), float(counts[C_SURF_CH : C_SURF_CH + 8].sum())
            ),
            "resolved": resolved,
            "failed": int(counts[C_CLOSED + 2]),
            "abandoned": int(counts[C_CLOSED + 3]),
            "litigated": litigated,
            "resolution_rate": _safe(resolved, closed_today),
            "mean_resolution_days": float(res_days.mean()) if res_days.size else math.nan,
            "median_resolution_days": float(np.median(res_days)) if res_days.size else math.nan,
            "p90_resolution_days": float(np.percentile(res_days, 90))
            if res_days.size
            else math.nan,
            "transfers": int(counts[C_TRANSFERS]),
            "pre_litigation_share": _safe(
                counts[C_DISPUTE_RESOLVED], counts[C_DISPUTE_RESOLVED] + counts[C_DISPUTE_LITIGATED]
            ),
            "escalations_petition": pet,
            "escalations_litigation": litigated,
            "escalations_collective": coll,
            "participation_rate": participation_rate,
            "trust_mean": trust_mean,
            "gain_index": 100.0 * float(shares[I_GAIN]),
            "happiness_index": 100.0 * float(shares[I_HAPPINESS]),
            "security_index": 100.0 * float(shares[I_SECURITY]),
            "security_from_incidents": parts[0],
            "security_from_fading": parts[1],
            "security_from_risks": parts[2],
            "happiness_from_exposure": parts[3],
            "urban_rural_gap": gap,
            "staff_days": staff_days,
            "busy_hours": busy_hours,
            "misuse_incidents": misuse,
            "unrest_incidents": unrest,
            "active_share": active_share,
        }
        for k, v in row.items():
            self.cols[k].append(v)
        return row

    def daily_arrays(self) -> dict[str, np.ndarray]:
        """The daily table as columns (int64 for counts, float64 otherwise)."""
        out = {}
        for k, v in self.cols.items():
            unit = DAILY_COLUMNS[k][2]
            dt = np.int64 if unit in ("count", "day") else np.float64
            out[k] = np.asarray(v, dtype=dt)
        return out

    def _hist_quantile(self, q: float) -> float:
        n = int(self.hist.sum())
        if n == 0:
            return math.nan
        cum = np.cumsum(self.hist)
        target = q * n
        b = int(np.searchsorted(cum, target, side="left"))
        prev = cum[b - 1] if b > 0 else 0
        frac = (target - prev) / max(self.hist[b], 1)
        return (b + frac) * _HIST_BIN_H / 24.0

    def summary(self) -> dict[str, float]:
        """The run summary (see module docstring for definitions)."""
        d = self.daily_arrays()
        t = self.tot
        n_days = len(d["day"])
        w = min(self.ix.window_days, n_days)
        closed = int(t[C_CLOSED : C_CLOSED + 4].sum())
        dr, dl = int(t[C_DISPUTE_RESOLVED]), int(t[C_DISPUTE_LITIGATED])
        met_r = _safe(t[C_DEMAND_MET], t[C_DEMAND_CLOSED])
        met_u = _safe(t[C_DEMAND_MET + 1], t[C_DEMAND_CLOSED + 1])
        surfaced = int(t[C_SURF_CH : C_SURF_CH + 8].sum())
        calls = int(t[C_SURF_CH] + t[C_SURF_CH + 1])
        requests = int(t[C_REQUESTS] + t[C_REQUESTS + 1])
        call_open_end = int(self.last_counts[C_CALL_OPEN]) if self.last_counts is not None else 0

        def tail_mean(key: str) -> float:
            x = d[key][-w:]
            x = x[~np.isnan(x)]
            return float(x.mean()) if x.size else math.nan

        return {
            "resolution_rate": _safe(t[C_CLOSED], closed),
            "mean_resolution_days": _safe(self.res_sum, self.res_n),
            "median_resolution_days": self._hist_quantile(0.5),
            "p90_resolution_days": self._hist_quantile(0.9),
            "mean_detection_days": _safe(self.detect_sum, surfaced),
            "pre_litigation_share": _safe(dr, dr + dl),
            "escalations": int(self.esc[0] + self.esc[1]),
            "escalations_petition": int(self.esc[0]),
            "escalations_litigation": int(self.esc[1]),
            "escalations_collective": int(self.esc[2]),
            "transfers_per_case": _safe(t[C_TRANSFERS], t[C_DISPATCHED]),
            "participation_rate": float(d["participation_rate"][-1]) if n_days else math.nan,
            "trust_mean": float(d["trust_mean"][-1]) if n_days else math.nan,
            "gain_index": tail_mean("gain_index"),
            "happiness_index": tail_mean("happiness_index"),
            "security_index": tail_mean("security_index"),
            "urban_rural_gap": met_u - met_r,
            "staff_days": self.staff_days,
            "misuse_incidents": int(self.misuse),
            "unrest_incidents": int(self.unrest),
            "active_share": tail_mean("active_share"),
            "requests_per_resident_year": calls / self.n_residents * 365.0 / max(n_days, 1),
            # calibration targets (docs/model.md, "Calibration")
            "enquiry_share": _safe(t[C_REQUESTS], t[C_REQUESTS] + t[C_REQUESTS + 1]),
            "hotline_direct_share": _safe(t[C_ENQ_DIRECT], t[C_REQUESTS]),
            "hotline_direct_share_all": _safe(t[C_ENQ_DIRECT], requests),
            "request_completion": _safe(requests - call_open_end, requests),
            "request_resolved_share": _safe(t[C_CALL_RESOLVED], t[C_CALL_CLOSED]),
            "collective_per_100k_resident_years": 1e5
            * float(self.esc[2] + self.unrest)
            / self.n_residents
            * 365.0
            / max(n_days, 1),
            "litigation_per_100_resident_years": 100.0
            * float(self.esc[1])
            / self.n_residents
            * 365.0
            / max(n_days, 1),
            "enquiry_working_days": _safe(self.tot_sums[F_REQ_WORKDAYS], t[C_REQ_RESOLVED]),
            "request_working_days": _safe(self.tot_sums[F_REQ_WORKDAYS + 1], t[C_REQ_RESOLVED + 1]),
            "mediation_success": _safe(
                self.kind_resolved[K_MEDIATION], self.kind_done[K_MEDIATION]
            ),
            "dispute_claim_share": _safe(t[C_DISPUTE_SURFACED], t[C_NEW_CAT + 2]),
            "dispute_court_share": _safe(self.esc[1], t[C_NEW_CAT + 2]),
        }
