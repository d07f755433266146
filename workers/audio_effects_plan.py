"""What the mixer does with each clip's audio effects before running the chain: the effects
that cannot act on a clip's samples alone.

* AudioTempo: the clip reads its source ``tempo`` times faster (like ``speed``) and a pitch
  shift by ``1 / tempo`` at the effect's place in the chain restores the pitch (atempo's
  result). The clip keeps its place and length on the timeline, so it plays more (or less) of
  its source; the picture does not follow. A tempo change applies to the whole clip: its window
  and intensity are not used.
* AudioCrossfade: between a clip and the next one on its track that touches or overlaps it, when
  either carries the effect (or their track does): over the transition joining them, else their
  overlap, else ``duration`` seconds centred on the cut, the outgoing clip plays on past its end
  (its source's handle) fading out while the incoming one starts early fading in (``curve`` as
  acrossfade's, linear by default). Sources run silent where they have no handle. Two clips a
  transition joins crossfade so over its window without the effect too (linear), unless they
  fade out and in there of themselves.
* AudioDucking: needs the other tracks' sound; the mixer adds ducking clips last, listening to
  everything else (``ClipPlan.ducks``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction

from chunking.timeline.catalogue import effect_kind, is_audio_effect
from chunking.timeline.model import Clip, Effect, ParamValue, Timeline, Track, TrackKind
from workers.audio_effects_base import text, value


@dataclass(frozen=True)
class ClipPlan:
    """How one clip is played: the clip as read (tempo and crossfade handles applied) and the
    chains run on it before (clip effects) and after (track effects) its volume and fades."""

    track: Track
    clip: Clip
    pre: tuple[Effect, ...] = ()
    post: tuple[Effect, ...] = ()
    #: mixed after every other clip, listening to the tracks other than its own
    ducks: bool = False

    @property
    def buffered(self) -> bool:
        """Whether the clip needs its whole buffer (any effect to run)."""
        return bool(self.pre or self.post)


def kind_of(effect: Effect) -> str:
    """The effect's canonical kind."""
    return effect_kind(effect.kind) or effect.kind


def audio_effects_of(effects: tuple[Effect, ...]) -> tuple[Effect, ...]:
    """The audio effects among a clip's or track's effects, in order."""
    return tuple(e for e in effects if is_audio_effect(kind_of(e)))


def audible_tracks(timeline: Timeline) -> list[Track]:
    """Tracks whose clips can be heard."""
    return [
        t
        for t in timeline.tracks
        if t.kind in (TrackKind.AUDIO, TrackKind.VIDEO)
        and t.enabled
        and not t.muted
        and t.volume != 0
    ]


def plan_clips(timeline: Timeline) -> list[ClipPlan]:
    """A plan for every clip of every audible track, in track then clip order."""
    plans: list[ClipPlan] = []
    for track in audible_tracks(timeline):
        track_fx = audio_effects_of(track.effects)
        joins = _crossfades(track, track_fx, timeline)
        for clip in track.clips:
            clip_fx = audio_effects_of(clip.effects)
            tempo = math.prod(
                value(e, "tempo") for e in (*clip_fx, *track_fx) if kind_of(e) == "audiotempo"
            )
            played = dataclasses.replace(clip, speed=clip.speed * tempo) if tempo != 1 else clip
            fades: list[Effect] = []
            for lo, hi, fade in joins.get(clip.id, ()):
                played = _extend(played, lo, hi, timeline.fps)
                fades.append(fade)
            pre = (*_playable(clip_fx), *fades)
            post = _playable(track_fx)
            ducks = any(kind_of(e) == "audioducking" for e in (*pre, *post))
            plans.append(ClipPlan(track, played, pre, post, ducks))
    return plans


def _playable(effects: tuple[Effect, ...]) -> tuple[Effect, ...]:
    """The chain as run: crossfades dropped (planned), tempo changes as their pitch fix."""
    out: list[Effect] = []
    for effect in effects:
        kind = kind_of(effect)
        if kind == "audiocrossfade":
            continue
        if kind == "audiotempo":
            tempo = value(effect, "tempo")
            if tempo != 1:
                out.append(Effect(id=effect.id, kind="audiopitch", params={"ratio": 1 / tempo}))
            continue
        out.append(effect)
    return tuple(out)


def _crossfades(
    track: Track, track_fx: tuple[Effect, ...], timeline: Timeline
) -> dict[str, list[tuple[int, int, Effect]]]:
    """For each clip of the track: (first frame, end frame, fade) of each crossfade it is in."""

    def carried(clip: Clip) -> Effect | None:
        for effect in (*audio_effects_of(clip.effects), *track_fx):
            if kind_of(effect) == "audiocrossfade":
                return effect
        return None

    windows = {frozenset((t.from_clip, t.to_clip)): (t.start, t.end) for t in timeline.transitions}
    joins: dict[str, list[tuple[int, int, Effect]]] = {}
    ordered = sorted(track.clips, key=lambda c: (c.start, c.end))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start > a.end:
            continue
        effect = carried(a) or carried(b)
        window = windows.get(frozenset((a.id, b.id)))
        if effect is None:
            # A transition joins their pictures: their sounds crossfade over it (both at full
            # level over the window played the outgoing sound past its cut, over the incoming
            # one, and stopped it dead), unless the clips fade there already (an OTIO import).
            if window is None or a.fade_out > 0 or b.fade_in > 0:
                continue
            effect = Effect(f"{a.id}->{b.id}", "audiocrossfade")
        if window is None and b.start < a.end:
            window = (b.start, a.end)
        if window is None:
            frames = round(value(effect, "duration") * timeline.fps)
            lo = max(b.start - frames // 2, a.start, 0)
            window = (lo, min(lo + frames, b.end))
        lo, hi = window
        if hi <= lo:
            continue
        seconds = float(Fraction(hi - lo) / timeline.fps)
        curve = text(effect, "curve", "tri")
        params: dict[str, ParamValue] = {"duration": seconds, "curve": curve}
        joins.setdefault(a.id, []).append(
            (lo, hi, Effect(f"{effect.id}:out", "audiofadeout", params, start=lo, end=hi))
        )
        joins.setdefault(b.id, []).append(
            (lo, hi, Effect(f"{effect.id}:in", "audiofadein", params, start=lo, end=hi))
        )
    return joins


def _extend(clip: Clip, lo: int, hi: int, fps: Fraction) -> Clip:
    """The clip lengthened to cover frames [lo, hi), reading its source's handles."""
    start, end = min(clip.start, lo), max(clip.end, hi)
    source_start = clip.source_start
    if clip.reverse:
        # Played backwards, frames added after the end read media before the span (its start
        # moves back) and frames before the start media after it (Clip.mirrored).
        source_start -= float(Fraction(end - clip.end) / fps) * clip.speed
    elif start < clip.start:
        source_start -= float(Fraction(clip.start - start) / fps) * clip.speed
    later = start < clip.start if clip.reverse else end > clip.end
    source_end = None if later else clip.source_end
    # Volume keys count from the clip's first frame, which moved back: they keep their place.
    lead = float(Fraction(clip.start - start) / fps)
    keys = tuple(dataclasses.replace(key, time=key.time + lead) for key in clip.volume_keys)
    return dataclasses.replace(
        clip,
        start=start,
        end=end,
        source_start=source_start,
        source_end=source_end,
        volume_keys=keys,
    )
