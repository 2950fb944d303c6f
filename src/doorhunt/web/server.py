"""Running the UI: uvicorn on one address, the index refreshed beside it, the URL printed.

Loopback by default. Any other address gets a fresh random token, printed once in the URL
(the only place it is shown; it is not stored anywhere).
"""

from __future__ import annotations

import logging
import mimetypes
import signal
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import uvicorn

from doorhunt.web.app import UiState, create_app
from doorhunt.web.security import is_loopback, new_token

log = logging.getLogger("doorhunt.web")

# ES modules must be served as JavaScript; some systems' mime tables lack .mjs.
mimetypes.add_type("text/javascript", ".mjs")


@dataclass(frozen=True, slots=True)
class ServerPlan:
    """Where the UI listens and how one reaches it."""

    host: str
    port: int
    token: str | None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def url(self) -> str:
        shown = (
            f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        )
        if self.host in ("0.0.0.0", "::"):  # noqa: S104 - naming it, not binding it
            shown = "HOST"
        base = f"http://{shown}:{self.port}/"
        return f"{base}?token={self.token}" if self.token else base


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def plan(host: str, port: int) -> ServerPlan:
    return ServerPlan(host, port, None if is_loopback(host) else new_token())


def build(data: Path, server: ServerPlan) -> tuple[UiState, Any]:
    state = UiState.open(data)
    app = create_app(state, token=server.token, loopback=server.loopback, port=server.port)
    return state, app


def serve(data: Path, server: ServerPlan, *, open_browser: bool, out: TextIO) -> None:
    """Serve until interrupted (SIGINT, SIGTERM)."""
    state, app = build(data, server)
    state.start_refreshing()
    config = uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        lifespan="off",
    )
    runner = uvicorn.Server(config)

    def announce() -> None:
        # Once listening: an address that cannot be used is an error, not a URL.
        while not runner.started and not runner.should_exit:
            threading.Event().wait(0.05)
        if not runner.started:
            return
        out.write(f"doorhunt ui: serving {data} at {server.url}\n")
        if server.token:
            out.write(
                "doorhunt ui: the access token is in that URL and is shown only now; "
                "anyone with it can read this data.\n"
            )
        out.flush()
        if open_browser:
            webbrowser.open(server.url.replace("HOST", "127.0.0.1"))

    announcer = threading.Thread(target=announce, name="doorhunt-ui-announce", daemon=True)
    announcer.start()
    # uvicorn handles SIGINT/SIGTERM itself, then raises the signal again once it has shut
    # down: both end here as a clean stop (exit 0), as the man page of a server promises.
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    except SystemExit:
        pass  # uvicorn exits when it cannot bind; said below, as a usage error
    finally:
        signal.signal(signal.SIGTERM, previous)
        state.close()
    if not runner.started:
        raise OSError(f"cannot listen on {server.host}:{server.port} (see the message above)")


__all__ = ["ServerPlan", "build", "plan", "serve"]
