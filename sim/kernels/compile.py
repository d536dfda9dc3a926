"""Compile the model's numba kernels on every core before the first run.

On a fresh machine (or after the model's code changed) the kernels have no entry in
numba's on-disk cache, and a run compiles them one after the other as it first calls
them: about 50 s of one core for the ~35 kernels of a run. Numba compiles in one thread,
but the kernels are independent, so :func:`precompile` compiles them in several helper
processes at once, each writing its kernels to the cache, from a manifest of their
signatures (``kernels.json`` beside this module: the kernels and argument types that
running every scenario of ``scenarios/`` calls, written by ``govsim compile
--write-manifest``; a test fails when the model calls a signature the manifest lacks).
The run then loads every kernel from the cache, as it would on any later run.

Nothing here changes a number: the machine code is the same whichever process compiled
it. A kernel or signature the manifest lacks is still compiled on first use, as before,
and so is everything when a helper fails.

Helpers: ``python -m sim.kernels.compile --compile JSON`` compiles the listed
``[module, name, signature]`` entries and prints ``govsim-compiled: module.name`` as
each one is done.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sim.io import usable_cpus

MANIFEST = Path(__file__).with_name("kernels.json")
MANIFEST_FORMAT = 1
NOTICE = (
    "首次运行：正在编译计算内核（首次运行或模型代码更新后需要一次，之后从缓存读取）…\n"
    "First run: compiling the model's compute kernels (once, and again after the model's "
    "code changes; later runs load them from the cache)…"
)
DONE = "govsim-compiled: "  # a helper's line for each signature it compiled
_ALL_CACHED = False  # set once every manifest signature was found in the cache


@dataclass(frozen=True, order=True)
class Entry:
    """One kernel signature of the manifest: ``module.name(signature)``; ``seconds`` is its
    compile time on the machine that wrote the manifest (only used to share the work)."""

    module: str
    name: str
    signature: str
    seconds: float

    @property
    def label(self) -> str:
        return f"{self.module}.{self.name}"


def parse_signature(text: str) -> tuple:
    """The numba argument types written as ``repr(tuple of types)``, e.g.
    ``"(Array(int32, 1, 'C', False, aligned=True), int64)"``."""
    from numba.core import types

    names = {k: v for k, v in vars(types).items() if isinstance(v, types.Type)}
    names["Array"] = types.Array
    value = eval(text, {"__builtins__": {}}, names)  # noqa: S307 (types only, no builtins)
    if not isinstance(value, tuple) or not all(isinstance(t, types.Type) for t in value):
        raise ValueError(f"not a tuple of numba types: {text!r}")
    return value


def load_manifest(path: Path = MANIFEST) -> list[Entry]:
    """The manifest's entries; none if it is missing or from another numba version (its
    signatures may not mean the same there: everything then compiles on first use)."""
    import numba

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if data.get("format") != MANIFEST_FORMAT or data.get("numba") != numba.__version__:
        return []
    return [Entry(**e) for e in data.get("kernels", [])]


def _dispatcher(entry: Entry):
    """The entry's kernel, or None if its module or name is gone (a manifest older than the
    code: that kernel compiles on first use)."""
    try:
        return getattr(importlib.import_module(entry.module), entry.name, None)
    except ImportError:
        return None


def missing(entries: list[Entry]) -> list[Entry]:
    """The entries with no usable entry in numba's on-disk cache (a stale index, from
    other source code, counts as none)."""
    from numba.core.caching import FunctionCache

    out, cached = [], {}
    for e in entries:
        d = _dispatcher(e)
        cache = getattr(d, "_cache", None)
        if not isinstance(cache, FunctionCache):
            continue  # renamed or no longer cached: the manifest test names it
        if e.label not in cached:
            try:
                cached[e.label] = {k[0] for k in cache._cache_file._load_index()}
            except Exception:  # an unreadable index is recompiled too
                cached[e.label] = set()
        try:
            sig = parse_signature(e.signature)
        except Exception:
            continue
        if sig not in cached[e.label]:
            out.append(e)
    return out


def share(entries: list[Entry], n: int) -> list[list[Entry]]:
    """Split ``entries`` into at most ``n`` groups of about equal compile time (longest
    first, each to the least loaded group); a kernel's signatures stay together."""
    by_kernel: dict[str, list[Entry]] = {}
    for e in entries:
        by_kernel.setdefault(e.label, []).append(e)
    kernels = sorted(by_kernel.values(), key=lambda es: -sum(e.seconds for e in es))
    n = max(1, min(n, len(kernels)))
    groups: list[list[Entry]] = [[] for _ in range(n)]
    load = [0.0] * n
    for es in kernels:
        i = load.index(min(load))
        groups[i].extend(es)
        load[i] += sum(e.seconds for e in es)
    return [g for g in groups if g]


