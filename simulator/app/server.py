"""The workbench web server: a Dash app on loopback, one :class:`~.session.Session` per process.

Everything the page loads (Dash's React bundles, the component suites, ``assets/app.css`` and
the figures, embedded as PNG data) is served by this process: no CDN, no fonts from the web,
so it works offline. Requests naming another host than the one served are refused (a web page
elsewhere cannot drive the workbench by DNS rebinding).
"""

from __future__ import annotations

import atexit
import logging
import threading
import webbrowser
from pathlib import Path

from dash import Dash

from .callbacks import register
from .layout import layout
from .session import Session

__all__ = ["create_app", "serve"]

ASSETS = Path(__file__).parent / "assets"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def create_app(session: Session, host: str = "127.0.0.1") -> Dash:
    """The Dash app for ``session`` (serving only local files)."""
    app = Dash("critmin_app", assets_folder=str(ASSETS), serve_locally=True,
               title="critmin workbench", update_title=None,
               suppress_callback_exceptions=False)
    app.layout = lambda: layout(session)
    register(app, session)
    allowed = {host, *LOOPBACK} if host in LOOPBACK else None

    @app.server.before_request
    def _same_host() -> None:
        from flask import abort, request

        if allowed is not None and (request.host or "").rsplit(":", 1)[0].strip("[]") \
                not in allowed:
            abort(403)

    return app


def serve(host: str = "127.0.0.1", port: int = 8050, *, open_browser: bool = True,
          scenarios: Path = Path("scenarios"), out: Path = Path("results"),
          workers: int | None = None) -> None:
    """Serve the workbench until Ctrl-C; open it in the default browser unless told not."""
    session = Session(scenarios, out, workers)
    atexit.register(session.close)
    app = create_app(session, host)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    print(f"critmin workbench on {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        app.run(host=host, port=port, debug=False)
    finally:
        session.close()
