"""Device and training time estimate in the faces: the web New run form and run page in a real Chromium
against a real server, the desktop Start Training dialog and Progress tab in real Qt widgets offscreen.

One tiny run is started for real and stopped as soon as its process has recorded the device it trains on.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from tests.e2e.web_server import chromium, running_server, shot
from tests.integration.conftest import tiny_config, wait_until

from retroml.config import build_config
from retroml.desktop.dialog import StartTrainingDialog
from retroml.desktop.progress_tab import ProgressTab
from retroml.engine.devices import torch_build
from retroml.runs.service import RunService
from retroml.runs.train_estimate import measured_speed

playwright = pytest.importorskip("playwright.sync_api")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [
    pytest.mark.expensive,
    pytest.mark.skipif(torch.cuda.is_available(), reason="checks what a machine without a GPU shows"),
]


@pytest.fixture(scope="module")
def trained_on(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A home with one run whose first leg recorded its device, then was stopped (one per module)."""
    home = tmp_path_factory.mktemp("device") / "home"
    service = RunService(home)
    run_id = service.create(build_config(tiny_config("pong", 100_000, recording={"enabled": False}))).run_id
    try:
        wait_until(lambda: service.get(run_id).device is not None, timeout=180, poll=0.2)
    finally:
        service.stop(run_id)
        service.wait(run_id, timeout=120)
    yield home, run_id


def test_the_web_form_offers_the_detected_device_and_estimates_the_run(trained_on: tuple[Path, str]) -> None:
    home, run_id = trained_on
    expect = playwright.expect
    with running_server(home, home.parent / "server.log") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.get_by_role("button", name="New run").click()
        dialog = page.get_by_role("dialog", name="New run")
        device = dialog.get_by_label("Device")
        # The server imports torch to list the devices: the first answer may take a while on a busy machine.
        expect(device.locator("option")).to_have_text(["auto (CPU — no CUDA GPU seen)", "CPU"], timeout=60_000)
        expect(dialog.locator("#run-device-note")).to_contain_text(torch_build())
        estimate = dialog.get_by_role("status", name="Training time estimate")
        dialog.get_by_label("Preset").select_option("quick_test")
        expect(estimate).to_contain_text("Estimated training time: ≈", timeout=30_000)
        expect(estimate).to_contain_text("on this machine (cpu;")
        quick = estimate.inner_text()
        dialog.get_by_label("Budget (timesteps)").fill("10M")
        expect(estimate).not_to_have_text(quick, timeout=30_000)
        estimate.scroll_into_view_if_needed()
        shot(page, "web-device-estimate.png")

        page.goto(f"{url}/runs/{run_id}")
        facts = page.locator("dl.facts")
        expect(facts).to_contain_text("Device", timeout=30_000)
        expect(facts.locator("dt:text('Device') + dd")).to_have_text("cpu")
        shot(page, "web-run-device.png")


def test_measure_this_machine_turns_the_first_guess_into_a_probe(tmp_path: Path) -> None:
    """A fresh home: the form's estimate is a first guess with a way to measure; a click measures for real."""
    home = tmp_path / "home"
    expect = playwright.expect
    with running_server(home, tmp_path / "server.log") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.get_by_role("button", name="New run").click()
        dialog = page.get_by_role("dialog", name="New run")
        dialog.get_by_label("Algorithm").select_option("a2c")
        dialog.get_by_label("Environments").fill("4")
        estimate = dialog.get_by_role("status", name="Training time estimate")
        expect(estimate).to_contain_text("a first guess", timeout=60_000)
        estimate.get_by_role("button", name="Measure this machine").click()
        expect(estimate).to_contain_text("a short probe is measuring it now", timeout=30_000)
        # The probe trains A2C for real; the form asks again every 5 s until its number is in.
        expect(estimate).to_contain_text("measured by a short probe of A2C with 4 envs", timeout=240_000)
        expect(estimate.get_by_role("button", name="Measure this machine")).to_have_count(0)
        estimate.scroll_into_view_if_needed()
        shot(page, "web-estimate-probe.png")
    probed = measured_speed(home, "a2c", 4, "cpu")
    assert probed is not None and probed.legs == 0 and probed.steps_per_sec > 0


def test_the_desktop_dialog_and_progress_tab_show_the_device(qtbot, trained_on: tuple[Path, str]) -> None:  # type: ignore[no-untyped-def]
    home, run_id = trained_on
    service = RunService(home)
    dialog = StartTrainingDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.device.count() == 2, timeout=60_000)
    assert [dialog.device.itemText(index) for index in range(2)] == ["auto (CPU — no CUDA GPU seen)", "CPU"]
    qtbot.waitUntil(lambda: dialog.estimate.text().startswith("Estimated training time: ≈"), timeout=60_000)
    assert "on this machine (cpu;" in dialog.estimate.text()
    ARTIFACTS.mkdir(exist_ok=True)
    assert dialog.grab().save(str(ARTIFACTS / "desktop-device-estimate.png"))
    dialog.overrides.setText("train.device=cuda")
    dialog.accept()  # the service refuses the device on the dialog's worker thread
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
    assert dialog.error.text() == f"This machine has no CUDA GPU ({torch_build()}); use --device cpu or auto"
    assert len(service.list_runs()) == 1

    tab = ProgressTab(service)
    qtbot.addWidget(tab)
    tab.show_run(run_id)  # read on the tab's worker thread, painted when it arrives
    qtbot.waitUntil(lambda: tab.fields["Device"].text() == "cpu (asked: auto)", timeout=10_000)
    assert tab.grab().save(str(ARTIFACTS / "desktop-progress-device.png"))


def test_the_desktop_dialog_measures_this_machine_on_request(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    dialog = StartTrainingDialog(RunService(home))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.algo.setCurrentIndex(dialog.algo.findData("a2c"))
    dialog.n_envs.setText("4")
    qtbot.waitUntil(lambda: "a first guess" in dialog.estimate.text() and dialog.measure.isVisible(), timeout=60_000)
    dialog.measure.click()
    qtbot.waitUntil(lambda: "a short probe is measuring it now" in dialog.estimate.text(), timeout=30_000)
    assert not dialog.measure.isVisible()
    qtbot.waitUntil(lambda: "measured by a short probe of A2C with 4 envs" in dialog.estimate.text(), timeout=240_000)
    assert not dialog.measure.isVisible()
    ARTIFACTS.mkdir(exist_ok=True)
    assert dialog.grab().save(str(ARTIFACTS / "desktop-estimate-probe.png"))
    probed = measured_speed(home, "a2c", 4, "cpu")
    assert probed is not None and probed.legs == 0
