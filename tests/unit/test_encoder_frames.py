"""The encoder's one reused frame buffer writes every picture as it was given."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

from retroml.video.encoder import VideoEncoder


def test_every_decoded_frame_is_the_picture_written_not_a_later_one(tmp_path: Path) -> None:
    # Flat colours that change every frame: a buffer overwritten before x264 read it would show the next one.
    colours = [(40 * index % 256, 255 - 30 * index % 256, 90) for index in range(24)]
    with VideoEncoder(tmp_path / "out.mp4", 320, 240, crf=0, preset="ultrafast", threads=1) as encoder:
        for colour in colours:
            rgb = np.empty((240, 320, 3), np.uint8)
            rgb[:] = colour
            encoder.write_i420(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420))
    with av.open(str(tmp_path / "out.mp4")) as container:
        decoded = [frame.to_ndarray(format="rgb24")[120, 160] for frame in container.decode(video=0)]
    assert len(decoded) == len(colours)
    for index, (got, want) in enumerate(zip(decoded, colours, strict=True)):
        assert np.abs(got.astype(int) - np.array(want)).max() <= 3, f"frame {index}: {got} is not {want}"
