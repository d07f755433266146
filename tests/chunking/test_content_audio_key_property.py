"""Audio content keys against samples, property-based: one field of a small timeline edited at
a time, a kept audio key must mean the same mix (a kept key that hides changed samples is a
false cache hit: stale sound), and an edit to the picture alone must keep the key. Tiny media
(2 s at 8 kHz) and a bounded, derandomised search keep it quick."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunking.content_audio_key import audio_key
from chunking.timeline.model import (
    Clip,
    Effect,
    FileSource,
    Timeline,
    Track,
    TrackKind,
    Transform,
    TransformKey,
    Transition,
)
from common.errors import RenderError
from workers.audio_mix import mix_timeline
from workers.media_ids import LocalIds

RATE, FPS, FRAMES = 8000, Fraction(10), 20
Edit = Callable[[Timeline], Timeline]


def _sound(path: Path, hz: float) -> None:
    """A 3-s stereo tone, louder on the left, so channel, pan and time edits all show."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=RATE, layout="stereo")
        t = np.arange(3 * RATE) / RATE
        wave = np.sin(2 * np.pi * hz * t) * (0.2 + 0.1 * t)
        pcm = (np.stack([wave, 0.4 * wave]) * 20000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Timeline:
    """Two tones crossfading on one track, a third on another with a pan."""
    folder = tmp_path_factory.mktemp("audio_property")
    for name, hz in (("a", 440.0), ("b", 660.0), ("c", 330.0)):
        _sound(folder / f"{name}.wav", hz)
    a = Clip("a", "t1", FileSource(str(folder / "a.wav")), 0, 12, fade_in=0.2)
    b = Clip("b", "t1", FileSource(str(folder / "b.wav")), 10, 20, source_start=0.5)
    c = Clip("c", "t2", FileSource(str(folder / "c.wav")), 4, 16, volume=0.5,
             effects=(Effect("p", "audiopan", {"pan": -0.5}),))  # fmt: skip
    return Timeline(
        FPS, 64, 36, FRAMES, sample_rate=RATE,
        tracks=(Track("t1", TrackKind.AUDIO, clips=(a, b)),
                Track("t2", TrackKind.AUDIO, clips=(c,))),
        transitions=(Transition("x", "dissolve", "a", "b", 10, 12),),
    )  # fmt: skip


def _clip(cid: str, **changes: Any) -> Edit:
    def edit(tl: Timeline) -> Timeline:
        tracks = tuple(
            dataclasses.replace(
                t,
                clips=tuple(
                    dataclasses.replace(c, **changes) if c.id == cid else c for c in t.clips
                ),
            )
            for t in tl.tracks
        )
        return dataclasses.replace(tl, tracks=tracks)

    return edit


def _track(n: int, **changes: Any) -> Edit:
    def edit(tl: Timeline) -> Timeline:
        tracks = list(tl.tracks)
        tracks[n] = dataclasses.replace(tracks[n], **changes)
        return dataclasses.replace(tl, tracks=tuple(tracks))

    return edit


_TIMES = st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.5, 1.0, 2.5])
_EFFECT = st.builds(
    Effect,
    st.sampled_from(["n1", "n2"]),
    st.sampled_from(
        [
            "audiopan",
            "audiogain",
            "audiolowpass",
            "audiofadein",
            "audiocrossfade",
            "audiotempo",
            "audiodelay",
            "blur",
        ]
    ),  # fmt: skip
    st.sampled_from([{}, {"pan": 0.5}, {"frequency": 500.0}, {"duration": 0.3}, {"tempo": 1.5}]),
    st.one_of(st.none(), st.integers(0, FRAMES)),
    st.one_of(st.none(), st.integers(0, FRAMES)),
    st.sampled_from([1.0, 0.5]),
)