def _lock_path() -> Path:
    from numba.core.config import CACHE_DIR

    return Path(CACHE_DIR or tempfile.gettempdir()) / "govsim-precompile.lock"


def _take_lock():
    """The open lock file, locked (the caller closes it to release), or None where
    there is no ``fcntl`` or the file cannot be locked (then nobody waits)."""
    try:
        import fcntl
    except ImportError:  # not Unix
        return None
    path = _lock_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = path.open("a")
    except OSError:
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
    except OSError:
        lock.close()
        return None
    return lock


def notice_bar(total: int, file=None):
    """Print :data:`NOTICE` on ``file`` (default stderr) and return a progress bar of
    ``total`` kernels (tqdm) for the caller to advance and close."""
    from tqdm import tqdm

    out = sys.stderr if file is None else file
    print(NOTICE, file=out, flush=True)
    return tqdm(total=total, desc="编译内核 kernels", unit="个", file=out)


def precompile(
    processes: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[str], None] | None = None,
    manifest: Path = MANIFEST,
) -> int:
    """Compile every manifest signature missing from the cache, in ``processes`` helper
    processes at once (default: one per usable core), and wait for them.

    ``on_start(n)`` is called with the number of signatures to compile (only when there
    are some), ``on_done(label)`` as each one is done. Returns the number compiled.
    Concurrent callers (workers of one comparison, test processes) take turns on a lock
    file next to numba's cache, so each kernel is compiled once; the later ones find
    everything in the cache. Does nothing with ``NUMBA_DISABLE_JIT=1``.
    """
    global _ALL_CACHED
    from numba.core import config

    if _ALL_CACHED or config.DISABLE_JIT:
        return 0
    entries = load_manifest(manifest)
    if not entries:
        return 0
    lock = _take_lock()
    try:
        todo = missing(entries)
        if not todo:
            _ALL_CACHED = True
            return 0
        if on_start is not None:
            on_start(len(todo))
        groups = share(todo, processes or usable_cpus())
        done = _run_helpers(groups, on_done)
        if not missing(entries):
            _ALL_CACHED = True
        return done
    finally:
        if lock is not None:
            lock.close()  # releases the lock


def compile_with_notice(processes: int | None = None, file=None, manifest: Path = MANIFEST) -> int:
    """:func:`precompile`, saying so (:data:`NOTICE` and a progress bar on ``file``,
    default stderr) only when something needs compiling. Returns the number compiled."""
    bars = []

    def start(n: int) -> None:
        bars.append(notice_bar(n, file))

    try:
        return precompile(
            processes, on_start=start, on_done=lambda _label: bars[0].update(1),
            manifest=manifest,
        )  # fmt: skip
    finally:
        for b in bars:
            b.close()


@contextmanager
def off() -> Iterator[None]:
    """Within the block :func:`precompile` does nothing: kernels compile on first use, in
    this process (to time each one, :func:`sim.run.kernel_signatures`)."""
    global _ALL_CACHED
    saved = _ALL_CACHED
    _ALL_CACHED = True
    try:
        yield
    finally:
        _ALL_CACHED = saved


def _run_helpers(groups: list[list[Entry]], on_done: Callable[[str], None] | None) -> int:
    count = 0
    guard = threading.Lock()

    def follow(proc: subprocess.Popen) -> None:
        nonlocal count
        for line in proc.stdout:  # numba may print too (NUMBA_DEBUG_CACHE)
            if not line.startswith(DONE):
                continue
            label = line[len(DONE) :].strip()
            with guard:
                count += 1
                if on_done is not None:
                    on_done(label)

    # the helpers import the same sim package as this process (its folder first on the path)
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    procs, threads = [], []
    for g in groups:
        arg = json.dumps([[e.module, e.name, e.signature] for e in g])
        p = subprocess.Popen(
            [sys.executable, "-m", "sim.kernels.compile", "--compile", arg],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            text=True, env=env,
        )  # fmt: skip
        th = threading.Thread(target=follow, args=(p,), daemon=True)
        th.start()
        procs.append(p)
        threads.append(th)
    try:
        for p, th in zip(procs, threads, strict=True):
            p.wait()
            th.join()
    finally:
        for p in procs:  # interrupted (Ctrl-C): the helpers go too
            if p.poll() is None:
                p.kill()
                p.wait()
    return count


def _compile(items: list[list[str]]) -> int:
    """Helper process: compile (and so cache) each ``[module, name, signature]``."""
    for module, name, signature in items:
        d = getattr(importlib.import_module(module), name)
        d.compile(parse_signature(signature))
        print(f"{DONE}{module}.{name}", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--compile":
        sys.exit(_compile(json.loads(sys.argv[2])))
    print("usage: python -m sim.kernels.compile --compile JSON (see govsim compile)")
    sys.exit(2)
