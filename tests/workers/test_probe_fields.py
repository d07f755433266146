"""What validate says of interlaced sources (``workers.probe_fields``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.studio import load_project
from tests.media import make_hidden_frames, make_interlaced, make_video, project, video_track
from workers import probe_fields
from workers.media_open import open_media
from workers.probe_fields import FIRST_FRAME_PACKETS, interlace_report, stream_fields

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("name", "codec", "fields"),
    [("i.mp4", "libx264", "top"), ("i.mpg", "mpeg2video", "bottom"), ("p.mp4", None, None)],
)
def test_a_files_interlacing_is_read_as_the_render_reads_it(
    tmp_path: Path, name: str, codec: str | None, fields: str | None
) -> None:
    path = tmp_path / name
    if codec is None:
        make_video(path, frames=6, size=(320, 180))
    else:
        make_interlaced(path, codec=codec, frames=6)
    assert stream_fields(str(path)) == fields


def test_interlaced_clips_are_a_note_or_a_warning_by_their_deinterlace_flag(
    tmp_path: Path,
) -> None:
    make_interlaced(tmp_path / "i.mp4", frames=12)
    make_video(tmp_path / "p.mp4", frames=12, size=(320, 180))

    def shot(clip_id: str, start: float, path: str, **extra: object) -> dict[str, object]:
        return {"id": clip_id, "start_time": start, "end_time": start + 0.2,
                "source": {"File": path}, **extra}  # fmt: skip

    doc = project(
        [
            video_track(
                "v",
                [
                    shot("a", 0, "i.mp4"),
                    shot("b", 0.2, "p.mp4"),
                    shot("c", 0.4, "i.mp4"),
                    shot("d", 0.6, "i.mp4", deinterlace=False),
                ],
            )
        ]
    )
    notes, warnings = interlace_report(load_project(doc, str(tmp_path)))
    assert notes == [
        "clips 'a', 'c': i.mp4 is interlaced (top field first); it is deinterlaced (bwdif) as "
        'it is decoded ("deinterlace": false shows its frames as decoded)'
    ]
    assert warnings == [
        "clip 'd': i.mp4 is interlaced (top field first) and \"deinterlace\" is false: its "
        "frames are shown as decoded, combed where they move"
    ]


class _Counted:
    """A container whose packets are counted, decode() included (PyAV's decode demuxes)."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.packets = 0

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.container.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.container, name)

    def demux(self, *streams: Any) -> Iterator[Any]:
        for packet in self.container.demux(*streams):
            self.packets += 1
            yield packet

    def decode(self, *streams: Any) -> Iterator[Any]:
        for packet in self.demux(*streams):
            yield from packet.decode()


def test_a_stream_of_frames_never_shown_is_read_for_a_first_frame_only_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validate decoded such a stream to its end looking for a first frame (3 ms a packet at
    1080p: a 20 MB file was minutes of CPU), after it had already refused the file."""
    path = make_hidden_frames(tmp_path / "hidden.avi", FIRST_FRAME_PACKETS * 4)
    opened: list[_Counted] = []

    def counted(name: str) -> _Counted:
        opened.append(_Counted(open_media(name)))
        return opened[-1]

    monkeypatch.setattr(probe_fields, "open_media", counted)
    assert stream_fields(str(path)) is None
    assert opened and opened[0].packets <= FIRST_FRAME_PACKETS + 1
