"""Subtitle typefaces: a CSS family list and weight to a FreeType font at a pixel size.

Faces come from the ``font-roboto`` package (a project dependency, Apache 2.0: Roboto in six
weights; Latin with accents, Cyrillic and Greek), which is the default face, and from the system
font directories (Debian's ``fonts-dejavu-core`` gives DejaVu Sans, Serif and Sans Mono). A
family is matched like a CSS ``font-family`` list: each comma-separated name in turn, with the
generic names and the common proprietary ones the editor offers (Arial, Times New Roman, Courier
New, ...) mapped to the nearest face installed here. When no name matches, the default face
draws, with one logged warning per family (and a validate/render warning: workers.subtitle_check):
a render node may lack a font, and a subtitle must still appear. Characters the face drawn lacks
come from other installed faces (workers.subtitle_fallback). Weights follow CSS font matching
among the files of the family; a weight of 600 or more that finds no file of 600 or more is
drawn as a synthetic bold (the glyphs thickened by a stroke, as browsers do). Pillow's own
embedded font (Aileron, ASCII only) is used, with a logged warning, only when ``font-roboto`` is
not installed.
"""

from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from importlib import resources
from io import BytesIO

from PIL import ImageFont

from common.errors import RenderError

#: The package shipping the default face, and the default face's file inside it.
FONT_PACKAGE = "font_roboto"
FONT_FILE = "Roboto-Regular.ttf"
#: Searched (recursively, in this order) for other families; the user's own fonts are not, so
#: every node with the same image draws the same pixels.
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")

#: A weight at or above this draws bold.
BOLD = 600
#: Stroke radius of a synthetic bold, as a fraction of the font size: about the difference in
#: stem width between Roboto Regular and Bold, split between the two sides of a stem.
SYNTHETIC_BOLD = 1 / 40

#: Style names in font file names, and the CSS weight each stands for.
_STYLE_WEIGHTS = {
    "thin": 100,
    "hairline": 100,
    "extralight": 200,
    "ultralight": 200,
    "light": 300,
    "": 400,
    "regular": 400,
    "book": 400,
    "normal": 400,
    "medium": 500,
    "semibold": 600,
    "demibold": 600,
    "bold": 700,
    "extrabold": 800,
    "ultrabold": 800,
    "black": 900,
    "heavy": 900,
}

_SANS, _SERIF, _MONO = "roboto", "dejavuserif", "dejavusansmono"
#: Generic CSS families and names of fonts render nodes do not ship, to the family drawn instead.
ALIASES = {
    "sansserif": _SANS,
    "systemui": _SANS,
    "uisansserif": _SANS,
    "applesystem": _SANS,
    "arial": _SANS,
    "helvetica": _SANS,
    "helveticaneue": _SANS,
    "inter": _SANS,
    "opensans": _SANS,
    "segoeui": _SANS,
    "sfprodisplay": _SANS,
    "serif": _SERIF,
    "uiserif": _SERIF,
    "times": _SERIF,
    "timesnewroman": _SERIF,
    "georgia": _SERIF,
    "cambria": _SERIF,
    "garamond": _SERIF,
    "monospace": _MONO,
    "uimonospace": _MONO,
    "courier": _MONO,
    "couriernew": _MONO,
    "consolas": _MONO,
    "menlo": _MONO,
    "monaco": _MONO,
    "verdana": "dejavusans",
    "tahoma": "dejavusans",
}

FreeTypeFont = ImageFont.FreeTypeFont

#: One font file: where its bytes come from ("package" file name or "path") and the location.
FontFile = tuple[str, str]

log = logging.getLogger(__name__)


@lru_cache(maxsize=32)
def font(size: int) -> FreeTypeFont:
    """Roboto Regular at ``size`` pixels, cached per size (Pillow's font if Roboto is missing)."""
    data = _font_data()
    if data is None:
        return _default_font(size)
    return _load(BytesIO(data), FONT_FILE, size)


