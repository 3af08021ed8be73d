"""``/docs`` (Swagger UI) and ``/redoc`` with their scripts served by this server, not a CDN.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they are blank offline or behind a
firewall. The ``fastapi-offline`` package ships the same files (Swagger UI 5, which reads the
OpenAPI 3.1 FastAPI writes); they are served from :data:`ASSETS_URL`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc``; the app must be created with ``docs_url=None, redoc_url=None``."""
    assets = Path(str(files("fastapi_offline") / "static"))
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
