"""Chapters of a journey as a video site reads them: first at 00:00, each at least 10 s, one per milestone."""

from __future__ import annotations

from retroml.config import GameConfig
from retroml.video.frames import MilestoneLabel
from retroml.video.segment import PaneSpec, SegmentSpec
from retroml.video.upload_pack import MIN_CHAPTER_SECONDS, chapters, timestamp, webvtt_chapters, youtube_chapters


def segments(seconds: list[float], fps: int = 30) -> list[SegmentSpec]:
    specs = []
    for index, length in enumerate(seconds):
        label = MilestoneLabel(
            milestone_pct=index * 10.0,
            timesteps=index * 1000,
            training_episodes=index,
            training_score_mean=None if index == 0 else float(index),
            untrained=index == 0,
        )
        frames = round(length * fps)
        specs.append(
            SegmentSpec(
                index=index,
                output=f"/tmp/{index}.mp4",
                game=GameConfig(id="pong"),
                game_title="Pong",
                algo="ppo",
                panes=(PaneSpec("x.zip", label),),
                title_frames=frames // 4,
                play_frames=frames - frames // 4,
                fps=fps,
            )
        )
    return specs


def test_one_chapter_per_milestone_when_each_is_long_enough() -> None:
    marks = chapters(segments([12.0, 15.0, 20.0]))
    assert [mark.start for mark in marks] == [0.0, 12.0, 27.0]
    assert marks[-1].end == 47.0
    assert [mark.title for mark in marks] == ["untrained", "10 % — 1,000 steps", "20 % — 2,000 steps"]


def test_short_segments_merge_so_every_chapter_lasts_ten_seconds() -> None:
    marks = chapters(segments([4.0] * 10))  # 40 s over ten milestones
    assert marks[0].start == 0.0
    lengths = [mark.end - mark.start for mark in marks]
    assert all(length >= MIN_CHAPTER_SECONDS for length in lengths), lengths
    assert len(marks) == 3
    # Each chapter starts where one of its segments starts, and names the milestones it spans.
    assert {mark.start for mark in marks} <= {4.0 * index for index in range(10)}
    assert marks[1].title.startswith("30 % to 50 %")


def test_a_tail_shorter_than_ten_seconds_joins_the_last_chapter() -> None:
    marks = chapters(segments([12.0, 12.0, 5.0]))
    assert [(mark.start, mark.end) for mark in marks] == [(0.0, 12.0), (12.0, 29.0)]


def test_description_lines_and_webvtt_cues() -> None:
    marks = chapters(segments([12.0, 3600.0, 20.0]))
    assert youtube_chapters(marks).splitlines() == [
        "00:00 untrained",
        "00:12 10 % — 1,000 steps",
        "1:00:12 20 % — 2,000 steps",
    ]
    vtt = webvtt_chapters(marks)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:12.000\nuntrained\n")
    assert "01:00:12.000 --> 01:00:32.000" in vtt
    assert timestamp(59.9) == "00:59"
