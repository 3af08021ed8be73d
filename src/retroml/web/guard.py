"""What a request must be before the app reads it: addressed to this server, from its own pages, JSON, small.

- **Host** (421): a page of ``attacker.example`` whose DNS name is re-pointed at 127.0.0.1 (DNS
  rebinding) reaches the loopback server as its own origin; only the ``Host`` header tells. The
  server answers only to the loopback names, the address it is bound to (for 0.0.0.0: this
  machine's names and addresses) and the names given with ``retroml ui --allowed-host``.
- **Origin** (403): another site's page may send a POST or DELETE here (a form, a ``fetch``
  without preflight); the browser then says where it comes from. A state-changing request must
  have no ``Origin`` (curl, scripts) or this server's own.
- **Content type** (415): POST, PUT and PATCH must say ``Content-Type: application/json``, even
  without a body. A cross-site page cannot send that without a CORS preflight, which this server
  never grants, so this holds whatever FastAPI does with other types.
- **Size** (413): bodies above :data:`MAX_BODY_BYTES`; the New run form sends well under 2 KiB,
  and YAML in ``overrides`` costs seconds of CPU per hundred KiB.

DELETE has no body, and a cross-site page cannot send it without a preflight either; it gets the
Host and Origin checks. Every refusal is one sentence in the usual :class:`~retroml.web.errors.ErrorBody`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retroml.web.auth import LOCAL_HOSTS
from retroml.web.errors import error_response

MAX_BODY_BYTES = 64 * 1024
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
DEFAULT_PORTS = {"http": 80, "https": 443}
_IP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def _normal(name: str) -> str:
    return name.strip().strip("[]").rstrip(".").lower()


def this_machine_names() -> set[str]:
    """The names and addresses this machine is reached by on its networks (a server bound to 0.0.0.0)."""
    import psutil

    names = {socket.gethostname(), socket.getfqdn()}
    for addresses in psutil.net_if_addrs().values():
        names.update(address.address.split("%", 1)[0] for address in addresses if address.family in _IP_FAMILIES)
    return {_normal(name) for name in names if name}


def allowed_host_names(hosts: Iterable[str]) -> frozenset[str]:
    """The loopback names, plus ``hosts`` (the bound address and ``--allowed-host`` names)."""
    names = {_normal(name) for name in LOCAL_HOSTS}
    for host in hosts:
        names.update(this_machine_names() if _normal(host) in WILDCARD_HOSTS else {_normal(host)})
    return frozenset(names)


def host_name(host_header: str) -> str:
    """``[::1]:8000`` → ``::1``; ``LocalHost.:8000`` → ``localhost``."""
    value = host_header.strip()
    if value.startswith("["):
        return _normal(value[1 : value.find("]")] if "]" in value else value)
    name, colon, port = value.rpartition(":")
    return _normal(name if colon and port.isdigit() and ":" not in name else value)


def _same_origin(origin: str, host_header: str, scheme: str) -> bool:
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        own = urlsplit(f"{scheme}://{host_header}")
        own_port = own.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return False
    # The scheme is not compared: behind a TLS proxy the browser says https while this server sees http.
    return bool(parts.hostname) and parts.hostname == own.hostname and origin_port == own_port


class RequestGuard:
    """ASGI middleware refusing what is not addressed to this server, cross-site, not JSON or too large.

    :param app: the application to protect.
    :param allowed_hosts: the host names it answers to (see :func:`allowed_host_names`).
    :param max_body_bytes: the largest request body accepted.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str], max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, sentence = refusal
            await error_response(status, sentence)(scope, receive, send)
            return
        if scope["method"] in WITH_BODY:
            body = await self._read_body(receive, headers)
            if body is None:
                limit = self.max_body_bytes // 1024
                await error_response(413, f"The request body is larger than {limit} KiB.")(scope, receive, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host")
        if not host:
            return 400, "The request has no Host header."
        if host_name(host) not in self.allowed_hosts:
            return 421, (
                f"This server does not answer to the name {host_name(host)!r}; "
                "start it with `retroml ui --allowed-host NAME` to reach it by another name."
            )
        method = scope["method"]
        if method not in STATE_CHANGING:
            return None
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, host, scope.get("scheme", "http")):
            return 403, "Requests that change runs are only taken from this server's own pages."
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if method in WITH_BODY and media_type != "application/json":
            return 415, "Send this request with Content-Type: application/json (even without a body)."
        return None

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes | None:
        """The whole body, or ``None`` once it is larger than the limit (nothing more is read)."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the already-read body once, then passes on (e.g. the disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
