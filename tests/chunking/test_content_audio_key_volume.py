"""The audio content key covers a clip's volume envelope: an edited key re-mixes the sound, an
unchanged envelope (or none) keeps the key, so cached mixes of clips without one stay valid."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from chunking.content_audio_key import audio_form, audio_key
from chunking.timeline.model import Clip, FileSource, Timeline, Track, TrackKind, VolumeKey

DIP = (VolumeKey(1.0, 1.0), VolumeKey(1.5, 0.25), VolumeKey(2.5, 0.25), VolumeKey(3.0, 1.0))
MEDIA = {"tone.wav": "sha256:tone"}


def _timeline(keys: tuple[VolumeKey, ...]) -> Timeline:
    clip = Clip("c", "a", FileSource("tone.wav"), 0, 100, volume_keys=keys)
    track = Track("a", TrackKind.AUDIO, clips=(clip,))
    return Timeline(Fraction(25), 64, 36, 100, tracks=(track,))


def _key(keys: tuple[VolumeKey, ...]) -> str:
    return audio_key(_timeline(keys), MEDIA, "fp")


@pytest.mark.parametrize(
    "edited",
    [
        (VolumeKey(1.0, 1.0), VolumeKey(1.5, 0.3), *DIP[2:]),  # a level moved
        (VolumeKey(1.0, 1.0), VolumeKey(1.6, 0.25), *DIP[2:]),  # a time moved
        (dataclasses.replace(DIP[0], interpolation="db"), *DIP[1:]),  # the curve changed
        DIP[:3],  # a key removed
        (),  # the envelope removed
    ],
)
def test_an_edited_envelope_changes_the_audio_key(edited: tuple[VolumeKey, ...]) -> None:
    assert _key(edited) != _key(DIP)


def test_an_unchanged_envelope_keeps_the_audio_key() -> None:
    assert _key(DIP) == _key(tuple(dataclasses.replace(k) for k in DIP))


def test_a_clip_without_an_envelope_keys_as_it_did() -> None:
    """No ``volume_keys`` in its form at all: every key made before envelopes existed holds."""
    [clip] = audio_form(_timeline(()), MEDIA, "fp")["tracks"][0]["clips"]
    assert "volume_keys" not in clip
