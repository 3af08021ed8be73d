"""The web app as a demanding user finds it, in headless Chromium against one real ``retroml ui``.

One server and one home for the module, and few runs, each tiny: a Fast Mode PPO run on 3
environments with no batch size (RetroML picks one that divides the rollout) trained in two legs,
each leg ending in its own short journey; a Fast Mode run stopped early (no journey, a render
started and cancelled); a run that failed before its first checkpoint. Screenshots go to
test-artifacts/web-polish-*.png.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from tests.e2e.web_server import ARTIFACTS, ROOT, chromium, running_server, shot, start_ui, wait_for

from retroml.runs.service import RunService

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.expensive

# Whole rollouts of 3 envs × 64 steps; no batch size: the config picks one that divides 192.
TINY = ["train.n_steps=64", "train.n_epochs=1", "milestones_pct=[0,50,100]"]
JSON = {"Content-Type": "application/json"}
# What SB3 raises for a minibatch of one sample (the worker records it as the run's message).
SB3_BATCH_ASSERTION = "`batch_size` must be greater than 1. See https://github.com/DLR-RM/stable-baselines3/issues/440"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("polish") / "home"
    with running_server(home, home.parent / "server.log") as url:
        yield url, home


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    opened = browser.new_page(viewport={"width": 1280, "height": 800})
    yield opened
    opened.close()


def wait_status(url: str, run_id: str, statuses: set[str], timeout: float = 180, videos: int = 0) -> dict:  # type: ignore[type-arg]
    """The run once it is in one of ``statuses`` with at least ``videos`` videos."""
    deadline = time.monotonic() + timeout
    while True:
        run = httpx.get(f"{url}/api/runs/{run_id}", timeout=10).json()
        assert run["status"] != "failed", run
        if run["status"] in statuses and len(httpx.get(f"{url}/api/videos?run_id={run_id}").json()) >= videos:
            return run  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, run
        time.sleep(0.5)


@pytest.fixture(scope="module")
def two_leg_run(server: tuple[str, Path]) -> str:
    """A PPO run on 3 envs (no batch size given), no recording, trained 1,536 then 576 more timesteps,
    with a 1-second journey rendered after each leg."""
    url, home = server
    body = {
        "game": "pong",
        "algo": "ppo",
        "total_timesteps": 1536,
        "n_envs": 3,
        "n_threads": 1,
        "name": "three-envs",
        "recording": {"enabled": False, "milestone_clip_seconds": 0},
        "overrides": TINY,
    }
    response = httpx.post(f"{url}/api/runs", json=body, timeout=30)
    # Before: 422 "batch_size 256 must divide n_envs × n_steps = 192" for a batch size nobody chose.
    assert response.status_code == 201, response.text
    run_id = response.json()["run_id"]
    wait_status(url, run_id, {"completed"})
    render = {"length": "1s", "workers": 1}
    httpx.post(f"{url}/api/runs/{run_id}/render", json=render, timeout=30).raise_for_status()
    wait_status(url, run_id, {"completed"}, videos=1)
    httpx.post(f"{url}/api/runs/{run_id}/continue", json={"mode": "more", "steps": 576}, timeout=30)
    wait_status(url, run_id, {"completed"})
    httpx.post(f"{url}/api/runs/{run_id}/render", json={**render, "length": "2s"}, timeout=30).raise_for_status()
    run = wait_status(url, run_id, {"completed"}, videos=2)
    assert run["leg"] == 2, run
    config = yaml.safe_load((home / "runs" / run_id / "config.yaml").read_text(encoding="utf-8"))
    batch = config["train"]["batch_size"]
    assert batch >= 2 and 192 % batch == 0, batch
    return run_id


@pytest.fixture(scope="module")
def stopped_fast_run(server: tuple[str, Path]) -> str:
    """A Fast Mode run stopped after its first milestone checkpoint: it never reached its auto-render."""
    url, home = server
    body = {
        "game": "pong",
        "total_timesteps": 500_000,
        "n_envs": 2,
        "n_threads": 1,
        "name": "stopped-fast",
        "fast_mode": True,
        "overrides": TINY,
    }
    run_id = httpx.post(f"{url}/api/runs", json=body, timeout=30).json()["run_id"]
    deadline = time.monotonic() + 90
    while not list((home / "runs" / run_id / "checkpoints").glob("milestone_*pct_*.zip")):
        assert time.monotonic() < deadline, "no milestone checkpoint"
        time.sleep(0.3)
    while httpx.get(f"{url}/api/runs/{run_id}").json()["timesteps"] < 1000:
        assert time.monotonic() < deadline, "it did not train"
        time.sleep(0.3)
    httpx.post(f"{url}/api/runs/{run_id}/stop", headers=JSON, timeout=30)
    wait_status(url, run_id, {"stopped"}, timeout=60)
    return run_id


def test_the_log_follows_its_tail_unless_the_reader_scrolled_up(server, two_leg_run, page) -> None:  # type: ignore[no-untyped-def]
    url, _home = server
    expect = playwright.expect
    page.goto(f"{url}/runs/{two_leg_run}")
    log = page.locator("pre.log")
    expect(log).to_contain_text("video written", timeout=30_000)
    assert log.evaluate("el => el.scrollHeight > el.clientHeight + 50"), "the log is too short to scroll"
    # Before: the box stayed at its top, the finished run's last lines ("journey written") off-screen.
    at_end = "el => el.scrollHeight - el.scrollTop - el.clientHeight < 4"
    page.wait_for_function(f"({at_end})(document.querySelector('pre.log'))", timeout=10_000)
    last_line = log.evaluate("el => el.textContent.trim().split('\\n').pop()")
    assert "video written" in last_line, last_line
    # The journeys above the log change its place once their posters load: screenshot it after that.
    page.wait_for_function("[...document.querySelectorAll('video')].every(v => v.readyState >= 1)", timeout=30_000)
    log.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-polish-log-tail.png"))


def test_charts_have_ticks_grid_axis_titles_a_shared_range_and_a_hover_readout(server, two_leg_run, page) -> None:  # type: ignore[no-untyped-def]
    url, _home = server
    expect = playwright.expect
    page.goto(f"{url}/runs/{two_leg_run}")
    charts = page.locator("section.charts figure.chart")
    expect(charts).to_have_count(4)
    expect(charts.nth(1)).not_to_have_attribute("data-points", "0", timeout=30_000)
    x_labels = []
    for index in range(4):
        chart = charts.nth(index)
        x_labels.append(chart.locator("text.x-tick").all_text_contents())
        y_labels = chart.locator("text.y-tick").all_text_contents()
        # Before: two labels, the y ends ("1.79 / 1.79" for a flat entropy), and no grid.
        if chart.get_attribute("data-points") != "0":
            assert len(y_labels) >= 3 and len(set(y_labels)) == len(y_labels), y_labels
        assert chart.locator("g.grid line").count() >= 5
        expect(chart.locator("text.axis-title").first).to_have_text("timesteps")
    # The same x range on every chart: the run's plan, 0 to 2,112 timesteps.
    assert all(labels == x_labels[0] for labels in x_labels), x_labels
    assert x_labels[0] == ["0", "500", "1k", "1.5k", "2k"], x_labels
    titles = page.locator("section.charts text.axis-title").all_text_contents()
    assert {"score", "loss", "entropy (nats)", "steps/s"} <= set(titles), titles

    loss = charts.nth(1)
    box = loss.locator("svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    readout = loss.locator(".readout")
    expect(readout).to_contain_text(re.compile(r"timesteps [\d,]+ · .*loss -?\d"))
    shot(page, "web-polish-charts.png")


def test_compare_is_full_width_and_says_what_to_do_with_no_run_picked(server, two_leg_run, page) -> None:  # type: ignore[no-untyped-def]
    url, _home = server
    expect = playwright.expect
    page.goto(f"{url}/compare")
    chart = page.locator(".compare-chart figure.chart")
    expect(chart.locator("text.empty")).to_have_text("Pick runs to compare.")
    # Before: "waiting for data…" above an empty table header.
    expect(page.get_by_role("table", name="Scores and speed")).to_have_count(0)
    shot(page, "web-polish-compare-empty.png")
    page.get_by_label(re.compile("^three-envs")).check()
    expect(page.get_by_role("table", name="Scores and speed").get_by_role("row", name="three-envs")).to_be_visible()
    page.wait_for_function("Number(document.querySelector('.compare-chart .chart').dataset.points) >= 0")
    main_width = page.locator("main").evaluate(
        "el => el.clientWidth - parseFloat(getComputedStyle(el).paddingLeft)"
        " - parseFloat(getComputedStyle(el).paddingRight)"
    )
    chart_width = chart.bounding_box()["width"]
    # Before: at most 820 px of a 1,240 px page.
    assert chart_width >= 0.97 * main_width, (chart_width, main_width)
    shot(page, "web-polish-compare.png")


def test_a_failed_run_says_why_in_plain_words_and_offers_only_what_can_work(server, page) -> None:  # type: ignore[no-untyped-def]
    url, home = server
    expect = playwright.expect
    body = {"game": "pong", "total_timesteps": 2000, "n_envs": 2, "name": "failed-at-once", "overrides": TINY}
    run_id = httpx.post(f"{url}/api/runs?start=false", json=body, timeout=30).json()["run_id"]
    # What the worker records when SB3 refuses the model (before any checkpoint): its raw assertion.
    RunService(home).raw_store.update_run(
        run_id, status="failed", exit_code=1, ended_at=time.time(), message=SB3_BATCH_ASSERTION
    )
    run = httpx.get(f"{url}/api/runs/{run_id}").json()
    assert run["actions"] == ["delete"], run["actions"]
    refused = httpx.post(f"{url}/api/runs/{run_id}/continue", json={"mode": "finish"}, timeout=30)
    assert refused.status_code == 409 and "failed before it saved a checkpoint" in refused.json()["detail"]

    page.goto(f"{url}/runs/{run_id}")
    expect(page.locator("article.run-page")).to_have_attribute("data-status", "failed")
    message = page.locator(".run-message")
    expect(message).to_contain_text("PPO needs minibatches of at least 2 samples")
    expect(message).not_to_contain_text("github.com")
    # Before: Continue, Branch and Render were offered and then failed.
    expect(page.get_by_role("button", name="Continue…")).to_be_disabled()
    expect(page.get_by_role("form", name="Branch")).to_have_count(0)
    expect(page.get_by_role("form", name="Render video")).to_have_count(0)
    expect(page.locator(".failed-hint")).to_contain_text("nothing to continue, branch or render")
    expect(page.get_by_role("button", name="Delete")).to_be_enabled()
    # Before: "waiting for data…" for a run that will never write any.
    expect(page.locator(".charts text.empty").first).to_have_text("No metrics were recorded before this run failed.")
    shot(page, "web-polish-failed-run.png")


def test_a_stopped_fast_mode_run_says_how_to_render_and_a_render_shows_progress_and_cancels(  # type: ignore[no-untyped-def]
    server, stopped_fast_run, page
) -> None:
    url, _home = server
    expect = playwright.expect
    run_id = stopped_fast_run
    page.goto(f"{url}/runs/{run_id}")
    article = page.locator("article.run-page")
    expect(article).to_have_attribute("data-status", "stopped")
    # Before: "No journey yet." and nothing more.
    hint = page.locator(".journey-hint")
    expect(hint).to_contain_text("Fast Mode renders the journey when training completes")
    expect(hint).to_contain_text(f"retroml render {run_id}")
    shot(page, "web-polish-stopped-fast.png")

    # The log follows new lines only while the reader is at its end.
    log = page.locator("pre.log")
    expect(log).to_contain_text("stopped", timeout=30_000)
    # A box shorter than the lines so far (a long run's log is), read from its top.
    log.evaluate("el => { el.style.maxHeight = '3.5em'; el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    assert log.evaluate("el => el.scrollHeight > el.clientHeight + 20")
    lines_before = log.evaluate("el => el.textContent.split('\\n').length")

    page.get_by_label("Length").fill("5m")
    page.get_by_role("button", name="Render video").click()
    expect(article).to_have_attribute("data-status", "rendering", timeout=15_000)
    status = page.get_by_role("status", name="Video render")
    expect(status).to_contain_text("done")
    expect(status.get_by_role("progressbar")).to_be_visible()
    cancel = status.get_by_role("button", name="Cancel render")
    expect(cancel).to_be_enabled()
    expect(log).to_contain_text("rendering the 5m single video", timeout=30_000)
    shot(page, "web-polish-rendering.png")
    cancel.click()
    expect(article).to_have_attribute("data-status", "stopped", timeout=30_000)
    expect(page.locator(".run-message")).to_contain_text("The video render was cancelled.")
    expect(log).to_contain_text("render cancelled", timeout=15_000)
    assert log.evaluate("el => el.textContent.split('\\n').length") > lines_before
    assert log.evaluate("el => el.scrollTop") < 5, "the log jumped to its end while the reader was reading above"
    assert httpx.get(f"{url}/api/videos?run_id={run_id}").json() == []
    expect(page.get_by_role("button", name="Render video")).to_be_enabled()
    shot(page, "web-polish-render-cancelled.png")


def test_the_form_names_the_setting_it_refuses_and_picks_a_batch_size_itself(server, page) -> None:  # type: ignore[no-untyped-def]
    url, _home = server
    expect = playwright.expect
    page.goto(url)
    page.get_by_role("button", name="New run").click()
    dialog = page.get_by_role("dialog", name="New run")
    dialog.get_by_label("Budget (timesteps)").fill("-5000")
    dialog.get_by_label("Environments").fill("3")
    page.get_by_text("Advanced settings").click()
    dialog.get_by_label("Overrides").fill("train.batch_size=1")
    dialog.get_by_role("button", name=re.compile("^Start")).click()
    # Before: "Write the budget as a number" for a number, and 3 environments refused for a batch size
    # the user never chose; batch_size=1 went through to fail in SB3.
    expect(dialog.locator("#run-totalTimesteps-error")).to_have_text("Budget '-5000' must be positive")
    expect(dialog.locator("#run-overrides-error")).to_have_text(
        "train.batch_size: Input should be greater than or equal to 2"
    )
    expect(dialog.locator("#run-nEnvs-error")).to_have_count(0)
    shot(page, "web-polish-form-errors.png")
    # The server says the same, naming the setting, for a request that skips the page.
    body = {"game": "pong", "total_timesteps": 2000, "overrides": ["train.batch_size=1"]}
    answer = httpx.post(f"{url}/api/runs?start=false", json=body, timeout=30).json()
    assert answer["errors"] == [
        {"field": "overrides", "message": "train.batch_size: Input should be greater than or equal to 2"}
    ], answer


def test_gallery_badges_sit_below_the_picture_with_dates_sort_groups_and_distinct_titles(  # type: ignore[no-untyped-def]
    server, two_leg_run, page
) -> None:
    url, _home = server
    expect = playwright.expect
    page.goto(f"{url}/gallery")
    group = page.get_by_role("region", name="three-envs")
    journeys = group.locator("li[data-kind='journey']")
    expect(journeys).to_have_count(2, timeout=30_000)
    # Before: the JOURNEY badge lay over the poster's HUD.
    expect(page.locator(".poster .kind")).to_have_count(0)
    expect(journeys.first.locator(".caption .kind")).to_have_text("journey")
    poster = journeys.first.locator(".poster").bounding_box()
    badge = journeys.first.locator(".kind").bounding_box()
    assert badge["y"] >= poster["y"] + poster["height"] - 1, (poster, badge)
    # Before: "three-envs — Journey 2s", whichever leg it showed.
    titles = journeys.locator(".caption strong").all_text_contents()
    assert titles == ["Journey 2s · leg 2 · to 2,112 steps", "Journey 1s · leg 1 · to 1,536 steps"], titles
    expect(journeys.first.locator("time")).to_have_text(re.compile(r"\d{1,2} \w{3} \d{4}"))
    page.get_by_label("Sort").select_option("oldest")
    expect(journeys.first.locator(".caption strong")).to_contain_text("leg 1")
    shot(page, "web-polish-gallery.png")
    page.get_by_label("Group by run").uncheck()
    expect(page.locator("li[data-kind='journey'] .caption strong").first).to_contain_text("three-envs — Journey 1s")


def test_the_render_form_says_how_long_how_big_and_which_milestones_before_it_starts(  # type: ignore[no-untyped-def]
    server, two_leg_run, page
) -> None:
    url, _home = server
    expect = playwright.expect
    page.goto(f"{url}/runs/{two_leg_run}")
    estimate = page.get_by_role("status", name="Render estimate")
    page.get_by_label("Length").fill("6s")
    # 6 s cannot give 4 milestones 4 s of play each: the first and the last, and it says so.
    expect(estimate).to_contain_text("6s of video in 2 segments: about", timeout=30_000)
    expect(estimate).to_contain_text("shows 2 of 4 milestones")
    shot(page, "web-render-estimate.png")
    page.get_by_label("Length").fill("40s")
    expect(estimate).to_contain_text("40s of video in 4 segments")
    expect(estimate).not_to_contain_text("shows")
    # The length as typed is the server's to read: its refusal is said where the estimate was.
    page.get_by_label("Length").fill("soon")
    expect(estimate).to_have_text("'soon' is not a duration; write e.g. 90s, 3m, 1h30m or 10h")


def test_a_server_on_all_interfaces_prints_links_other_machines_can_open(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    import psutil

    reachable = [
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family == socket.AF_INET and not address.address.startswith("127.")
    ]
    if not reachable:
        pytest.skip("this machine has no network address besides loopback")
    log_path = tmp_path / "server.log"
    process, port = start_ui(tmp_path / "home", log_path, "--host", "0.0.0.0")
    try:
        wait_for(f"http://127.0.0.1:{port}", process, log_path)
        printed = log_path.read_text(errors="replace")
        links = re.findall(r"http://([\d.]+):\d+/\?token=\S+", printed)
        # Before: one link, to 127.0.0.1, which no other machine can open.
        assert set(reachable) <= set(links), printed
        link = next(line for line in re.findall(r"http://\S+", printed) if reachable[0] in line)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(link)
        playwright.expect(page.get_by_role("heading", name="Runs")).to_be_visible()
        shot(page, "web-polish-host-link.png")
        page.close()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_start_installs_what_running_needs_and_test_adds_what_testing_needs() -> None:
    def listed(name: str) -> set[str]:
        lines = (ROOT / "scripts" / name).read_text(encoding="utf-8").splitlines()
        return {line.strip() for line in lines if line.strip() and not line.startswith("#")}

    run, test = listed("system_packages.txt"), listed("system_packages_test.txt")
    assert "chromium" not in run and "chromium" in test
    start = (ROOT / "scripts" / "start.sh").read_text(encoding="utf-8")
    assert 'RETROML_EXTRAS="" scripts/setup.sh' in start  # no pytest, Playwright, mypy to start the app
    assert "system_packages_test.txt" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "scripts/start.sh --port" in (ROOT / "README.md").read_text(encoding="utf-8")
