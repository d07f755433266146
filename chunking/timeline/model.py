"""The internal timeline model every importer produces and the renderer consumes.

Times on the timeline are integer frame indices at a rational frame rate; source in/out points
stay in seconds because each source has its own frame rate.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from chunking.timeline.fade_curves import OpacityKey, fade_curve, key_opacity
from chunking.timeline.placement import Crop, Transform, TransformKey, key_transform
from chunking.timeline.subtitle import RGBA, Subtitle, TextAnimation
from chunking.timeline.volume_keys import VolumeKey

# Defined beside the curves they name, the burned-in text's own module, where a clip is
# drawn (placement) and its sound's level over time (volume_keys); part of the model.
__all__ = [
    "RGBA", "Crop", "OpacityKey", "Subtitle", "TextAnimation", "Transform", "TransformKey",
    "VolumeKey",
]  # fmt: skip

ParamValue = float | str | bool


class TrackKind(enum.StrEnum):
    """What a track holds."""

    VIDEO = "video"
    AUDIO = "audio"
    SUBTITLE = "subtitle"


@dataclass(frozen=True)
class ImageSequence:
    """Numbered still images played as one video (OTIO's ImageSequenceReference).

    Image ``n`` of the sequence (0-based) is the file named
    ``prefix + str(start_frame + n * frame_step).zfill(padding) + suffix`` in the directory of the
    owning FileSource's ``path`` (which is the first image); the images play at ``rate``.
    """

    prefix: str
    suffix: str
    start_frame: int
    count: int  # number of images
    rate: Fraction
    frame_step: int = 1
    padding: int = 0

    def name(self, index: int) -> str:
        """The file name of image ``index`` (0-based) of the sequence."""
        number = self.start_frame + index * self.frame_step
        digits = str(abs(number)).zfill(self.padding)
        return f"{self.prefix}{'-' if number < 0 else ''}{digits}{self.suffix}"


#: File suffixes the renderer opens as a still picture (decoded once by Pillow, then held): the
#: renderer, the prober and the cost model (chunking.complexity) agree on them. ``.jfif`` and
#: ``.jpe`` are JPEGs too (browsers save downloads as ``.jfif``); read as video they lost an
#: EXIF mirror and, with FFmpeg 8, failed on the EXIF side data PyAV cannot name. ``.tga`` (a
#: broadcast lower third with alpha) has no FFmpeg reader this renderer allows.
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".tga"}
)


@dataclass(frozen=True)
class FileSource:
    """A media file (video, audio or still image) on local disk, or an image sequence."""

    path: str
    #: set when ``path`` is the first image of a numbered sequence decoded as one video
    sequence: ImageSequence | None = None


@dataclass(frozen=True)
class GeneratedSource:
    """A synthetic source: a solid colour or a test pattern."""

    #: "color" or "pattern"
    kind: str = "color"
    #: RGBA, 0-255
    color: tuple[int, int, int, int] = (0, 0, 0, 255)
    #: for kind "pattern": "bars", "checker", "gradient" or "grid"
    pattern: str = "bars"


Source = FileSource | GeneratedSource


@dataclass(frozen=True)
class ColorCorrection:
    """Per-clip colour correction; the defaults change nothing."""

    brightness: float = 0.0  # added, -1..1
    contrast: float = 1.0  # multiplier around mid-grey
    saturation: float = 1.0  # multiplier, 0 = greyscale
    hue: float = 0.0  # degrees of rotation
    gamma: float = 1.0  # output = input ** (1 / gamma)
    # Tonal ranges, -1..1 each, 0 = unchanged: lift (+) or lower (-) the tones of that range;
    # shadows/highlights act on the dark/bright parts smoothly, blacks/whites move the end points.
    highlights: float = 0.0
    shadows: float = 0.0
    whites: float = 0.0
    blacks: float = 0.0

    def is_identity(self) -> bool:
        """True when the correction changes nothing."""
        return self == ColorCorrection()


@dataclass(frozen=True)
class Effect:
    """One effect or filter instance; start/end limit it to a window of timeline frames."""

    id: str
    kind: str  # canonical lower-case name, e.g. "blur", "filmgrain"
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    start: int | None = None
    end: int | None = None
    #: 0..1: how much of the effect's result is mixed over its input (filters' ``intensity``)
    intensity: float = 1.0

    def active_at(self, frame: int) -> bool:
        """Whether the effect applies at this timeline frame."""
        if self.start is not None and frame < self.start:
            return False
        return not (self.end is not None and frame >= self.end)


@dataclass(frozen=True)
class Cell:
    """A rectangle of the canvas a clip is fitted into instead of the whole canvas (a cell of a
    multi-camera template); all four numbers are fractions of the canvas size."""

    x: float
    y: float
    width: float
    height: float
    #: "contain" (letterbox inside the cell), "cover" (fill it, cropping the overflow),
    #: "fill" (stretch to it)
    fit: str = "contain"
    #: where a "contain" picture sits in the cell, or which part "cover" keeps: 0 = left/top,
    #: 0.5 = centre, 1 = right/bottom
    align_x: float = 0.5
    align_y: float = 0.5
    #: extra zoom of the fitted picture inside the cell (it stays clipped to the cell)
    scale: float = 1.0


#: The kind of a ProjectSchema ``Reverse`` effect, which the clip reader turns into the clip's
#: ``reverse`` (chunking.timeline.reverse): timing, never a picture effect a layer runs.
REVERSE_EFFECT = "reverse"


@dataclass(frozen=True)
class Clip:
    """A piece of a source placed on a track over timeline frames [start, end)."""

    id: str
    track_id: str
    source: Source
    start: int
    end: int
    # Seconds into the source; may be below 0 (by at most a few frames, from OTIO clips that
    # start before their media's available range): times before 0 hold the first frame and are
    # silent.
    source_start: float = 0.0
    source_end: float | None = None  # seconds; None = as long as the clip needs
    speed: float = 1.0
    #: play the source span backwards: timeline frame t shows what frame ``mirrored(t)`` of
    #: the same clip played forwards shows (docs/timeline-format.md, "Reverse playback")
    reverse: bool = False
    opacity: float = 1.0
    volume: float = 1.0
    muted: bool = False
    fade_in: float = 0.0  # audio fade-in, seconds
    fade_out: float = 0.0  # audio fade-out, seconds
    #: the sound's level over time, a linear factor on ``volume`` per sample (before the first
    #: key the first's, after the last the last's; chunking.timeline.volume_keys); empty = none
    volume_keys: tuple[VolumeKey, ...] = ()
    #: picture fades, seconds: opacity rises linearly from 0 on the first frame to ``opacity``
    #: ``picture_fade_in`` seconds later, and falls to 0 on the last frame over
    #: ``picture_fade_out`` (Clip.picture_fade)
    picture_fade_in: float = 0.0
    picture_fade_out: float = 0.0
    #: seconds of the clip a render range cut off before its start / after its end: its picture
    #: fades still count from the uncut clip's edges
    picture_fade_head: float = 0.0
    picture_fade_tail: float = 0.0
    #: the fades' shapes (fade_curves names); a fade-out is its curve played backwards
    picture_fade_in_curve: str = "linear"
    picture_fade_out_curve: str = "linear"
    #: opacity over time, a factor on ``opacity`` (before the first key the first's value,
    #: after the last the last's); empty = constant
    opacity_keys: tuple[OpacityKey, ...] = ()
    transform: Transform = Transform()
    #: transform over time (before the first key the first's, after the last the last's);
    #: empty = ``transform`` on every frame; when set, ``transform`` is not drawn
    transform_keys: tuple[TransformKey, ...] = ()
    crop: Crop = Crop()
    color: ColorCorrection = ColorCorrection()
    effects: tuple[Effect, ...] = ()
    text: str | None = None  # subtitle clips only
    #: fit the clip into this part of the canvas (multi-camera template cell); None = whole canvas
    cell: Cell | None = None
    #: which audio stream of the source to play (0-based among its audio streams); None = first
    audio_stream: int | None = None
    #: play this one channel of that stream alone, centred (1-based: a dual-mono recording's
    #: second microphone is 2); None = all its channels
    audio_channel: int | None = None
    #: deinterlace the frames an interlaced video source flags interlaced (workers.deinterlace);
    #: off shows them as decoded (progressive footage a camera flagged interlaced)
    deinterlace: bool = True

    @property
    def frames(self) -> int:
        """Number of timeline frames the clip covers."""
        return self.end - self.start

    def mirrored(self, t: int) -> int:
        """The timeline frame whose forward source time frame t shows: t itself, or for a
        reversed clip its mirror about the clip's middle (its first frame shows the forward
        clip's last, its last the forward clip's first; a transition's frames past an end keep
        going the same way)."""
        return self.start + self.end - 1 - t if self.reverse else t

    def transform_at(self, t: int, fps: Fraction) -> Transform:
        """The transform drawn at timeline frame t (its keys', else ``transform``); frames
        drawn outside the clip (a transition's) take its first or last frame's."""
        if not self.transform_keys:
            return self.transform
        t = min(max(t, self.start), self.end - 1)
        return key_transform(self.transform_keys, Fraction(t - self.start) / fps)

    def picture_fade(self, t: int, fps: Fraction) -> float:
        """The picture fades' and opacity keys' factor (0..1) on the clip's opacity at timeline
        frame t; frames drawn outside the clip (a transition's) take its first or last frame's."""
        if self.picture_fade_in <= 0 and self.picture_fade_out <= 0 and not self.opacity_keys:
            return 1.0
        t = min(max(t, self.start), self.end - 1)
        factor: Fraction | float = Fraction(1)
        for length, cut, since, curve in (
            (self.picture_fade_in, self.picture_fade_head, t - self.start,
             self.picture_fade_in_curve),
            (self.picture_fade_out, self.picture_fade_tail, self.end - 1 - t,
             self.picture_fade_out_curve),
        ):  # fmt: skip
            if length > 0:
                progress = (since / fps + Fraction(str(cut))) / Fraction(str(length))
                factor = min(factor, fade_curve(curve, progress))
        if self.opacity_keys:
            factor = factor * key_opacity(self.opacity_keys, float((t - self.start) / fps))
        return float(max(factor, Fraction(0)))

    def picture_fading(self, fps: Fraction) -> tuple[int, int]:
        """How many frames at the clip's start and at its end a picture fade dims (factor below
        1): Clip.picture_fade's own bounds, exactly."""
        counts = []
        for length, cut in (
            (self.picture_fade_in, self.picture_fade_head),
            (self.picture_fade_out, self.picture_fade_tail),
        ):
            left = (Fraction(str(length)) - Fraction(str(cut))) * fps if length > 0 else 0
            counts.append(min(max(math.ceil(left), 0), max(self.frames, 0)))
        return counts[0], counts[1]

    def picture_faded(self, start: int, end: int, fps: Fraction) -> bool:
        """Whether a picture fade dims any frame of [start, end) the clip is drawn on (frames
        before or after the clip, in a transition, count as its first or last)."""
        if any(key.opacity < 1 for key in self.opacity_keys):
            return True  # keys may dim any frame
        head, tail = self.picture_fading(fps)
        return (head > 0 and start < self.start + head) or (tail > 0 and end > self.end - tail)


@dataclass(frozen=True)
class Track:
    """A layer of clips; video tracks later in the list are drawn on top."""

    id: str
    kind: TrackKind
    name: str = ""
    enabled: bool = True
    muted: bool = False
    volume: float = 1.0
    clips: tuple[Clip, ...] = ()
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class Transition:
    """A transition between two clips over timeline frames [start, end)."""

    id: str
    kind: str  # dissolve, fade_black, fade_white, wipe_left/right/up/down, slide_left/right/...
    from_clip: str
    to_clip: str
    start: int
    end: int
    #: how progress runs: linear, ease, ease_in, ease_out, ease_in_out (CSS's curves)
    easing: str = "linear"

    def progress(self, frame: int) -> float:
        """Progress through the transition, strictly between 0 and 1 inside the window."""
        return (frame - self.start + 0.5) / (self.end - self.start)


@dataclass(frozen=True)
class ExportSettings:
    """How the finished video is encoded."""

    container: str = "mp4"  # mp4, mov, mkv, webm
    codec: str = "h264"  # h264, hevc, av1, vp9, ffv1, prores, dnxhr
    crf: int | None = None
    bitrate: int | None = None  # bits per second
    preset: str | None = None
    keyframe_interval: int | None = None  # frames
    b_frames: int | None = None
    hardware_acceleration: bool = False
    lossless: bool = False
    audio_bitrate: int = 192_000
    #: ProRes or DNxHR profile (chunking.timeline.profiles); None: the codec's default
    profile: str | None = None
    #: aac, opus, flac, alac, pcm_s16le, pcm_s24le; None: the container's usual one
    audio_codec: str | None = None


@dataclass(frozen=True)
class Timeline:
    """A whole project ready to render: every time is an integer frame index."""

    fps: Fraction
    width: int
    height: int
    frames: int
    sample_rate: int = 48_000
    tracks: tuple[Track, ...] = ()
    transitions: tuple[Transition, ...] = ()
    subtitles: tuple[Subtitle, ...] = ()
    export: ExportSettings = ExportSettings()
    #: non-fatal findings from loading (unknown effect types, clamped values)
    warnings: tuple[str, ...] = ()
    name: str = ""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return float(self.frames / self.fps)

    def video_tracks(self) -> list[Track]:
        """Enabled video tracks, bottom first."""
        return [t for t in self.tracks if t.kind is TrackKind.VIDEO and t.enabled]

    def clip(self, clip_id: str) -> Clip:
        """The clip with this id."""
        for track in self.tracks:
            for clip in track.clips:
                if clip.id == clip_id:
                    return clip
        raise KeyError(clip_id)
