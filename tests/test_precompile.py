"""Compiling the kernels on every core before the first run (sim.kernels.compile).

The manifest must name every kernel signature the scenarios call (else they compile one
by one again, silently); its signatures must read back as the same numba types; the
helpers must fill an empty cache so that a later process finds everything there; the
work is shared evenly. The cold-cache path of the whole model (helpers, then a run and a
parallel comparison that compile nothing more) is checked in the slow suite
(tests/test_first_hour.py) and by .ci/run's README main job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.kernels.compile import MANIFEST, Entry, load_manifest, parse_signature, share

ROOT = Path(__file__).resolve().parents[1]


def test_manifest_is_for_the_installed_numba_and_reads_back_exactly():
    entries = load_manifest()
    assert len(entries) >= 40, "the manifest is empty or from another numba version"
    for e in entries:
        assert repr(parse_signature(e.signature)) == e.signature, e.label
        assert e.seconds > 0, e.label


def test_parse_signature_refuses_anything_but_numba_types():
    with pytest.raises(NameError):
        parse_signature("__import__('os').getcwd()")
    with pytest.raises(ValueError, match="not a tuple of numba types"):
        parse_signature("(1, 2)")


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="JIT off: no kernels")
def test_manifest_names_every_signature_the_scenarios_call():
    """Tiny runs of every scenario (60 days, and a snapshot fork) call no cached kernel
    with a signature the manifest lacks, and the manifest names nothing they do not call.
    To rewrite it: ``NUMBA_CACHE_DIR=$(mktemp -d) govsim compile --write-manifest``."""
    # in a fresh process: kernels other tests called here would count as called
    code = (
        "import json, sys; from pathlib import Path; from sim.run import kernel_signatures\n"
        "called = kernel_signatures(sorted(Path(sys.argv[1]).glob('*.toml')))\n"
        "print(json.dumps([[m, n, s] for (m, n), sigs in called.items() for s in sigs]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "scenarios")],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    seen = {tuple(x) for x in json.loads(out.stdout)}
    listed = {(e.module, e.name, e.signature) for e in load_manifest()}
    assert seen - listed == set(), "called, not in the manifest (rewrite it)"
    assert listed - seen == set(), "in the manifest, never called (rewrite it)"


def test_share_balances_the_compile_time_and_keeps_a_kernels_signatures_together():
    entries = [
        Entry("m", "a", "(int64,)", 8.0),
        Entry("m", "b", "(int64,)", 5.0),
        Entry("m", "b", "(float64,)", 1.0),
        Entry("m", "c", "(int64,)", 4.0),
        Entry("m", "d", "(int64,)", 2.0),
    ]
    groups = share(entries, 2)
    assert sorted(e for g in groups for e in g) == sorted(entries)
    loads = sorted(sum(e.seconds for e in g) for g in groups)
    assert loads == [10.0, 10.0]  # a + d and (b, b') + c
    for g in groups:
        assert [e.name for e in g].count("b") in (0, 2)
    assert len(share(entries, 16)) == 4  # no more groups than kernels
    assert share([], 2) == []


def test_helpers_fill_an_empty_cache_and_a_later_process_finds_it(tmp_path):
    """Two cheap kernels through the real helper processes, into a private cache."""
    kernels = [e for e in load_manifest() if e.name in ("_n_changed", "active_communities")]
    assert len(kernels) == 2
    manifest = tmp_path / "kernels.json"
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    data["kernels"] = [e.__dict__ for e in kernels]
    manifest.write_text(json.dumps(data), encoding="utf-8")
    code = (
        "import sys; from pathlib import Path\n"
        "from sim.kernels import compile as kc\n"
        "m = Path(sys.argv[1])\n"
        "n = kc.compile_with_notice(2, manifest=m)\n"
        "print(n, len(kc.missing(kc.load_manifest(m))))\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("NUMBA_DISABLE_JIT", None)

    def run() -> tuple[str, str]:
        out = subprocess.run(
            [sys.executable, "-c", code, str(manifest)],
            capture_output=True, text=True, env=env, timeout=300, check=True,
        )  # fmt: skip
        return out.stdout.strip(), out.stderr

    first, err = run()
    assert first == "2 0"  # both compiled, by the helpers, and now in the cache
    assert "首次运行：正在编译计算内核" in err and "2/2" in err  # said so, with its bar
    second, err = run()
    assert (second, err) == ("0 0", "")  # a later process compiles nothing, says nothing
    assert len(list((tmp_path / "cache").rglob("*.nbi"))) == 2


def test_compile_command_refuses_a_bad_process_count(capsys):
    from sim.cli import main

    assert main(["compile", "--processes", "0"]) == 2
    err = capsys.readouterr().err
    assert "--processes 0: must be ≥ 1" in err


def test_write_manifest_refuses_a_folder_without_scenarios(tmp_path, capsys):
    from sim.cli import main

    before = MANIFEST.read_bytes()
    assert main(["compile", "--write-manifest", "--scenarios", str(tmp_path)]) == 2
    assert f"--scenarios {tmp_path}: no *.toml scenario files there" in capsys.readouterr().err
    assert MANIFEST.read_bytes() == before


def test_a_manifest_older_than_the_code_is_skipped_not_an_error(tmp_path, monkeypatch):
    """Entries whose module or kernel is gone, or whose signature does not parse, are
    left to compile on first use; nothing is raised and nothing is started."""
    from sim.kernels import compile as kc

    monkeypatch.setattr(kc, "_ALL_CACHED", False)  # as in a fresh process

    manifest = tmp_path / "kernels.json"
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    data["kernels"] = [
        {"module": "sim.kernels.no_such_module", "name": "k", "signature": "(int64,)",
         "seconds": 1.0},
        {"module": "sim.kernels.route", "name": "no_such_kernel", "signature": "(int64,)",
         "seconds": 1.0},
        {"module": "sim.kernels.route", "name": "_route_kernel", "signature": "(nonsense,)",
         "seconds": 1.0},
    ]  # fmt: skip
    manifest.write_text(json.dumps(data), encoding="utf-8")
    assert kc.missing(kc.load_manifest(manifest)) == []
    started = []
    assert kc.precompile(2, on_start=started.append, manifest=manifest) == 0
    assert started == []
