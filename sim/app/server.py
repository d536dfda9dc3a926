"""The teaching page's server process: ``solara run`` with uncompressed websocket frames.

``govsim app`` starts ``python -m sim.app.server run <page> ...``, which is Solara's own
command line (:func:`solara.__main__.main`) with one setting changed: the websocket's
per-message compression (RFC 7692 ``permessage-deflate``, on by default in uvicorn) is
off. Every step sends the live charts and map as JPEG (~90 KB at 1:100), which deflate
cannot shrink; compressing them anyway took ~18 ms of the server's ~32 ms of CPU per step
(py-spy on ``python -m sim.app.bench --browser``), more than the model's day. The few
kilobytes of HTML a step also sends go uncompressed, which on a classroom network is
nothing. Solara's command line has no option for it, so the default of
:class:`uvicorn.Config` is changed before Solara builds its server.
"""

from __future__ import annotations

import functools

WS_PER_MESSAGE_DEFLATE = False


def no_websocket_compression() -> None:
    """Make ``uvicorn.Config`` default to ``ws_per_message_deflate=False`` (idempotent;
    an explicit argument still wins)."""
    import uvicorn

    init = uvicorn.Config.__init__
    if getattr(init, "_govsim_no_deflate", False):
        return

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("ws_per_message_deflate", WS_PER_MESSAGE_DEFLATE)
        init(self, *args, **kwargs)

    __init__._govsim_no_deflate = True
    uvicorn.Config.__init__ = __init__


def main() -> None:
    """``solara run ...`` (arguments as Solara's), without websocket compression; on a
    cold numba cache the model's kernels are compiled first, on every core, saying so
    (:func:`sim.kernels.compile.compile_with_notice`), instead of while the first
    browser waits for its page."""
    no_websocket_compression()
    from sim.kernels.compile import compile_with_notice

    compile_with_notice()
    from solara.__main__ import main as solara_main

    solara_main()


if __name__ == "__main__":
    main()
