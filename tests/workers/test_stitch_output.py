"""The stitched file as players and QC tools read it: its header's claims, and a disk that
cannot take it."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from common.errors import RenderError
from tests.workers.test_render import file_size_limit
from tests.workers.test_stitch import PAL, leftovers, make_segments
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


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_a_disk_that_cannot_take_the_stitched_file_is_one_error_naming_it(
    tmp_path: Path, container: str
) -> None:
    # Given segments, and an output its disk cannot hold (EFBIG here, ENOSPC on a full disk;
    # an mp4's fast-start rewrite comes when the muxer closes)
    segments = make_segments(tmp_path / "segs", [0, 12, 25], PAL, codec="libx264rgb")
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / f"movie.{container}"
    # When they are stitched
    with pytest.raises(RenderError) as caught, file_size_limit(20_000):
        stitch(segments, PAL, str(output), container)
    # Then the error is ours, naming the output (not PyAV's naming the temp file), and
    # nothing is left behind
    assert str(caught.value) == f"cannot write {output}: File too large"
    assert leftovers(tmp_path / "out") == []
