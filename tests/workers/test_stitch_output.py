"""The stitched file as players and QC tools read it: its header's claims, and a disk that
cannot take it."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.workers.test_stitch import PAL, make_segments
from workers.stitch import stitch


@pytest.mark.parametrize(("codec", "container"), [("libvpx-vp9", "mp4"), ("libx264", "mov")])
def test_the_stitched_file_says_its_pixels_are_square(
    tmp_path: Path, codec: str, container: str
) -> None:
    # Given segments as workers write them: Matroska, which leaves square pixels unsaid (and
    # VP9 has no field for them)
    segments = make_segments(tmp_path / "segs", [0, 5, 10], PAL, codec=codec)
    output = tmp_path / f"movie.{container}"
    # When they are stitched into an mp4 or mov
    stitch(segments, PAL, str(output), container)
    # Then it says 1:1, as a direct render's file does, not "N/A" (which QC tools flag and
    # players guess at, anamorphic for SD sizes)
    with av.open(str(output)) as result:
        assert result.streams.video[0].sample_aspect_ratio == 1
