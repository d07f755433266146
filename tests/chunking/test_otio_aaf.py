"""AAF exports as Avid plays them (chunking.timeline.otio_aaf, otio_place).

``tests/data/nle/misc_speed_effects.aaf`` is copied unchanged from ``tests/sample_data/`` of
https://github.com/OpenTimelineIO/otio-aaf-adapter at commit
6292a38006629338090918cddb517f332545423a (Apache-2.0, Copyright Contributors to the
OpenTimelineIO project: ``tests/data/nle/LICENSE-otio-aaf-adapter``). Beside it there is
``misc_speed_effects_aaf.mov``, Avid's render of the sequence over "Frame Debugger" media whose
every frame shows its number: the frame numbers below are read off that render (not kept here).
"""

from __future__ import annotations

import math
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Clip, Timeline
from common.errors import ValidationError
from tests.media import make_video

DATA = Path(__file__).parents[1] / "data" / "nle"
FPS = Fraction(24)


@pytest.fixture(scope="module")
def frames_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five seconds of small 24 fps video, as long as the Frame Debugger clips (120 frames)."""
    return make_video(tmp_path_factory.mktemp("media") / "m.mov", frames=120, fps=24,
                      size=(32, 18))  # fmt: skip


def _load(tmp_path: Path, media: Path, strict: bool = False) -> Timeline:
    """The sample with its two media files relinked by name beside it."""
    export = tmp_path / "misc_speed_effects.aaf"
    shutil.copy(DATA / export.name, export)
    for name in ("Frame Debugger 0h.mov", "Frame Debugger 1h.mov"):
        shutil.copy(media, tmp_path / name)
    return load(str(export), strict=strict)


def _shown(clip: Clip, t: int) -> int:
    """The media frame (from the media's first) a clip shows at timeline frame t, as the
    compositor reads it: a reversed clip's frame t is its forward frame ``mirrored(t)``."""
    seconds = Fraction(str(clip.source_start)) + (clip.mirrored(t) - clip.start) / FPS * Fraction(
        str(clip.speed)
    )
    return math.floor(seconds * FPS + Fraction(1, 10**6))


def test_a_reversed_avid_clip_plays_the_frames_avid_plays(
    tmp_path: Path, frames_media: Path
) -> None:
    """The -100 % clip starting at 01:00:01:00 (frame 86424): Avid shows 86431 down to 86424
    (media frames 31 to 24). It showed 23 down to 16: the 8 frames before its span."""
    timeline = _load(tmp_path, frames_media)
    (reverse,) = [c for t in timeline.tracks for c in t.clips if c.reverse]
    assert (reverse.start, reverse.end) == (64, 72)
    assert [_shown(reverse, t) for t in range(64, 72)] == list(range(31, 23, -1))
    assert not [w for w in timeline.warnings if "before its media" in w]


def test_avid_speeds_the_renderer_has_play(tmp_path: Path, frames_media: Path) -> None:
    """2x, 0.5x and 0.375x from the frames Avid's render shows (0, 2, 4...; 0, 0, 1, 1...;
    86420, 86420, 86420, 86421...)."""
    timeline = _load(tmp_path, frames_media)
    clips = {c.start: c for t in timeline.tracks for c in t.clips}
    assert [_shown(clips[16], t) for t in range(16, 24)] == [0, 2, 4, 6, 8, 10, 12, 14]
    assert [_shown(clips[24], t) for t in range(24, 32)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [_shown(clips[56], t) for t in range(56, 64)] == [20, 20, 20, 21, 21, 21, 22, 22]


def test_a_time_lapse_past_10x_plays_at_10x_with_a_warning(
    tmp_path: Path, frames_media: Path
) -> None:
    """The 1437.5 % clip refused the whole sequence ("0.1 to 10 is supported")."""
    timeline = _load(tmp_path, frames_media)
    fast = [c for t in timeline.tracks for c in t.clips if c.start == 48]
    assert [(c.speed, c.end) for c in fast] == [(10.0, 56)]
    assert [_shown(fast[0], t) for t in (48, 49, 55)] == [0, 10, 70]
    assert any("plays at 14.375 times" in w and "played at 10" in w for w in timeline.warnings)
    with pytest.raises(ValidationError, match="plays at 14.375 times"):
        _load(tmp_path, frames_media, strict=True)
