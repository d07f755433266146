"""A Timeline Studio clip's changing speed ramp (studio_editor_speed.SpeedRamp) as clips of
steady speed, which is what the renderer's clip plays.

The clip becomes consecutive clips on whole frames. Each starts on the media time the ramp
has reached at its first frame (the integral of the player's rate since the clip's start) and
plays at the speed that reaches the next one's: every piece starts on the frame the editor's
player shows there. Where the ramp holds one speed (``hold`` keys; before its first key and
after its last) one piece plays it; where it glides from one speed to another the pieces are
STEP_SECONDS long, so a frame inside one is off by less than a hundredth of a second of media
for any ramp the editor's presets draw. Where the ramp stops (speed 0) a piece is a freeze
frame (ProjectSchema ``speed`` 0); slower than the renderer's 0.1x a piece plays at 0.1x until
it reaches where the ramp is at its end, then holds that frame (a slow glide advances in small
steps); faster than 10x it plays at 10x and the next piece jumps ahead, said in a warning.

The first piece keeps the clip's id (a transition into the clip joins it), a transition out of
the clip joins the last piece, and no piece begins or ends inside either: those play over one
piece. Fades, opacity and position keys keep their place as a render range keeps them when it
cuts a clip (studio_editor_range); an effect window of the clip stays with the pieces it
overlaps. A reversed clip or one with a style template is not split: its ramp is named in a
warning and it plays at its speed.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.frames import parse_fps, to_frame
from chunking.timeline.schema import MAX_SECONDS
from chunking.timeline.studio_clips import MAX_SPEED, MIN_SPEED
from chunking.timeline.studio_editor_entries import effect_entry
from chunking.timeline.studio_editor_range import picture_fades_in_range, sound_fades_in_range
from chunking.timeline.studio_editor_speed import RAMP_KEY, SpeedRamp
from chunking.timeline.studio_editor_tracks import Parts

#: How long a piece of a glide between two speeds lasts (rounded to whole frames).
STEP_SECONDS = 0.1
#: The most pieces one clip becomes; longer glides get longer pieces, more keys fewer cuts.
MAX_PIECES = 400
#: A pitch shift keeps a piece's pitch only from 0.25x to 4x (the loader's audiopitch range).
_PITCH = (0.25, 4.0)


def split_ramps(parts: Parts, fps_value: Any, p: Problems) -> None:
    """Replace every clip carrying a SpeedRamp by its pieces of steady speed (in place), and
    move the transitions out of it onto its last piece."""
    fps = parse_fps(fps_value)
    heads: dict[str, float] = {}
    tails: dict[str, float] = {}
    for t in parts.transitions:
        duration = t.get("duration")  # {"value": seconds}, as transition_entry writes it
        length = to_float(duration.get("value") if isinstance(duration, dict) else duration)
        length = length if length is not None and math.isfinite(length) else 0.0
        tails[t["from_clip_id"]] = max(tails.get(t["from_clip_id"], 0.0), length)
        heads[t["to_clip_id"]] = max(heads.get(t["to_clip_id"], 0.0), length)
    last: dict[str, str] = {}
    for track in parts.tracks:
        clips: list[dict[str, Any]] = []
        for clip in track["clips"]:
            ramp = clip.pop(RAMP_KEY, None)
            if not isinstance(ramp, SpeedRamp):
                clips.append(clip)
                continue
            guard = (heads.get(clip["id"], 0.0), tails.get(clip["id"], 0.0))
            pieces = _Splitter(clip, ramp, fps, parts, p).pieces(guard)
            last[clip["id"]] = pieces[-1]["id"]
            clips.extend(pieces)
        track["clips"] = clips
    for t in parts.transitions:
        t["from_clip_id"] = last.get(t["from_clip_id"], t["from_clip_id"])


class _Splitter:
    def __init__(
        self, clip: dict[str, Any], ramp: SpeedRamp, fps: Fraction, parts: Parts, p: Problems
    ) -> None:
        self.clip, self.ramp, self.fps, self.parts, self.p = clip, ramp, fps, parts, p
        self.where = f"clip {clip['id']!r}"
        self.t0, self.t1 = float(clip["start_time"]), float(clip["end_time"])
        # Times or an in point the loader refuses (NaN, past a day, "abc"): left to it.
        self.f0 = self.f1 = 0
        origin = to_float(clip.get("source_start"))
        if 0 <= self.t0 < self.t1 <= MAX_SECONDS and origin is not None and math.isfinite(origin):
            self.f0, self.f1 = to_frame(self.t0, fps), to_frame(self.t1, fps)
        self.pitch_named = False

    def pieces(self, guard: tuple[float, float]) -> list[dict[str, Any]]:
        """The clip's pieces in time order (the clip alone where it cannot be split)."""
        clip = self.clip
        why = "a reversed clip" if clip.get("reverse") is True else None
        if clip.get("style_template_id") is not None:
            why = "a clip with a style template (it would restart on every piece)"
        if why is not None:
            self.p.warn(self.where, f"speed ramping of {why} is not rendered; it plays at "
                        f"speed {shown(clip.get('speed'))}")  # fmt: skip
            speed = to_float(clip.get("speed"))
            if speed is not None and speed > 0:
                self._keep_pitch(clip, speed)
            return [clip]
        if self.f1 <= self.f0:
            return [clip]  # empty, or times the loader names
        steady = _merged(self._steady_pieces(self._cuts(guard)), self.fps)
        return [self._emit(i, *piece) for i, piece in enumerate(steady)]

    def _local(self, frame: int) -> float:
        """Seconds from the clip's start to the start of timeline frame ``frame``."""
        return float(Fraction(frame) / self.fps - Fraction(str(self.t0)))

    def _cuts(self, guard: tuple[float, float]) -> list[int]:
        """The frames pieces start on, and the clip's end: at its keys, and every step inside
        a glide; none inside the head or tail a transition plays over (``guard`` seconds)."""
        fps, f0, f1 = self.fps, self.f0, self.f1
        cuts = {f0, f1}
        for time, _, _ in self.ramp.keys:
            if 0 < time < self.t1 - self.t0:
                cuts.add(min(max(to_frame(self.t0 + time, fps), f0), f1))
        step = max(round(STEP_SECONDS * fps), math.ceil((f1 - f0) / MAX_PIECES), 1)
        fine = set(cuts)
        ordered = sorted(cuts)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if not self._holds(a, b):
                count = math.ceil((b - a) / step)
                fine.update(a + round(i * (b - a) / count) for i in range(1, count))
        first = f0 + math.ceil(Fraction(str(guard[0])) * fps)
        end = f1 - math.ceil(Fraction(str(guard[1])) * fps)
        kept = sorted(f for f in fine if f in (f0, f1) or first <= f <= end)
        if len(kept) > MAX_PIECES + 1:  # thousands of keys: evenly spaced ones of their cuts
            kept = [kept[round(i * (len(kept) - 1) / MAX_PIECES)] for i in range(MAX_PIECES + 1)]
        return kept

    def _holds(self, a: int, b: int) -> bool:
        """Whether the ramp plays frames [a, b) at one speed the renderer plays (or 0)."""
        x, y = self._local(a), self._local(b)
        speeds = {round(self.ramp.speed_at(x + (y - x) * (j + 0.5) / 8), 12) for j in range(8)}
        (speed,) = speeds if len(speeds) == 1 else (None,)
        return speed is not None and (speed == 0 or MIN_SPEED <= speed <= MAX_SPEED)

    def _steady_pieces(self, cuts: list[int]) -> list[tuple[int, int, float, float]]:
        """(first frame, end frame, media seconds at the first, speed) of each piece."""
        fps = float(self.fps)
        origin = to_float(self.clip.get("source_start")) or 0.0
        out: list[tuple[int, int, float, float]] = []
        slow = fast = False
        e = origin + self.ramp.played(self._local(cuts[0]))
        for g, h in zip(cuts, cuts[1:], strict=False):
            s = e
            e = s + self.ramp.integral(self._local(g), self._local(h))
            speed = (e - s) * fps / (h - g)
            if speed <= 1e-9:
                out.append((g, h, s, 0.0))
            elif speed < MIN_SPEED:
                slow = True
                playing = min(round((e - s) * fps / MIN_SPEED), h - g)
                if playing > 0:
                    out.append((g, g + playing, s, MIN_SPEED))
                if g + playing < h:
                    out.append((g + playing, h, e, 0.0))
            elif speed > MAX_SPEED:
                fast = True
                out.append((g, h, s, MAX_SPEED))
            else:
                out.append((g, h, s, speed))
        if slow:
            self.p.warn(self.where, f"speed ramping slower than {MIN_SPEED:g}x plays at "
                        f"{MIN_SPEED:g}x in steps that hold where the ramp has got to")  # fmt: skip
        if fast:
            self.p.warn(self.where, f"speed ramping faster than {MAX_SPEED:g}x plays at "
                        f"{MAX_SPEED:g}x, jumping ahead to where the ramp has got to every "
                        f"{STEP_SECONDS:g} s")  # fmt: skip
        return out

    def _emit(self, index: int, g: int, h: int, source: float, speed: float) -> dict[str, Any]:
        """Piece ``index`` of the clip as a ProjectSchema clip."""
        clip = self.clip
        piece = dict(clip)
        if index:
            piece["id"] = f"{clip['id']}#ramp-{index}"
        start = self.t0 if g == self.f0 else float(Fraction(g) / self.fps)
        end = self.t1 if h == self.f1 else float(Fraction(h) / self.fps)
        piece.update(start_time=start, end_time=end, source_start=round(source, 9))
        piece["speed"] = round(speed, 9)
        for group, table in (("effects", self.parts.effects), ("filters", self.parts.filters)):
            piece[group] = [ref for ref in clip.get(group, ()) if _overlaps(table, ref, start, end)]
        head, tail = round(start - self.t0, 9), round(self.t1 - end, 9)
        self.parts.effects.update(sound_fades_in_range(piece, head, tail))
        picture_fades_in_range(piece, head, tail)
        self._keep_pitch(piece, speed)
        return piece

    def _keep_pitch(self, piece: dict[str, Any], speed: float) -> None:
        """A pitch shift that undoes the piece's speed, where the ramp keeps the pitch."""
        if not self.ramp.keep_pitch or speed in (0, 1):
            return
        if _PITCH[0] <= 1 / speed <= _PITCH[1]:
            own = f"{piece['id']}#keep-pitch"
            entry = effect_entry(own, "audio-pitch", "keep pitch", {"ratio": 1 / speed})
            self.parts.effects[own] = entry
            piece["effects"] = [*piece.get("effects", ()), own]
        elif not self.pitch_named:
            self.pitch_named = True
            self.p.warn(self.where, f"maintainPitch at speed {speed:g} is not rendered "
                        "(0.25 to 4 is)")  # fmt: skip


def _merged(
    pieces: list[tuple[int, int, float, float]], fps: Fraction
) -> list[tuple[int, int, float, float]]:
    """Neighbouring pieces that play on at one speed, as one."""
    out: list[tuple[int, int, float, float]] = []
    for g, h, source, speed in pieces:
        if out:
            a, b, before, was = out[-1]
            reached = before + was * float((b - a) / fps)
            if abs(was - speed) < 1e-9 and abs(reached - source) < 1e-6:
                out[-1] = (a, h, before, was)
                continue
        out.append((g, h, source, speed))
    return out


def _overlaps(table: dict[str, dict[str, Any]], ref: Any, start: float, end: float) -> bool:
    """Whether the effect ``ref`` (an entry of ``table``) shows during [start, end)."""
    entry = table.get(ref) if isinstance(ref, str) else None
    if entry is None or "start_time" not in entry:
        return True
    first, last = to_float(entry["start_time"]), to_float(entry.get("end_time"))
    return (first is None or first < end) and (last is None or last > start)
