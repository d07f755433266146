"""Audio content keys: a hash of everything the timeline's mixed and encoded sound is made from.

The sound's half of chunking.content_key (whose docstring says what a key covers): the whole
mix is one key, since sound depends on absolute times.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from chunking.content_form import KEY_VERSION, digest, plain
from chunking.timeline.audio_catalogue import AUDIO_EFFECTS
from chunking.timeline.catalogue import effect_kind
from chunking.timeline.model import Effect, ExportSettings, FileSource, Timeline, Track, TrackKind

#: Export settings that shape only the sound (the audio codec, unless chosen, follows the
#: container). A chosen codec keys the mix only when set, so older keys stay valid.
AUDIO_EXPORT_FIELDS = ("container", "audio_bitrate", "lossless")
CHOSEN_AUDIO_FIELDS = ("audio_codec",)


def audio_key(timeline: Timeline, media: Mapping[str, str], fingerprint: str) -> str:
    """Hex sha256 of everything that determines the timeline's mixed and encoded sound."""
    return digest(audio_form(timeline, media, fingerprint))


def audio_form(timeline: Timeline, media: Mapping[str, str], fingerprint: str) -> dict[str, Any]:
    """The canonical form audio_key hashes: every track that can be heard, whole.

    Mirrors workers.audio_effects_plan.audible_tracks and workers.audio_mix: sound depends on
    absolute times (the mix is one buffer), so nothing is made relative. Raises KeyError for a
    file a sounding clip reads that ``media`` has no content id for.
    """
    audible = [
        t
        for t in timeline.tracks
        if t.kind in (TrackKind.AUDIO, TrackKind.VIDEO)
        and t.enabled
        and not t.muted
        and t.volume != 0
    ]
    refs = {clip.id: (n, m) for n, t in enumerate(audible) for m, clip in enumerate(t.clips)}
    tracks = [_audio_track_form(track, media) for track in audible]
    # A transition shapes sound only as the window of a crossfade between clips of one track
    # (workers.audio_effects_plan: every such transition is one).
    transitions = [
        {"from": refs[tr.from_clip], "to": refs[tr.to_clip], "start": tr.start, "end": tr.end}
        for tr in timeline.transitions
        if tr.from_clip in refs
        and tr.to_clip in refs
        and refs[tr.from_clip][0] == refs[tr.to_clip][0]
    ]
    return {
        "version": KEY_VERSION,
        "fingerprint": fingerprint,
        "fps": str(timeline.fps),
        "frames": timeline.frames,
        "sample_rate": timeline.sample_rate,
        "export": _audio_export_form(timeline.export),
        "tracks": tracks,
        "transitions": transitions,
    }


# -- audio pieces -----------------------------------------------------------------------------


def _audio_track_form(track: Track, media: Mapping[str, str]) -> dict[str, Any]:
    clips = []
    for clip in track.clips:
        sounds = (
            isinstance(clip.source, FileSource)
            and not clip.muted
            and clip.volume * track.volume != 0
        )
        source: Any = None
        if sounds and isinstance(clip.source, FileSource):
            source = {
                "media": media[clip.source.path],
                "ext": os.path.splitext(clip.source.path)[1].lower(),
            }
        form: dict[str, Any] = plain(clip)
        # What shapes only the picture (deinterlace included) is no part of the sound.
        picture = ("id", "track_id", "source", "text", "transform", "transform_keys", "crop",
                   "color", "cell")  # fmt: skip
        fades = ("picture_fade_in", "picture_fade_out", "picture_fade_head", "picture_fade_tail",
                 "picture_fade_in_curve", "picture_fade_out_curve", "opacity_keys")  # fmt: skip
        for name in (*picture, "deinterlace", *fades):
            del form[name]
        del form["opacity"]
        if not clip.reverse:
            del form["reverse"]  # only when on: forward clips keep the keys they had
        if not clip.volume_keys:
            del form["volume_keys"]  # likewise: a clip without an envelope keeps its key
        # Silent clips still count: a crossfade reads its neighbours' times.
        form["source"] = source
        form["effects"] = _audio_effects(clip.effects)
        clips.append(form)
    return {
        # A video track's stills are silent; an audio track's files are all sound.
        "kind": track.kind.value,
        "volume": float(track.volume),
        "effects": _audio_effects(track.effects),
        "clips": clips,
    }


def _audio_effects(effects: tuple[Effect, ...]) -> list[dict[str, Any]]:
    """Sound effects in order, without their ids (only error messages and derived ids use them)."""
    out = []
    for effect in effects:
        if (effect_kind(effect.kind) or effect.kind) not in AUDIO_EFFECTS:
            continue
        form: dict[str, Any] = plain(effect)
        del form["id"]
        out.append(form)
    return out


def _audio_export_form(export: ExportSettings) -> dict[str, Any]:
    """The export settings as far as they shape the job's sound."""
    form = {name: getattr(export, name) for name in AUDIO_EXPORT_FIELDS}
    for name in CHOSEN_AUDIO_FIELDS:
        if getattr(export, name) is not None:
            form[name] = getattr(export, name)
    return form