def _clip_edit(cid: str) -> st.SearchStrategy[tuple[str, Edit]]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "start": st.integers(0, 19), "end": st.integers(1, 20),
        "source_start": _TIMES, "source_end": st.one_of(st.none(), _TIMES),
        "speed": st.sampled_from([0.5, 1.5, 1.0000001]), "reverse": st.booleans(),
        "volume": st.sampled_from([0.0, 0.5, 1.5, -0.0]), "muted": st.booleans(),
        "fade_in": _TIMES, "fade_out": _TIMES,
        "audio_stream": st.sampled_from([None, 0]), "audio_channel": st.sampled_from([None, 1, 2]),
        "opacity": st.sampled_from([0.0, 0.5]), "transform": st.just(Transform(scale_x=0.5)),
        "picture_fade_in": _TIMES,
        "transform_keys": st.just((TransformKey(0.0, Transform(scale_x=0.5)),)),
    }  # fmt: skip
    plain = [st.tuples(st.just(f"{cid}.{k}"), v.map(lambda x, k=k: _clip(cid, **{k: x})))
             for k, v in fields.items()]  # fmt: skip
    effects = st.tuples(st.just(f"{cid}.effects"), _EFFECT.map(lambda e: _clip(cid, effects=(e,))))
    return st.one_of(*plain, effects)


_TRACK = st.integers(0, 1).flatmap(
    lambda n: st.tuples(
        st.just(f"track {n}"),
        st.one_of(
            st.booleans().map(lambda b: _track(n, enabled=b)),
            st.booleans().map(lambda b: _track(n, muted=b)),
            st.sampled_from([0.0, 0.5, 2.0]).map(lambda v: _track(n, volume=v)),
            st.just(_track(n, kind=TrackKind.VIDEO)),
            _EFFECT.map(lambda e: _track(n, effects=(e,))),
        ),
    )
)
_OTHER = st.one_of(
    st.tuples(st.integers(8, 11), st.integers(11, 14)).map(
        lambda se: ("transition", lambda tl: dataclasses.replace(
            tl, transitions=(dataclasses.replace(tl.transitions[0], start=se[0], end=se[1]),)))
    ),
    st.sampled_from(["fade_black", "wipe_left"]).map(
        lambda k: ("transition kind", lambda tl: dataclasses.replace(
            tl, transitions=(dataclasses.replace(tl.transitions[0], kind=k),)))
    ),
    st.just(("tracks swapped", lambda tl: dataclasses.replace(tl, tracks=tl.tracks[::-1]))),
    st.sampled_from([16, 24]).map(
        lambda f: ("frames", lambda tl: dataclasses.replace(tl, frames=f))
    ),
)  # fmt: skip
EDITS = st.one_of(*(_clip_edit(c) for c in ("a", "b", "c")), _TRACK, _OTHER)


def _key(tl: Timeline) -> str:
    return audio_key(tl, LocalIds(tl), "fp")


_MIXES: dict[int, np.ndarray] = {}


@settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edit=EDITS)
def test_a_kept_audio_key_means_the_same_mix(base: Timeline, edit: tuple[str, Edit]) -> None:
    name, change = edit
    try:
        edited = change(base)
        same = _key(edited) == _key(base)
    except (RenderError, ValueError, KeyError):
        return  # an edit the model or the key refuses mixes nothing to compare
    if not same:
        return
    old = _MIXES.setdefault(id(base), mix_timeline(base))
    try:
        new = mix_timeline(edited)
    except (RenderError, ValueError):
        return  # the mixer refuses it: no stale sound either
    assert np.array_equal(old, new), f"{name}: the audio key is kept but the mix differs"


@pytest.mark.parametrize(
    "edit",
    [
        _clip("a", opacity=0.5),
        _clip("b", transform=Transform(scale_x=0.5)),
        _clip("c", picture_fade_in=0.3),
        lambda tl: dataclasses.replace(
            tl, transitions=(dataclasses.replace(tl.transitions[0], kind="wipe_left"),)
        ),
    ],
)
def test_picture_edits_keep_the_audio_key(base: Timeline, edit: Edit) -> None:
    assert _key(edit(base)) == _key(base)