@lru_cache(maxsize=64)
def face(family: str, weight: int, size: int) -> tuple[FreeTypeFont, float]:
    """The font drawing ``family`` at CSS ``weight`` and ``size`` px, and the stroke radius in
    pixels of a synthetic bold (0 when the file drawn has the weight asked for)."""
    chosen = _resolve(family, weight)
    if chosen is None:
        fnt, have = font(size), 400
    else:
        location, have = chosen
        fnt = load_file(location, size)
    bold = size * SYNTHETIC_BOLD if weight >= BOLD and have < BOLD else 0.0
    return fnt, bold


def clear_caches() -> None:
    """Forget loaded fonts and the font index (after fonts were installed, removed or patched)."""
    for cached in (font, face, _resolve, _index, _collections, _font_data, _package_bytes):
        # getattr: a test may have put a plain function in a cached one's place.
        clear = getattr(cached, "cache_clear", None)
        if clear is not None:
            clear()
    # Imported here: the fallback module is built on this one.
    from workers import subtitle_fallback

    subtitle_fallback.clear_caches()


def family_names(family: str) -> list[str]:
    """The names of a CSS ``font-family`` list, normalised (lower case, letters and digits)."""
    names = (re.sub(r"[^0-9a-z]", "", part.lower()) for part in family.split(","))
    return [name for name in names if name]


@lru_cache(maxsize=64)
def _resolve(family: str, weight: int) -> tuple[FontFile, int] | None:
    """The file (and its weight) drawing a family list at a weight; None = Pillow's font."""
    index = _index()
    names = family_names(family)
    for name in names:
        key = ALIASES.get(name, name)
        if key in index:
            return _match_weight(index[key], weight)
    if missing_family(family):
        log.warning(
            "no font of the family %r is installed on this node: its subtitles draw in the "
            "default face (install the font, e.g. Debian's fonts-dejavu-core for serif and "
            "monospace, on every render node so they all draw alike)",
            family if len(family) <= 80 else family[:77] + "...",
        )
    if _SANS in index:
        return _match_weight(index[_SANS], weight)
    return None


def missing_family(family: str) -> bool:
    """Whether no name of a CSS family list is installed here (other than names meaning the
    default sans-serif face), so that the default face draws it instead."""
    index = _index()
    names = family_names(family)
    if any(ALIASES.get(name, name) in index for name in names):
        return False
    return bool(names) and not all(ALIASES.get(name) == _SANS for name in names)


def face_name(family: str, weight: int) -> str:
    """The name of the font file that draws a family at a weight ("Roboto-Regular")."""
    chosen = _resolve(family, weight)
    if chosen is None:
        return "Pillow's built-in font"
    return os.path.splitext(os.path.basename(chosen[0][1]))[0]


def resolved(family: str, weight: int) -> tuple[FontFile, int] | None:
    """The file (and its weight) drawing a family list at a weight; None = Pillow's font."""
    return _resolve(family, weight)


def font_files() -> list[FontFile]:
    """Every font file subtitles may draw with, sorted: the families' files and, for fallback,
    the system's font collections (what the render fingerprint hashes)."""
    index = _index()
    found = {where for weights in index.values() for where in weights.values()}
    found.update(("path", path) for path in _collections())
    return sorted(found)


def font_bytes(where: FontFile) -> bytes:
    """The bytes of a font file (a package file or a path)."""
    if where[0] == "package":
        return _package_bytes(where[1])
    with open(where[1], "rb") as handle:
        return handle.read()


def load_file(where: FontFile, size: int) -> FreeTypeFont:
    """A font file at ``size`` pixels (the first face of a collection)."""
    if where == ("package", FONT_FILE):
        return font(size)
    if where[0] == "package":
        return _load(BytesIO(_package_bytes(where[1])), where[1], size)
    return _load(where[1], where[1], size)


def _match_weight(files: dict[int, FontFile], want: int) -> tuple[FontFile, int]:
    """The CSS font-matching choice of weight among a family's files (CSS Fonts 4, 5.2)."""
    have = sorted(files)
    lighter = [w for w in reversed(have) if w < want]
    heavier = [w for w in have if w > want]
    if want in files:
        order = [want]
    elif 400 <= want <= 500:
        up_to_500 = [w for w in heavier if w <= 500]
        order = up_to_500 + lighter + [w for w in heavier if w > 500]
    elif want < 400:
        order = lighter + heavier
    else:
        order = heavier + lighter
    return files[order[0]], order[0]


