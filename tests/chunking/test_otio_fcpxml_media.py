"""FCPXML assets that do not say whether they have sound (chunking.timeline.otio_fcpxml_media):
their files say, as Final Cut reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import TrackKind
from chunking.timeline.otio_fcpxml import fcpxml_amended
from chunking.timeline.otio_timecode import declared_media
from tests.chunking.test_otio_fcpxml_durations import cut, spans
from tests.media import make_video


@pytest.mark.parametrize(
    ("kinds", "heard"),
    [
        ("", True),  # Final Cut reads the file: it has sound
        ('hasVideo="1"', True),
        ('hasVideo="1" hasAudio="0"', False),  # said: kept
    ],
    ids=["neither", "no-hasAudio", "said-silent"],
)
def test_an_asset_that_does_not_say_it_has_sound_is_read(
    tmp_path: Path, kinds: str, heard: bool
) -> None:
    second = '<asset-clip name="b" ref="r3" offset="2s" start="6s" duration="1s"/>'
    timeline = load(str(cut(tmp_path, second, kinds)))
    sound = [span[0] for span in spans(timeline, TrackKind.AUDIO)]
    assert sound == (["a", "b"] if heard else ["a"])
    assert [span[0] for span in spans(timeline, TrackKind.VIDEO)] == ["a", "b"]


def test_an_asset_whose_file_has_no_sound_stays_silent(tmp_path: Path) -> None:
    second = '<asset-clip name="b" ref="r3" offset="2s" start="6s" duration="1s"/>'
    path = cut(tmp_path, second, "")
    make_video(tmp_path / "b.mp4", frames=250, fps=25, size=(160, 90))  # picture only
    timeline = load(str(path))
    assert [span[0] for span in spans(timeline, TrackKind.AUDIO)] == ["a"]


def test_an_fcpxmld_bundles_media_are_read_beside_it(tmp_path: Path) -> None:
    """Final Cut Pro 10.6's bundle (``Info.fcpxml`` in a folder): its media are beside the
    folder, where the relink finds them, and their sound is read there too."""
    second = '<asset-clip name="b" ref="r3" offset="2s" start="6s" duration="1s"/>'
    export = cut(tmp_path, second, "")
    bundle = tmp_path / "Interview.fcpxmld"
    bundle.mkdir()
    text = export.read_text().replace('src="a.mp4"', 'src="file:///Volumes/Shoot/a.mp4"')
    (bundle / "Info.fcpxml").write_text(text.replace('src="b.mp4"', 'src="file:///V/b.mp4"'))
    export.unlink()
    timeline = load(str(bundle))
    assert [span[0] for span in spans(timeline, TrackKind.AUDIO)] == ["a", "b"]
    # Its Info.fcpxml named itself: the same media, beside the bundle (were not found)
    named = load(str(bundle / "Info.fcpxml"))
    assert [span[0] for span in spans(named, TrackKind.AUDIO)] == ["a", "b"]


def test_the_http_services_exports_open_no_file_they_name(tmp_path: Path) -> None:
    """With media declared (the service's placeholders), no path the export names is opened:
    the server's own files must not tell a client whether they exist or have sound."""
    second = '<asset-clip name="b" ref="r3" offset="2s" start="6s" duration="1s"/>'
    export = cut(tmp_path, second, "")
    with declared_media({}):
        amended = fcpxml_amended(str(export))
    assert amended is None or 'hasAudio="1"' not in amended.split('id="r3"')[1].split(">")[0]
