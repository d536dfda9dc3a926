"""The teaching page: an offline, Chinese-first interactive city for classroom sessions.

``govsim app [SCENARIO]`` serves a Solara page on 127.0.0.1 (see :mod:`sim.app.cli`).
The page is built from plain-Python parts that the tests exercise without a browser:

- :mod:`sim.app.text` — the page's words, Chinese first, English on the switch;
- :mod:`sim.app.levers` — the levers of the article's six sections as controls;
- :mod:`sim.app.session` — one browser session's simulation (A and, in A/B mode, B);
- :mod:`sim.app.indicators` — per-grid indicators for the map;
- :mod:`sim.app.events` — the plain-language event feed;
- :mod:`sim.app.figures` — live matplotlib figures rendered to PNG (no CDN charting);
- :mod:`sim.app.page` — the Solara components (``Page``);
- :mod:`sim.app.bench` — step + render time at 1:100.

Nothing here keeps a model at module level: every browser session builds its own
:class:`~sim.app.session.Session` inside its ``Page`` component.

Importing ``sim.app`` (as ``govsim``'s parser does for ``sim.app.cli.register``) loads
nothing heavy; ``Session`` and ``SimRun`` are imported on first use.
"""

__all__ = ["Session", "SimRun"]


def __getattr__(name: str):
    if name in __all__:
        from sim.app import session

        return getattr(session, name)
    raise AttributeError(f"module 'sim.app' has no attribute {name!r}")