@lru_cache(maxsize=1)
def _index() -> dict[str, dict[int, FontFile]]:
    """Upright font files by normalised family and weight: the package first, then the system."""
    index: dict[str, dict[int, FontFile]] = {}
    for name in _package_files():
        _add(index, name, ("package", name))
    for top in SYSTEM_FONT_DIRS:
        for root, dirs, files in os.walk(top):
            dirs.sort()  # the same first match on every node
            for name in sorted(files):
                if name.lower().endswith((".ttf", ".otf")):
                    _add(index, name, ("path", os.path.join(root, name)))
    return index


@lru_cache(maxsize=1)
def _collections() -> tuple[str, ...]:
    """Font collections (.ttc, .otc: CJK faces usually come so) in the system font directories,
    in a fixed order; fallback draws with the first face of each."""
    found: list[str] = []
    for top in SYSTEM_FONT_DIRS:
        for root, dirs, files in os.walk(top):
            dirs.sort()
            found += [
                os.path.join(root, name)
                for name in sorted(files)
                if name.lower().endswith((".ttc", ".otc"))
            ]
    return tuple(found)


def _add(index: dict[str, dict[int, FontFile]], file_name: str, where: FontFile) -> None:
    stem = os.path.splitext(file_name)[0]
    family, _, style = stem.rpartition("-") if "-" in stem else (stem, "", "")
    style_key = re.sub(r"[^0-9a-z]", "", style.lower())
    weight = _STYLE_WEIGHTS.get(style_key)
    if weight is None:  # italics, obliques, condensed styles: not an upright face of a weight
        return
    key = re.sub(r"[^0-9a-z]", "", family.lower())
    index.setdefault(key, {}).setdefault(weight, where)


def _package_files() -> list[str]:
    try:
        folder = resources.files(FONT_PACKAGE) / "files"
        return sorted(p.name for p in folder.iterdir() if p.name.lower().endswith(".ttf"))
    except (ModuleNotFoundError, OSError):
        return []


@lru_cache(maxsize=1)
def _font_data() -> bytes | None:
    """The default face's bytes, read once (zipped installs too); None without the package."""
    try:
        resources.files(FONT_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name != FONT_PACKAGE:
            raise
        log.warning(
            "the font-roboto package is not installed: subtitles fall back to Pillow's built-in "
            "font, which draws only ASCII (other characters become boxes) and looks different "
            "from nodes that have Roboto; install font-roboto"
        )
        return None
    return _package_bytes(FONT_FILE)


@lru_cache(maxsize=16)
def _package_bytes(name: str) -> bytes:
    try:
        return (resources.files(FONT_PACKAGE) / "files" / name).read_bytes()
    except OSError as exc:
        raise RenderError(
            f"the {FONT_PACKAGE} package has no readable files/{name} ({exc}); "
            "reinstall font-roboto"
        ) from exc


def _load(source: BytesIO | str, name: str, size: int) -> FreeTypeFont:
    try:
        return ImageFont.truetype(source, size)
    except ImportError as exc:  # Pillow's FreeType module is missing
        raise _no_freetype(size) from exc
    except OSError as exc:
        raise RenderError(
            f"cannot load subtitle font {os.path.basename(name)} at {size} px ({exc}); "
            "reinstall the font (font-roboto for the default face)"
        ) from exc


def _default_font(size: int) -> FreeTypeFont:
    loaded = ImageFont.load_default(size=size)
    # Without FreeType, Pillow silently falls back to a fixed-size bitmap font.
    if not isinstance(loaded, ImageFont.FreeTypeFont) or loaded.size != size:
        raise _no_freetype(size)
    return loaded


def _no_freetype(size: int) -> RenderError:
    return RenderError(
        "Pillow was built without FreeType support, so subtitles cannot be drawn at "
        f"{size} px; install a Pillow wheel with FreeType"
    )
