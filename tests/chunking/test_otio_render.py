"""OTIO timelines through the real renderer: the pixels of a converted EDL, of an image sequence
and of a clip that starts before its media."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image

from chunking.timeline.otio import read_otio
from common.errors import AssetNotFound
from tests.chunking.test_otio_samples import DATA, expanded_shots, record_track, sec
from tests.media import decode_rgb, identify, level, make_video
from workers.render import render_to_file

RT = otio.opentime.RationalTime
SIZE = (320, 180)
SETTINGS = {"resolution": list(SIZE), "export": {"preset": "ultrafast", "crf": 4}}


def lower_colour(img: np.ndarray) -> np.ndarray:
    """The median colour of an image's lower half (make_video's marker bar is at the top)."""
    return np.median(img[img.shape[0] // 2 :].reshape(-1, 3), axis=0)


def render(path: str, tmp: Path) -> tuple[Any, list[np.ndarray]]:
    """Load an .otio file, render it whole and decode every frame."""
    _, tl = read_otio(path)
    out = tmp / "out.mp4"
    render_to_file(tl, str(out), audio=False)
    return tl, decode_rgb(out)


def test_converted_edl_dissolve_renders_as_otio_expands_it(tmp_path: Path) -> None:
    otl = otio.adapters.read_from_file(str(DATA / "edl" / "dissolve_test.otio"))
    # clip_A's media frames are 10..; clip_B's 40..: the frame index says which clip is shown.
    first = {"clip_A": 10, "clip_B": 40}
    for name in first:
        make_video(tmp_path / f"{name}.mp4", frames=80, fps=24, size=SIZE)
    starts: dict[str, float] = {}
    for clip in otl.find_clips():
        starts.setdefault(clip.name, clip.source_range.start_time.value)
        begin = RT(starts[clip.name] - first[clip.name], 24)
        clip.media_reference = otio.schema.ExternalReference(
            target_url=(tmp_path / f"{clip.name}.mp4").as_uri(),
            available_range=otio.opentime.TimeRange(begin, RT(80, 24)),
        )
    otl.metadata["cloudrender"] = SETTINGS
    path = str(tmp_path / "dissolve.otio")
    otio.adapters.write_to_file(otl, path)
    tl, frames = render(path, tmp_path)
    assert len(frames) == tl.frames == 20
    track = otl.tracks[0]
    assert record_track(track)
    origin = -sec(track.source_range.start_time)
    mixed = 0
    for index, img in enumerate(frames):
        shot = expanded_shots(otl, track, origin + Fraction(index, 24), Fraction(24))
        if shot[0] == "mix":
            _, (_, a), (_, b), progress = shot
            want = (1 - progress) * np.array(level(a)) + progress * np.array(level(b))
            assert np.abs(lower_colour(img) - want).max() <= 8, f"frame {index}"
            mixed += 1
        else:
            assert identify(img) == shot[1], f"frame {index}"
    assert mixed == 10  # the EDL's 010-frame dissolve


def test_image_sequence_plays_its_images(tmp_path: Path) -> None:
    otl = otio.adapters.read_from_file(str(DATA / "edl" / "image_sequence.otio"))
    (clip,) = otl.find_clips()
    ref = clip.media_reference
    assert isinstance(ref, otio.schema.ImageSequenceReference)
    folder = tmp_path / "frames"
    folder.mkdir()
    ref.target_url_base = folder.as_uri() + "/"
    ref.name_suffix = ".png"  # the EDL names ".ext" images; these are PNGs
    for n in range(ref.number_of_images_in_sequence()):
        Image.new("RGB", SIZE, level(n)).save(folder / f"my_image_sequence.{1025 + n:04d}.png")
    otl.metadata["cloudrender"] = SETTINGS
    path = str(tmp_path / "sequence.otio")
    otio.adapters.write_to_file(otl, path)
    doc, _ = read_otio(path)
    entry = doc["tracks"][0]["clips"][0]
    assert entry["source"] == {"File": str(folder / "my_image_sequence.1025.png")}
    assert entry["image_sequence"] == {
        "prefix": "my_image_sequence.",
        "suffix": ".png",
        "start_frame": 1025,
        "count": 36,
        "rate": "24/1",
        "frame_step": 1,
        "padding": 4,
    }
    tl, frames = render(path, tmp_path)
    assert [identify(img) for img in frames] == list(range(36))
    (folder / "my_image_sequence.1030.png").unlink()
    with pytest.raises(
        AssetNotFound, match=r"clip 'my_image_sequence'.*image my_image_sequence\.1030\.png"
    ):
        render_to_file(tl, str(tmp_path / "again.mp4"), audio=False)


def test_clip_before_its_media_holds_the_first_frame(tmp_path: Path) -> None:
    media = make_video(tmp_path / "a.mp4", frames=24, fps=24, size=SIZE)
    ref = otio.schema.ExternalReference(
        target_url=media.as_uri(),
        available_range=otio.opentime.TimeRange(RT(86400, 24), RT(24, 24)),
    )
    early = otio.schema.Clip(
        name="Early",
        media_reference=ref,
        source_range=otio.opentime.TimeRange(RT(86398, 24), RT(8, 24)),  # 2 frames early
    )
    track = otio.schema.Track(name="V1", children=[early])
    otl = otio.schema.Timeline(name="early", tracks=[track], metadata={"cloudrender": SETTINGS})
    path = str(tmp_path / "early.otio")
    otio.adapters.write_to_file(otl, path)
    tl, frames = render(path, tmp_path)
    assert tl.clip("Early").source_start == pytest.approx(-2 / 24)
    assert any("clip 'Early'" in w for w in tl.warnings)
    assert [identify(img) for img in frames] == [0, 0, 0, 1, 2, 3, 4, 5]
