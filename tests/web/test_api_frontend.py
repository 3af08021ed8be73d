"""The built React app at ``/``: files, page routes, the not-built page, and no way out of the folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import local_client

from retroml.runs.service import RunService
from retroml.web.server import create_app


@pytest.fixture
def static(tmp_path: Path) -> Path:
    folder = tmp_path / "static"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><div id=root></div>", encoding="utf-8")
    (folder / "assets" / "app.js").write_text("console.log('app')", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    (folder / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return folder


@pytest.fixture
def site(service: RunService, static: Path) -> Iterator[TestClient]:
    with local_client(create_app(service, static_dir=static)) as client:
        yield client


def test_index_assets_and_page_routes(site: TestClient) -> None:
    assert site.get("/").text == "<!doctype html><div id=root></div>"
    assert site.get("/assets/app.js").text == "console.log('app')"
    # Pages of the single-page app are answered with index.html; the app routes them itself.
    assert site.get("/runs/run-12345678").text.startswith("<!doctype html>")
    assert site.get("/gallery").text.startswith("<!doctype html>")
    assert site.get("/assets/missing.js").status_code == 404


@pytest.mark.parametrize("path", ["/%2e%2e/secret.txt", "/..%2Fsecret.txt", "/escape.txt", "/%2Fetc%2Fpasswd"])
def test_no_path_leaves_the_static_folder(site: TestClient, path: str) -> None:
    response = site.get(path)
    assert "not for the web" not in response.text and "root:" not in response.text
    assert response.status_code == 404


def test_without_a_build_the_page_says_how_to_build_it(service: RunService, tmp_path: Path) -> None:
    with local_client(create_app(service, static_dir=tmp_path / "nothing")) as client:
        page = client.get("/")
    assert page.status_code == 200 and "scripts/build_frontend.sh" in page.text
