"""Subtitle animations: what each TextAnimation does to a subtitle at a timeline frame.

Everything here is a pure function of the subtitle and the absolute timeline frame, so a frame
looks the same whichever chunk renders it. An animation's progress at frame ``t`` is
``(t - start) / (end - start)`` clamped to [0, 1] (the editor's drawtext expressions use
``(t - start_time) / duration``, Timeline Studio src-tauri/src/video_compiler/ffmpeg_builder/
subtitles.rs), shaped by its easing. As there, an "in" animation shows its first state before it
starts (a fade_in's subtitle is hidden until the fade begins) and an "out" animation its last
state after it ends; the others act inside their window only:

- fade_in / fade_out: opacity from 0 to 1 / 1 to 0 ("dissolve" is the editor's fade_out).
- slide_in / slide_out: from / to just past the canvas edge on ``direction``'s side (the
  editor starts 200 px or 50 px past the edge; past the whole box here, so long text is hidden
  too); "center" does not move.
- scale_in / scale_out: size from 0 to 1 / 1 to 0 about the box's centre ("scale" = scale_in).
- typewriter: characters appear one by one in reading order (the editor approximates this with
  a fade; its schema says "by letters"); the box keeps its full size.
- blink: the subtitle blinks BLINK_HZ times a second, starting fully shown (|cos|, smooth like
  the editor's |sin|; its expression makes one pulse over the whole window and hides the text
  before the window, which reads as a slip, not a look anyone asks for).
- shake: horizontal jitter of SHAKE_PX: 5 px * sin(50 rad/s * seconds), the editor's expression.
- bounce: one hop of BOUNCE_PX over the window (the editor's sin(pi * progress) * 20).
- wave: the letters hop WAVE_PX in turn, a wave running through the text over the window (the
  editor's schema: "letters appear in turn"; its drawtext moves the whole line 10 px).

Easings: linear, CSS's ease / ease-in / ease-out / ease-in-out curves, and the usual
easeOutElastic and easeOutBounce for elastic and bounce (they overshoot or land and rebound).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from chunking.timeline.model import Subtitle, TextAnimation
from common.errors import TimelineError

SHAKE_PX = 5.0
SHAKE_RADIANS_PER_SECOND = 50.0
BOUNCE_PX = 20.0
WAVE_PX = 10.0
BLINK_HZ = 2.0
#: In a wave, each letter starts its hop this fraction of a hop after the one before it.
WAVE_STAGGER = 0.25

#: Editor names accepted for the same animation.
_SYNONYMS = {"dissolve": "fade_out", "scale": "scale_in"}
KINDS = frozenset(
    {
        "fade_in",
        "fade_out",
        "slide_in",
        "slide_out",
        "scale_in",
        "scale_out",
        "typewriter",
        "blink",
        "shake",
        "wave",
        "bounce",
        *_SYNONYMS,
    }
)
DIRECTIONS = frozenset({"top", "bottom", "left", "right", "center"})
#: Animations that address single characters: their subtitle is drawn glyph by glyph.
PER_GLYPH = frozenset({"typewriter", "wave"})


def _cubic(t: float, a: float, b: float) -> float:
    return 3 * (1 - t) ** 2 * t * a + 3 * (1 - t) * t * t * b + t**3


def _bezier(x1: float, y1: float, x2: float, y2: float) -> Callable[[float], float]:
    """A CSS cubic-bezier() timing function (solved by bisection: exact and deterministic)."""

    def curve(p: float) -> float:
        lo, hi = 0.0, 1.0
        for _ in range(48):
            mid = (lo + hi) / 2
            if _cubic(mid, x1, x2) < p:
                lo = mid
            else:
                hi = mid
        return _cubic((lo + hi) / 2, y1, y2)

    return curve


def _elastic(p: float) -> float:
    """Overshoots and settles (easeOutElastic)."""
    return 2 ** (-10 * p) * math.sin((10 * p - 0.75) * (2 * math.pi / 3)) + 1


def _bounce(p: float) -> float:
    """Lands and bounces on the end value (easeOutBounce)."""
    n, d = 7.5625, 2.75
    if p < 1 / d:
        return n * p * p
    if p < 2 / d:
        p -= 1.5 / d
        return n * p * p + 0.75
    if p < 2.5 / d:
        p -= 2.25 / d
        return n * p * p + 0.9375
    p -= 2.625 / d
    return n * p * p + 0.984375


#: Easings by name; the four CSS keywords are CSS's own cubic-bezier curves.
EASINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda p: p,
    "ease": _bezier(0.25, 0.1, 0.25, 1.0),
    "ease_in": _bezier(0.42, 0.0, 1.0, 1.0),
    "ease_out": _bezier(0.0, 0.0, 0.58, 1.0),
    "ease_in_out": _bezier(0.42, 0.0, 0.58, 1.0),
    "elastic": _elastic,
    "bounce": _bounce,
}


def ease(name: str, p: float) -> float:
    """Progress ``p`` in [0, 1] shaped by the named easing (exactly 0 and 1 at the ends)."""
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    return EASINGS[name](p)


@dataclass(frozen=True)
class Motion:
    """How a subtitle differs from its still look at one frame."""

    opacity: float = 1.0  # multiplies the subtitle's opacity
    dx: float = 0.0  # pixels right
    dy: float = 0.0  # pixels down
    scale: float = 1.0  # about the box's centre
    reveal: float | None = None  # fraction of the characters shown; None = all
    wave: float | None = None  # progress of a letter wave through the text; None = none
    #: (side, fraction of the way to just past that canvas edge)
    slides: tuple[tuple[str, float], ...] = field(default=())

    def redraws(self) -> bool:
        """Whether the glyphs themselves change (not just where and how strongly they show)."""
        return self.reveal is not None or self.wave is not None


STILL = Motion()


def check_animations(sub: Subtitle) -> None:
    """Raise TimelineError naming the subtitle for an animation the renderer cannot draw."""
    for anim in sub.animations:
        where = f"subtitle {sub.id}: animation {anim.kind!r}"
        if anim.kind not in KINDS:
            raise TimelineError(f"{where} is not one of {', '.join(sorted(KINDS))}")
        if anim.easing not in EASINGS:
            raise TimelineError(
                f"{where}: easing must be one of {', '.join(EASINGS)}, got {anim.easing!r}"
            )
        if anim.direction not in DIRECTIONS:
            raise TimelineError(
                f"{where}: direction must be one of {', '.join(sorted(DIRECTIONS))}, "
                f"got {anim.direction!r}"
            )


def motion_at(sub: Subtitle, frame: int, fps: Fraction, per_glyph: bool = True) -> Motion:
    """The combined effect of the subtitle's animations at an absolute timeline frame.

    Without ``per_glyph`` (text that cannot be drawn character by character: see
    workers.subtitle_text.needs_shaping) typewriter and wave fall back to the editor's own
    drawtext approximations: a fade-in, and a hop of the whole text by WAVE_PX.
    """
    opacity, dx, dy, scale = 1.0, 0.0, 0.0, 1.0
    reveal: float | None = None
    wave: float | None = None
    slides: list[tuple[str, float]] = []
    for anim in sub.animations:
        kind = _SYNONYMS.get(anim.kind, anim.kind)
        if not per_glyph and kind == "typewriter":
            kind = "fade_in"
        inside = anim.start <= frame < anim.end
        e = ease(anim.easing, _progress(anim, frame))
        seconds = float((frame - anim.start) / fps)
        if kind == "fade_in":
            opacity *= min(max(e, 0.0), 1.0)
        elif kind == "fade_out":
            opacity *= min(max(1 - e, 0.0), 1.0)
        elif kind in ("slide_in", "slide_out") and anim.direction != "center":
            slides.append((anim.direction, 1 - e if kind == "slide_in" else e))
        elif kind == "scale_in":
            scale *= max(e, 0.0)
        elif kind == "scale_out":
            scale *= max(1 - e, 0.0)
        elif kind == "typewriter":
            reveal = min(reveal if reveal is not None else 1.0, min(max(e, 0.0), 1.0))
        elif not inside:
            continue
        elif kind == "blink":
            opacity *= abs(math.cos(math.pi * BLINK_HZ * seconds))
        elif kind == "shake":
            dx += SHAKE_PX * math.sin(SHAKE_RADIANS_PER_SECOND * seconds)
        elif kind == "bounce":
            dy -= BOUNCE_PX * math.sin(math.pi * e)
        elif kind == "wave" and not per_glyph:
            dy -= WAVE_PX * math.sin(math.pi * e)
        elif kind == "wave":
            wave = e
    if reveal is not None and reveal >= 1:
        reveal = None
    return Motion(opacity, dx, dy, scale, reveal, wave, tuple(slides))


def wave_lifts(progress: float, count: int) -> tuple[float, ...]:
    """Pixels each of ``count`` characters is raised at a wave's progress (one hop each, in
    reading order, each starting WAVE_STAGGER of a hop after the one before)."""
    if count <= 0:
        return ()
    hop = 1 / (1 + (count - 1) * WAVE_STAGGER)
    lifts = []
    for i in range(count):
        local = (progress - i * WAVE_STAGGER * hop) / hop
        lifts.append(WAVE_PX * math.sin(math.pi * local) if 0 < local < 1 else 0.0)
    return tuple(lifts)


def _progress(anim: TextAnimation, frame: int) -> float:
    if anim.end <= anim.start:
        return 1.0 if frame >= anim.start else 0.0
    return min(max((frame - anim.start) / (anim.end - anim.start), 0.0), 1.0)
