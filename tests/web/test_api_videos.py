"""``/api/videos``: the list, files and posters with HTTP Range, and no path that leaves the home."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import queued_run, register_video

from retroml.runs.service import RunService


def test_list_every_clip_and_journey_with_run_game_milestone_length_size_and_poster(
    client: TestClient, service: RunService
) -> None:
    pong = queued_run(service, name="pong-run")
    breakout = queued_run(service, game="breakout", name="breakout-run")
    clip = register_video(service, pong, "clip", "clip_050pct", milestone_pct=50, timesteps=1000)
    journey = register_video(service, breakout, "journey", "journey_5s", milestone_pct=100, timesteps=2000)
    service.raw_store.add_artifact(pong, "checkpoint", f"runs/{pong}/checkpoints/latest.zip")

    videos = client.get("/api/videos").json()
    assert [video["id"] for video in videos] == [journey, clip]
    first = videos[0]
    assert first["kind"] == "journey" and first["run_name"] == "breakout-run" and first["game"] == "breakout"
    assert first["milestone_pct"] == 100 and first["duration_sec"] == pytest.approx(2.0) and first["size_bytes"] > 0
    assert first["file_url"] == f"/api/videos/{journey}/file" and first["poster_url"] == f"/api/videos/{journey}/poster"
    assert [video["id"] for video in client.get("/api/videos?game=pong").json()] == [clip]
    assert [video["id"] for video in client.get(f"/api/videos?run_id={breakout}").json()] == [journey]
    assert [video["id"] for video in client.get("/api/videos?kind=clip").json()] == [clip]
    assert videos[1]["milestone_label"] == "50 %" and first["milestone_label"] is None


def test_a_clip_is_named_by_the_milestone_its_run_shows_now(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)  # 2,000 timesteps planned
    service.raw_store.add_artifact(
        run_id, "checkpoint", f"runs/{run_id}/checkpoints/milestone_050pct_1000.zip", milestone_pct=50, timesteps=1000
    )
    clip = register_video(service, run_id, "clip", "clip_050pct", milestone_pct=50, timesteps=1000)
    assert client.get("/api/videos").json()[0]["milestone_label"] == "50 %"
    # Trained 2,000 more: the clip filmed at 1,000 timesteps is now the 25 % milestone of 4,000.
    service.raw_store.update_run(run_id, total_timesteps=4000)
    video = client.get("/api/videos").json()[0]
    assert video["id"] == clip and video["milestone_label"] == "25 %" and video["milestone_pct"] == 50


def test_a_video_whose_file_is_gone_is_not_listed(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    video_id = register_video(service, run_id, "clip", "clip_000pct")
    service.renders.video_file(video_id).unlink()
    assert client.get("/api/videos").json() == []
    assert client.get(f"/api/videos/{video_id}/file").status_code == 404


def test_file_and_poster_whole_and_by_range(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    video_id = register_video(service, run_id, "journey", "journey_2s")
    data = service.renders.video_file(video_id).read_bytes()

    whole = client.get(f"/api/videos/{video_id}/file")
    assert whole.status_code == 200 and whole.content == data and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"

    part = client.get(f"/api/videos/{video_id}/file", headers={"Range": "bytes=100-299"})
    assert part.status_code == 206 and part.content == data[100:300]
    assert part.headers["content-range"] == f"bytes 100-299/{len(data)}"
    tail = client.get(f"/api/videos/{video_id}/file", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    beyond = client.get(f"/api/videos/{video_id}/file", headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416

    download = client.get(f"/api/videos/{video_id}/file?download=true")
    assert download.headers["content-disposition"] == 'attachment; filename="journey_2s.mp4"'

    poster = client.get(f"/api/videos/{video_id}/poster")
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert poster.content[:2] == b"\xff\xd8"
    poster_part = client.get(f"/api/videos/{video_id}/poster", headers={"Range": "bytes=0-9"})
    assert poster_part.status_code == 206 and poster_part.content == poster.content[:10]


def test_unknown_video_ids_are_404_and_non_numbers_422(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    checkpoint = service.raw_store.add_artifact(run_id, "checkpoint", f"runs/{run_id}/checkpoints/latest.zip")
    for video_id in (999, checkpoint):
        assert client.get(f"/api/videos/{video_id}/file").status_code == 404
        assert client.get(f"/api/videos/{video_id}/poster").status_code == 404
    assert client.get("/api/videos/abc/file").status_code == 422


@pytest.mark.parametrize("where", ["parent", "absolute", "symlink", "symlinked-folder"])
def test_paths_that_leave_the_home_are_404(client: TestClient, service: RunService, tmp_path: Path, where: str) -> None:
    run_id = queued_run(service)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"secret bytes")
    (outside / "secret.jpg").write_bytes(b"secret poster")
    videos = service.paths(run_id).videos
    if where == "parent":
        path, poster = "../outside/secret.mp4", "../outside/secret.jpg"
    elif where == "absolute":
        path, poster = str(outside / "secret.mp4"), str(outside / "secret.jpg")
    elif where == "symlink":
        (videos / "link.mp4").symlink_to(outside / "secret.mp4")
        (videos / "link.jpg").symlink_to(outside / "secret.jpg")
        path = (videos / "link.mp4").relative_to(service.home).as_posix()
        poster = (videos / "link.jpg").relative_to(service.home).as_posix()
    else:
        (videos / "elsewhere").symlink_to(outside)
        path = (videos / "elsewhere" / "secret.mp4").relative_to(service.home).as_posix()
        poster = (videos / "elsewhere" / "secret.jpg").relative_to(service.home).as_posix()
    video_id = service.raw_store.add_artifact(run_id, "clip", path, meta={"poster": poster})
    for suffix in ("file", "poster"):
        response = client.get(f"/api/videos/{video_id}/{suffix}")
        assert response.status_code == 404, (where, suffix)
        assert b"secret bytes" not in response.content and b"secret poster" not in response.content


@pytest.mark.parametrize("trick", ["..%2F..%2Fretroml.db", "%2E%2E", "1%2F..%2F..%2Fretroml.db", "-1"])
def test_path_tricks_in_video_ids_are_refused(client: TestClient, service: RunService, trick: str) -> None:
    response = client.get(f"/api/videos/{trick}/file")
    assert response.status_code in (404, 422)
    assert b"SQLite" not in response.content


def test_comparisons_highlights_and_time_lapses_are_their_own_kinds(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service, name="pong-run")
    made = {}
    for layout in ("single", "compare", "highlights", "timelapse"):
        made[layout] = register_video(service, run_id, "journey", f"render_{layout}", {"layout": layout}, timesteps=9)
    kinds = {video["id"]: video["kind"] for video in client.get("/api/videos").json()}
    assert kinds == {
        made["single"]: "journey",
        made["compare"]: "comparison",
        made["highlights"]: "highlights",
        made["timelapse"]: "time-lapse",
    }
    assert [video["id"] for video in client.get("/api/videos?kind=time-lapse").json()] == [made["timelapse"]]
    assert client.get("/api/videos?kind=bogus").status_code == 422


def test_the_upload_pack_of_a_rendered_video_is_served_and_downloadable(
    client: TestClient, service: RunService
) -> None:
    run_id = queued_run(service, name="pong-run")
    folder = service.paths(run_id).videos
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "journey_40s.chapters.vtt").write_text("WEBVTT\n\n1\n00:00:00.000 --> 00:00:12.000\nuntrained\n")
    (folder / "journey_40s.chapters.txt").write_text("00:00 untrained\n00:12 50 %\n")
    pack = {"webvtt": f"runs/{run_id}/videos/journey_40s.chapters.vtt"}
    pack["chapters"] = f"runs/{run_id}/videos/journey_40s.chapters.txt"
    video_id = register_video(service, run_id, "journey", "journey_40s", {"pack": pack}, timesteps=1000)
    video = client.get("/api/videos").json()[0]
    assert video["pack_urls"] == {name: f"/api/videos/{video_id}/pack/{name}" for name in ("chapters", "webvtt")}
    vtt = client.get(video["pack_urls"]["webvtt"])
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt") and "untrained" in vtt.text
    saved = client.get(video["pack_urls"]["chapters"] + "?download=true")
    assert "attachment" in saved.headers["content-disposition"] and saved.text.startswith("00:00 ")
    assert client.get(f"/api/videos/{video_id}/pack/thumbnail").status_code == 404
    assert client.get(f"/api/videos/{video_id}/pack/..%2F..%2Fetc").status_code in (404, 422)
