"""The audio task's cost (chunking.audio_cost): the seconds of sound it reads and writes, in
units; nothing for a timeline with nothing to hear."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from chunking import weights as w
from chunking.audio_cost import audio_units, encode_weight, sounding_paths
from chunking.timeline.audio_export import canonical_audio
from chunking.timeline.model import (
    Clip,
    FileSource,
    GeneratedSource,
    ImageSequence,
    Source,
    Timeline,
    Track,
    TrackKind,
)

FPS = 30
SOUND = {"music.wav", "film.mp4"}  # the files that carry an audio stream


def clip(cid: str, path: str | Source, seconds: float, *, muted: bool = False) -> Clip:
    """A clip from the start of the timeline lasting `seconds`."""
    source = FileSource(path) if isinstance(path, str) else path
    return Clip(id=cid, track_id=f"t-{cid}", source=source, start=0, end=round(seconds * FPS),
                muted=muted)  # fmt: skip


def timeline(*clips: Clip, seconds: float = 10.0, kind: TrackKind = TrackKind.AUDIO,
             track_muted: bool = False, enabled: bool = True) -> Timeline:  # fmt: skip
    """One track per clip, of `kind`."""
    tracks = tuple(
        Track(id=c.track_id, kind=kind, muted=track_muted, enabled=enabled, clips=(c,))
        for c in clips
    )
    return Timeline(fps=Fraction(FPS), width=1920, height=1080, frames=round(seconds * FPS),
                    tracks=tracks)  # fmt: skip


def task(clip_seconds: float, seconds: float) -> float:
    """What the weights price a task reading `clip_seconds` and writing `seconds` at."""
    encode = w.AUDIO_ENCODE_SECOND["aac"]  # the default export's, an mp4
    return w.AUDIO_TASK + w.AUDIO_CLIP_SECOND * clip_seconds + encode * seconds


@pytest.mark.parametrize(
    ("name", "tl", "expected"),
    [
        ("nothing", timeline(), 0.0),
        ("one sound over 4 s of 10", timeline(clip("a", "music.wav", 4)), task(4, 10)),
        (
            "two sounds mixed",
            timeline(clip("a", "music.wav", 4), clip("b", "film.mp4", 10)),
            task(14, 10),
        ),
        (
            "a film's sound on a video track",
            timeline(clip("a", "film.mp4", 6), kind=TrackKind.VIDEO),
            task(6, 10),
        ),
        ("a silent file", timeline(clip("a", "silent.mp4", 6)), 0.0),
        ("a muted clip", timeline(clip("a", "music.wav", 6, muted=True)), 0.0),
        ("a muted track", timeline(clip("a", "music.wav", 6), track_muted=True), 0.0),
        ("a disabled track", timeline(clip("a", "music.wav", 6), enabled=False), 0.0),
        (
            "a still and a colour are silent",
            timeline(
                clip("a", "logo.png", 6),
                clip("b", GeneratedSource(), 6),
                kind=TrackKind.VIDEO,
            ),
            0.0,
        ),
        (
            "a muted clip beside a sounding one is not read",
            timeline(clip("a", "music.wav", 4), clip("b", "film.mp4", 10, muted=True)),
            task(4, 10),
        ),
    ],
)
def test_audio_units(name: str, tl: Timeline, expected: float) -> None:
    assert audio_units(tl, lambda path: path in SOUND) == pytest.approx(expected), name


def test_an_image_sequence_is_never_probed() -> None:
    sequence = FileSource("f0001.exr", ImageSequence("f", ".exr", 1, 10, Fraction(24), padding=4))
    tl = timeline(clip("a", sequence, 6), kind=TrackKind.VIDEO)
    assert sounding_paths(tl) == set()


def test_a_longer_mix_costs_more_in_proportion() -> None:
    short = audio_units(timeline(clip("a", "music.wav", 30), seconds=30), lambda _: True)
    long = audio_units(timeline(clip("a", "music.wav", 120), seconds=120), lambda _: True)
    assert long > short > 0
    assert (long - w.AUDIO_TASK) == pytest.approx(4 * (short - w.AUDIO_TASK))


def test_each_file_is_probed_once_and_only_files_that_may_sound() -> None:
    probed: list[str] = []
    tl = timeline(clip("a", "music.wav", 4), clip("b", "music.wav", 4), clip("c", "logo.png", 4))
    audio_units(tl, lambda path: probed.append(path) or True)
    assert probed == ["music.wav"]


@pytest.mark.parametrize(
    ("codec", "cheaper_than_aac"),
    [("pcm_s16le", True), ("flac", True), ("libopus", True), ("aac", False), ("mp3", False)],
)
def test_the_output_codec_prices_the_encode(codec: str, cheaper_than_aac: bool) -> None:
    tl = timeline(clip("a", "music.wav", 60), seconds=60)
    aac = audio_units(tl, lambda _: True)
    chosen = replace(tl, export=replace(tl.export, audio_codec=codec))
    got = audio_units(chosen, lambda _: True)
    assert (got < aac) is cheaper_than_aac
    assert encode_weight(codec) == w.AUDIO_ENCODE_SECOND[canonical_audio(codec)]
    assert got == pytest.approx(aac + 60 * (encode_weight(codec) - encode_weight("aac")))


def test_an_unknown_codec_is_priced_as_aac() -> None:
    assert encode_weight("vorbis") == w.AUDIO_SECOND == encode_weight("aac")
