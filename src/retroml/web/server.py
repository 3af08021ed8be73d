"""The web app: the ``/api`` routers, OpenAPI at ``/docs``, and the built React app at ``/``.

``create_app`` wires a :class:`RunService` into FastAPI; ``serve`` runs it with uvicorn for
``retroml ui``. The React app is a build output (``scripts/build_frontend.sh`` writes it to
``web/static``); without it ``/`` says how to build it and the API still works.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Container, Sequence
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Match
from starlette.types import Scope

from retroml.errors import InvalidInputError, NotFoundError
from retroml.paths import inside
from retroml.runs.service import RunService
from retroml.web.api import estimates, events, games, presets, runs, system, videos
from retroml.web.auth import TOKEN_ENV_VAR, install_token_check, token_for_host
from retroml.web.docs import install_docs
from retroml.web.errors import ERROR_RESPONSES, error_response, install_error_handlers
from retroml.web.guard import RequestGuard, allowed_host_names

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
API_CATCH_ALL = "/api/{rest:path}"
PAGE_CATCH_ALL = "/{path:path}"
NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RetroML</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;">
<h1>RetroML</h1>
<p>The web app has not been built yet. Run <code>scripts/build_frontend.sh</code> and reload this page.</p>
<p>The API works already: see <a href="/docs">/docs</a>.</p>
</body></html>
"""


def create_app(
    service: RunService | None = None,
    home: str | Path | None = None,
    db: str | None = None,
    token: str | None = None,
    static_dir: Path | None = None,
    allowed_hosts: Sequence[str] = (),
) -> FastAPI:
    """The FastAPI app over ``service`` (or a new one on ``home``/``db``).

    :param token: when set, every ``/api`` request must present it (bearer header or cookie).
    :param static_dir: the built React app (default: ``web/static`` of this package).
    :param allowed_hosts: host names the server answers to besides the loopback names (``0.0.0.0``:
        this machine's names and addresses); see :mod:`retroml.web.guard`.
    """
    app = FastAPI(
        title="RetroML",
        summary="Train reinforcement-learning agents on Atari games and watch them learn.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service or RunService(home, db)
    install_error_handlers(app)
    if token:
        install_token_check(app, token)
    # Added last, so it runs first: a request for another host never reaches the token check or a route.
    app.add_middleware(RequestGuard, allowed_hosts=allowed_host_names(allowed_hosts))
    routers = (games.router, presets.router, runs.router, events.router, videos.router, system.router)
    for router in (*routers, estimates.router):
        app.include_router(router, prefix="/api", responses=ERROR_RESPONSES)
    install_docs(app)
    _mount_frontend(app, static_dir or STATIC_DIR)
    return app


def _methods_for(app: FastAPI, path: str, catch_alls: Container[str]) -> list[str]:
    """The methods the app's routes take at ``path``, the catch-alls left out (empty: no route has it)."""
    methods = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope: Scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
        for route in app.routes:
            if getattr(route, "path", None) not in catch_alls and route.matches(scope)[0] is Match.FULL:
                methods.append(method)
                break
    return methods


def _mount_frontend(app: FastAPI, static: Path) -> None:
    @app.api_route(API_CATCH_ALL, methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown_api_route(rest: str, request: Request) -> JSONResponse:
        # This catch-all takes every method, so a known path with the wrong method lands here too.
        allowed = _methods_for(app, request.url.path, catch_alls=(API_CATCH_ALL, PAGE_CATCH_ALL))
        if allowed:
            sentence = f"{request.url.path} does not take {request.method}; it takes {', '.join(allowed)}."
            return error_response(405, sentence, headers={"Allow": ", ".join(allowed)})
        return error_response(404, f"There is no API route /api/{rest}.")

    @app.get(PAGE_CATCH_ALL, include_in_schema=False)
    def frontend(path: str) -> Response:
        index = static / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT_PAGE)
        if path:
            try:
                asset = inside(static, path)
            except NotFoundError:
                return error_response(404, "Not found.")
            if asset.is_file():
                return FileResponse(asset)
            if path.startswith("assets/"):
                return error_response(404, "Not found.")
        # Every other path is a page of the single-page app (/runs/<id>, /gallery …).
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


def reachable_addresses(host: str) -> list[str]:
    """The addresses to print for a server bound to ``host``: for 0.0.0.0 (or ::) this machine's own
    network addresses, which other machines can open, then 127.0.0.1 for this one."""
    if host not in ("0.0.0.0", "::"):
        return [host]
    import psutil

    families = (socket.AF_INET, socket.AF_INET6) if host == "::" else (socket.AF_INET,)
    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            ip = address.address.split("%", 1)[0]
            # Loopback and link-local (fe80::) addresses are not reachable from another machine.
            if address.family in families and not ip.startswith(("127.", "fe80:")) and ip != "::1":
                found.append(ip)
    return [*sorted(set(found)), "127.0.0.1"]


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise InvalidInputError(f"port {port} on {host} is in use; pass --port with another number") from None


def serve(
    home: str | Path | None = None,
    db: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    service: RunService | None = None,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Run the web app with uvicorn until Ctrl-C; runs keep training after the server stops.

    :param service: the service to serve (e.g. one with a Ray executor); default: a local one on ``home``/``db``.
    :param allowed_hosts: more names the browser may reach the server by (a DNS name, a proxy's host).
    """
    import uvicorn
    from rich.console import Console

    _check_port_free(host, port)
    token = token_for_host(host)
    app = create_app(service=service, home=home, db=db, token=token, allowed_hosts=[host, *allowed_hosts])
    console = Console()
    query = f"?token={token}" if token else ""
    for address in reachable_addresses(host):
        shown = f"[{address}]" if ":" in address else address
        console.print(f"RetroML web app: http://{shown}:{port}/{query}", soft_wrap=True)
    if token:
        console.print(f"Anyone with this link (or ${TOKEN_ENV_VAR}) can control your runs; keep it private.")
    if not (STATIC_DIR / "index.html").is_file():
        console.print("The React app is not built: run scripts/build_frontend.sh (the API works meanwhile).")
    uvicorn.run(app, host=host, port=port, log_level="warning")
