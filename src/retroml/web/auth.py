"""The access token that guards ``/api`` when the server listens beyond this machine.

On 127.0.0.1 there is no token: only local programs reach the port. With ``--host 0.0.0.0`` every
``/api`` request needs ``Authorization: Bearer <token>`` or the ``retroml_token`` cookie, which the
browser gets by opening ``/?token=<token>`` once (the printed link).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from retroml.web.errors import error_response

TOKEN_ENV_VAR = "RETROML_TOKEN"
COOKIE = "retroml_token"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def token_for_host(host: str) -> str | None:
    """No token for a loopback address; otherwise ``$RETROML_TOKEN`` or a fresh random one."""
    if host in LOCAL_HOSTS:
        return None
    return os.environ.get(TOKEN_ENV_VAR) or secrets.token_urlsafe(24)


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.cookies.get(COOKIE)


def _matches(presented: str | None, token: str) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, i.e. a 500).
    if presented is None:
        return False
    return secrets.compare_digest(presented.encode("utf-8", "replace"), token.encode("utf-8"))


def _local_path(path: str) -> str:
    """``path`` as a path of this server: ``//evil.example/`` would send the browser to evil.example."""
    return "/" + path.lstrip("/\\")


def install_token_check(app: FastAPI, token: str) -> None:
    """Refuse ``/api`` requests without the token (401); ``/?token=`` sets the cookie and redirects to the page."""

    @app.middleware("http")
    async def check_token(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        offered = request.query_params.get("token")
        if not path.startswith("/api") and offered is not None:
            if not _matches(offered, token):
                return error_response(401, "That token is not this server's token.")
            response = RedirectResponse(url=_local_path(path), status_code=303)
            # SameSite=Strict: another site's page cannot make the browser send the cookie along.
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        if path.startswith("/api"):
            if not _matches(_presented_token(request), token):
                detail = (
                    "This server needs its access token: open the link `retroml ui` printed, "
                    "or send it as a bearer token."
                )
                return error_response(401, detail)
        return await call_next(request)
