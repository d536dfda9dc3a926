"""``govsim app``: serve the teaching page on this machine.

Add it to govsim's command line with ``register(sub)`` in ``sim.cli.build_parser``.
``govsim app [SCENARIO] [--port P] [--classroom | --host H] [--scale S] [--seed N]
[--set K=V] [--lang L] [--roleplay [--roles FILE] [--round-days N] [--classroom-dir D]]``
validates the scenario first (a bad file is one line on stderr, exit 2, as everywhere in
govsim), then runs ``solara run sim/app/page.py --host H --port P --no-open
--production`` (through :mod:`sim.app.server`, which only turns the websocket's
compression off) with the configuration in the environment. It listens on 127.0.0.1
unless ``--classroom`` (every address, for a class network) or ``--host`` is given,
prints the address, and never reaches the internet: every script, stylesheet and font is
served from this machine (the local ``solara-assets`` copy; Solara's fallback to a CDN is
pointed at a closed local port) and Solara's telemetry is off. ``kill``, Ctrl-C or a
closed terminal stop the server and everything it started (:func:`serve`). Third-party
warnings that only worry a teacher (:data:`QUIET_WARNINGS`) are filtered out one by
one; govsim's own errors are printed as always.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sim.errors import GovsimError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
CLASSROOM_HOST = "0.0.0.0"  # --classroom: every address of this machine (a class network)
PAGE = "sim.app.page"  # solara run accepts a module name
ROLEPLAY_PAGE = "sim.app.classroom.page"  # --roleplay: 沙盘推演 (join, groups, rounds, 复盘)
ROLEPLAY_ROOT = Path("runs") / "classroom"  # saved classroom sessions, one folder per code
# Where Solara would fetch an asset missing from the local copy: a closed local port, so
# a missing file fails at once in class instead of silently needing the internet.
OFFLINE_CDN = "http://127.0.0.1:9/npm/"
# Third-party warnings that are noise in a teacher's terminal, silenced one by one in the
# server (``PYTHONWARNINGS`` filters: action:message start:category:module). Solara warns
# on every page load over plain http that it cannot set a samesite=none cookie and falls
# back to samesite=lax, which is right for a page served on this machine or a classroom
# network (11 lines about iframes and proxies).
QUIET_WARNINGS = (
    "ignore:Cookies with samesite=none require https:UserWarning:solara.server.starlette",
)


def _overrides(args: argparse.Namespace) -> list[str]:
    sets = list(args.set or [])
    for flag in ("scale", "seed"):
        v = getattr(args, flag, None)
        if v is not None:
            sets.append(f"{flag}={v}")
    return sets


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            raise GovsimError(
                f"--port {port}: cannot listen on {host}:{port} ({e.strerror or e}); "
                "choose another port, e.g. --port 0 for any free one"
            ) from None


def app_command(args: argparse.Namespace) -> tuple[list[str], dict[str, str], str]:
    """The server command, its environment and the address it will serve.

    Validates everything first and raises :class:`GovsimError` (one line) for a bad
    scenario, override, language, host or port, or when Solara is not installed.
    """
    # lazy: the session loads the model (numba); `govsim`'s parser imports this module
    from sim.app.session import AppConfig

    if args.lang not in ("zh", "en"):
        raise GovsimError(f"--lang {args.lang!r}: must be 'zh' (中文) or 'en' (English)")
    if not 0 <= args.port <= 65535:
        raise GovsimError(f"--port {args.port}: must be a TCP port 0–65535 (0: any free port)")
    if getattr(args, "classroom", False) and args.host:
        raise GovsimError("--classroom listens on every address; give it or --host, not both")
    host = CLASSROOM_HOST if getattr(args, "classroom", False) else (args.host or DEFAULT_HOST)
    scenario = str(Path(args.scenario).resolve()) if args.scenario else None
    if args.scenario and not Path(args.scenario).is_file():
        raise GovsimError(f"{args.scenario}: no such scenario file")
    config = AppConfig(scenario=scenario, overrides=tuple(_overrides(args)), lang=args.lang)
    base = config.load()  # raises GovsimError naming the file, key and value
    roleplay = _roleplay_env(args, base)
    if importlib.util.find_spec("solara") is None:
        raise GovsimError(
            "the teaching page needs Solara: pip install -e . (or pip install solara)"
        )
    if importlib.util.find_spec("solara_assets") is None:
        raise GovsimError(
            "the teaching page needs the offline assets: pip install solara-assets "
            "(without them the page is blank with no internet)"
        )
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        raise GovsimError(f"--host {host!r}: not an address of this machine") from None
    port = free_port(host) if args.port == 0 else args.port
    _check_port(host, port)
    env = dict(os.environ)
    # the page's Chinese web font, served by Solara from its cache directory (webfont.py)
    from sim.app.webfont import ensure_webfont

    font_dir = ensure_webfont()
    if font_dir is not None:
        extra = [x for x in env.get("SOLARA_ASSETS_EXTRA_LOCATIONS", "").split(",") if x]
        env["SOLARA_ASSETS_EXTRA_LOCATIONS"] = ",".join([*extra, str(font_dir)])
    env.update(
        {
            "GOVSIM_APP_CONFIG": json.dumps(
                {
                    "scenario": scenario,
                    "overrides": list(config.overrides),
                    "lang": args.lang,
                    "webfont": font_dir is not None,
                },
                ensure_ascii=False,
            ),
            "MPLBACKEND": "Agg",
            "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
            "SOLARA_ASSETS_PROXY": "True",
            "SOLARA_THEME_SHOW_BANNER": "False",
        }
    )
    if getattr(args, "lesson", None):  # --lesson: the page opens a guided lesson
        from sim.app.lessons import load_lesson

        lesson = load_lesson(args.lesson, config.overrides)  # a bad lesson: one line
        page_config = {**json.loads(env["GOVSIM_APP_CONFIG"]), "lesson": str(lesson.path.resolve())}
        env["GOVSIM_APP_CONFIG"] = json.dumps(page_config, ensure_ascii=False)
    env.setdefault("SOLARA_ASSETS_CDN", OFFLINE_CDN)
    env.update(roleplay)
    env["PYTHONWARNINGS"] = ",".join(
        w for w in (env.get("PYTHONWARNINGS", ""), *QUIET_WARNINGS) if w
    )
    cmd = [
        sys.executable, "-m", "sim.app.server", "run", ROLEPLAY_PAGE if roleplay else PAGE,
        "--host", host, "--port", str(port), "--no-open", "--production",
    ]  # fmt: skip
    shown = f"[{host}]" if ":" in host else host
    return cmd, env, f"http://{shown}:{port}/"


def _roleplay_env(args: argparse.Namespace, base) -> dict[str, str]:
    """``--roleplay``: the classroom's settings for the page (empty without it).

    Validates the roles file against the scenario's counties first (a bad file is one
    line, exit 2), and creates the teacher's secret (``<root>/teacher.key``).
    """
    if not getattr(args, "roleplay", False):
        given = [f for f in ("roles", "round_days", "classroom_dir") if getattr(args, f, None)]
        if given:
            flags = ", ".join("--" + f.replace("_", "-") for f in given)
            raise GovsimError(f"{flags}: only with --roleplay (the role-play classroom)")
        return {}
    from sim.app.classroom.session import Classroom

    root = Path(args.classroom_dir or ROLEPLAY_ROOT).resolve()
    roles = str(Path(args.roles).resolve()) if args.roles else None
    if args.round_days is not None and not 1 <= args.round_days <= 365:
        raise GovsimError(f"--round-days {args.round_days}: must be 1–365 days")
    room = Classroom(root, base, roles, args.round_days)
    room.teacher_key()
    payload = {"root": str(root), "roles": roles, "days_per_round": args.round_days}
    return {"GOVSIM_CLASSROOM": json.dumps(payload, ensure_ascii=False)}


def teacher_url(url: str, env: dict[str, str]) -> str | None:
    """The teacher's address of a ``--roleplay`` server (with the teacher's secret)."""
    raw = env.get("GOVSIM_CLASSROOM")
    if not raw:
        return None
    key = (Path(json.loads(raw)["root"]) / "teacher.key").read_text().strip()
    host = url.split("//", 1)[1].rsplit(":", 1)[0]
    if host in ("0.0.0.0", "[::]"):
        url = url.replace(host, "127.0.0.1", 1)
    return f"{url}?teacher={key}"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the server gets SIGTERM if govsim itself dies (even by SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(cmd: list[str], env: dict[str, str], grace_seconds: float = 10.0) -> int:
    """Run the server until it exits, or until govsim gets SIGTERM, SIGINT or SIGHUP.

    The server runs in its own process group; a signal to govsim is passed on to the
    whole group (the Solara server and anything it started), which gets
    ``grace_seconds`` to stop before it is killed. So ``kill <govsim pid>``, Ctrl-C and a
    closed terminal all free the port. Returns the exit status (0 after a signal).
    """
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, preexec_fn=preexec)
    stop = {"signal": 0}

    def on_signal(signum, frame):
        stop["signal"] = signum
        _signal_group(proc, signal.SIGTERM)

    handled = [signal.SIGTERM, signal.SIGINT] + (
        [signal.SIGHUP] if hasattr(signal, "SIGHUP") else []
    )
    saved = {s: signal.signal(s, on_signal) for s in handled}
    try:
        while True:
            try:
                rc = proc.wait()
                break
            except KeyboardInterrupt:  # a second Ctrl-C while waiting
                _signal_group(proc, signal.SIGTERM)
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
        _stop_group(proc, grace_seconds)
    return 0 if stop["signal"] else rc


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_group(proc: subprocess.Popen, grace_seconds: float) -> None:
    """Stop whatever is left of the server's process group (the server has exited or is
    exiting): SIGTERM, then SIGKILL after ``grace_seconds``."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
    # children the server left behind in its group
    _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(proc.pid):
        _signal_group(proc, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def cmd_app(args: argparse.Namespace) -> int:
    cmd, env, url = app_command(args)
    print(f"govsim 课堂沙盘 (teaching page): {url}", flush=True)
    if args.classroom:
        print(
            "课堂模式：本机所有网络地址均可访问 (classroom mode: listening on every "
            "address of this machine)",
            flush=True,
        )
    teacher = teacher_url(url, env)
    if teacher:
        print(
            f"沙盘推演 教师地址（勿给学生）(role play, teacher's address — keep it): {teacher}",
            flush=True,
        )
        print(
            "学生打开本机地址并输入教师页上的加入码 (students open this machine's address "
            "and type the join code shown on the teacher's page)",
            flush=True,
        )
    print(
        "在浏览器中打开上面的地址；按 Ctrl-C 停止 (open it in a browser; Ctrl-C stops)", flush=True
    )
    return serve(cmd, env)


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``app`` subcommand to govsim's argparse subparsers."""
    a = subparsers.add_parser(
        "app", help="serve the teaching page (Chinese, offline) on this machine"
    )
    a.add_argument(
        "scenario", nargs="?", metavar="SCENARIO",
        help="scenario file (default scenarios/yancheng.toml); its folder's files are presets",
    )  # fmt: skip
    a.add_argument(
        "--port", type=int, default=DEFAULT_PORT,
        help=f"TCP port (default {DEFAULT_PORT}; 0: any free port)",
    )  # fmt: skip
    a.add_argument(
        "--host", default=None,
        help=f"address to listen on (default {DEFAULT_HOST}, this machine only)",
    )  # fmt: skip
    a.add_argument(
        "--classroom", action="store_true",
        help=f"listen on every address ({CLASSROOM_HOST}) so students on the class network "
        "can open the page (default: this machine only)",
    )  # fmt: skip
    a.add_argument("--scale", type=float, help="fraction of the population (1:100 = 0.01)")
    a.add_argument("--seed", type=int, help="master random seed")
    a.add_argument(
        "--set", action="append", metavar="KEY.PATH=VALUE",
        help="override a scenario value, e.g. --set levers.capability.workers_per_grid=2",
    )  # fmt: skip
    a.add_argument("--lang", default="zh", help="page language at start: zh (default) or en")
    a.add_argument(
        "--lesson", metavar="NAME",
        help="open a guided lesson: a name in lessons/ (silo_to_command, mediation, "
        "urban_rural) or a lesson file",
    )  # fmt: skip
    a.add_argument(
        "--roleplay", action="store_true",
        help="沙盘推演: a shared city for groups with roles (county, department line, command "
        "centre), advanced in rounds by the teacher; prints the teacher's address",
    )  # fmt: skip
    a.add_argument(
        "--roles", metavar="FILE",
        help="roles file for --roleplay (default sim/app/classroom/roles.toml)",
    )  # fmt: skip
    a.add_argument(
        "--round-days", type=int, metavar="N",
        help="days per round for --roleplay (default: the roles file's, 30)",
    )  # fmt: skip
    a.add_argument(
        "--classroom-dir", metavar="DIR",
        help=f"where --roleplay saves its classes (default {ROLEPLAY_ROOT})",
    )  # fmt: skip
    a.set_defaults(func=cmd_app)
    return a
