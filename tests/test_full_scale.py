"""The whole city at 1:1 (6.7 million residents): bit-identical on 1 and 2 numba threads.

Slow (under a minute on 2 cores when idle): each thread count runs in a fresh
subprocess with ``NUMBA_NUM_THREADS`` set, builds the 1:1 city with a short warm-up and
runs a few days; the summaries, the daily metrics and a digest of every resident and
issue array must be equal bit for bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WARMUP_DAYS = 10
DAYS = 5  # days 0–14 of the model's clock: two weekly compactions

CHILD = """
import hashlib, json, sys
import numba
import numpy as np
from sim.model import GovernanceModel
from sim.scenario import load_scenario

sc = load_scenario(sys.argv[1], ["scale=1.0", "warmup_days={warmup}"])
model = GovernanceModel(sc)
model.run({days})
state = model.state
arrays = {{
    "participation": state.residents.participation,
    "trust": state.residents.trust,
    "grievance": state.residents.grievance,
    "active": state.activation.active,
    **{{f"issue.{{k}}": v[: state.issues.n] for k, v in state.issues.cols.items()}},
}}
daily = model.metrics.daily_arrays()
print(json.dumps({{
    "threads": numba.get_num_threads(),
    "residents": state.city.n_residents,
    "summary": {{k: repr(v) for k, v in model.summary().items()}},
    "daily": {{k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()
               for k, v in daily.items()}},
    "arrays": {{k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()
                for k, v in arrays.items()}},
}}))
"""


def run_child(threads: int) -> dict:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    code = CHILD.format(warmup=WARMUP_DAYS, days=DAYS)
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "scenarios" / "yancheng.toml")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


@pytest.mark.slow
def test_full_scale_bit_identical_on_one_and_two_threads():
    one, two = run_child(1), run_child(2)
    assert (one["threads"], two["threads"]) == (1, 2)
    assert one["residents"] == two["residents"] > 6_700_000
    assert one["summary"] == two["summary"]  # repr: NaN compares equal, -0.0 differs
    assert one["daily"] == two["daily"]
    assert one["arrays"] == two["arrays"]
    assert len(one["arrays"]) > 20
