"""Text burned into the picture (subtitles and titles) as the timeline model carries it
(``chunking.timeline.model`` re-exports these)."""

from __future__ import annotations

from dataclasses import dataclass

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextAnimation:
    """A timed change of a subtitle's look; frames are timeline frames [start, end)."""

    #: fade_in, fade_out, slide_in, slide_out, scale_in, scale_out, typewriter, blink, shake,
    #: wave, bounce
    kind: str
    start: int
    end: int
    #: slides: the side the text comes from / leaves to (top, bottom, left, right)
    direction: str = "bottom"
    #: linear, ease, ease_in, ease_out, ease_in_out, elastic, bounce
    easing: str = "linear"


@dataclass(frozen=True)
class Subtitle:
    """Text burned into the picture over timeline frames [start, end)."""

    id: str
    text: str
    start: int
    end: int
    font_size: int = 48
    color: RGBA = (255, 255, 255, 255)
    #: "bottom", "top" or "center", or an explicit (x, y) fraction of the canvas where the
    #: box's ``anchor`` point goes
    position: str | tuple[float, float] = "bottom"
    background: RGBA | None = None
    outline: int = 2  # stroke width in pixels, 0 = none
    #: which point of the text box sits at an explicit ``position``: (0, 0) = its top-left corner,
    #: (0.5, 0.5) = its centre, (1, 1) = its bottom-right corner
    anchor: tuple[float, float] = (0.5, 0.5)
    #: how lines align inside the box: left, center or right
    align: str = "center"
    font_family: str = ""  # a family name; "" = the default sans-serif face
    font_weight: int = 400  # CSS weights 100..900; 600 and above draw bold
    opacity: float = 1.0  # of the whole subtitle (text, stroke, shadow, box)
    stroke_color: RGBA = (0, 0, 0, 255)
    shadow_color: RGBA | None = None  # None = no shadow
    shadow_offset: tuple[float, float] = (2.0, 2.0)  # pixels right and down
    shadow_blur: float = 0.0  # pixels
    #: space between the text and the background box's edges: top, right, bottom, left (pixels);
    #: None = a quarter of the font size on every side
    padding: tuple[float, float, float, float] | None = None
    border_radius: float = 0.0  # pixels, of the background box's corners
    line_height: float | None = None  # multiple of the font size; None = the face's own + 15 %
    letter_spacing: float = 0.0  # extra pixels between characters
    max_width: float = 0.9  # fraction of the canvas width before lines wrap
    animations: tuple[TextAnimation, ...] = ()
