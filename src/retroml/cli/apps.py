"""``retroml ui`` and ``retroml desktop``: the web and desktop faces."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from retroml.cli.common import (
    DbOption,
    ExecutorOption,
    HomeOption,
    RayAddressOption,
    app,
    fail,
    service_for,
)
from retroml.errors import RetroMLError

if TYPE_CHECKING:
    pass


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address to bind; anything but 127.0.0.1 needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    home: HomeOption = None,
    db: DbOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(help="Another name the browser reaches the server by (a DNS name, a proxy); repeatable."),
    ] = None,
) -> None:
    """Start the web app (http://127.0.0.1:8000)."""
    _check_address(host, port)
    from retroml.web.server import serve

    try:
        serve(
            host=host,
            port=port,
            service=service_for(home, db, executor, ray_address),
            allowed_hosts=allowed_host or [],
        )
    except RetroMLError as error:
        raise fail(str(error)) from None


def _check_address(host: str, port: int) -> None:
    """A port number and a host that is an address of this machine (the server says when the port is taken)."""
    if not 1 <= port <= 65535:
        raise fail(f"--port {port} is not a port; give a number from 1 to 65535")
    refused = f"--host '{host}' is not an address of this machine; use 127.0.0.1 (this machine only) or 0.0.0.0"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if re.fullmatch(r"[\d.]*", host):  # 256.1.1.1 is no address; a DNS lookup of it could only time out
            raise fail(refused) from None
    try:
        family, kind, _proto, _name, address = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.bind((address[0], 0))
    except (OSError, UnicodeError):
        raise fail(refused) from None


@app.command()
def desktop(home: HomeOption = None, db: DbOption = None) -> None:
    """Start the desktop app."""
    displays = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    if sys.platform.startswith("linux") and not any(os.environ.get(name) for name in displays):
        # Without one Qt aborts the process (exit 134) instead of raising anything catchable.
        raise fail("the desktop app needs a display (DISPLAY is not set); start it on a desktop or use `retroml ui`")
    try:
        from retroml.desktop.app import run_desktop
    except ImportError as error:
        # Not a missing module of ours: Qt's own system libraries (libEGL, libxkbcommon) may be absent.
        raise fail(f"the desktop app cannot start here: Qt could not load ({error})") from None
    raise typer.Exit(code=run_desktop(home=home, db=db))
