"""A project file's bytes as text: UTF-8, or what its byte-order mark says (Windows tools,
Notepad's "Unicode", Avid and PowerShell write UTF-16 or UTF-32 with one), UTF-16 or UTF-32
without one told by its zero bytes, and an XML file as its declaration says. The readers
behind (json, OTIO's adapters, ElementTree given a str) then read the text whatever encoding
it was stored in.
"""

from __future__ import annotations

import codecs
import re

from common.errors import TimelineError

#: Byte-order marks and their codecs, UTF-32's first: its little-endian mark starts with
#: UTF-16's.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
#: The encoding an XML declaration names (it is ASCII in every encoding without a mark).
_DECLARED = re.compile(
    rb"""<\?xml[^>]{0,200}?\bencoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z0-9._-]{1,40})["']"""
)
_DECLARED_TEXT = re.compile(
    r"""\A(\s*<\?xml[^>]{0,200}?\bencoding[ \t\r\n]*=[ \t\r\n]*["'])([A-Za-z0-9._-]{1,40})(["'])"""
)


def by_mark(data: bytes, source: str) -> str | None:
    """The text of bytes that start with a byte-order mark, decoded as it says (without it);
    None without one. TimelineError naming ``source`` when the bytes are not what it says."""
    for mark, codec, name in _MARKS:
        if data.startswith(mark):
            try:
                return data[len(mark) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise TimelineError(
                    f"{source}: starts with a {name} byte-order mark but is not {name} text "
                    f"({exc.reason} at byte {exc.start + len(mark)})"
                ) from None
    return None


def by_zero_bytes(data: bytes, source: str) -> str | None:
    """The text of UTF-16 or UTF-32 bytes without a byte-order mark, told by where the zero
    bytes of its first (ASCII) character fall, as RFC 8259 tells JSON's; None for other bytes.
    TimelineError naming ``source`` when they are not that text after all."""
    # Every project, export and EDL starts with an ASCII character. Such bytes are valid
    # UTF-8 too (NUL is a character), so they used to reach the readers as text with a NUL
    # between letters: "holds no events", "holds no timeline", "invalid JSON".
    head = data[:4]
    if len(head) < 4 or (head[0] and head[1]):
        return None
    if not head[0]:
        codec, name = ("utf-16-be", "UTF-16") if head[1] else ("utf-32-be", "UTF-32")
    else:
        codec, name = ("utf-16-le", "UTF-16") if head[2] or head[3] else ("utf-32-le", "UTF-32")
    try:
        start = codecs.getincrementaldecoder(codec)().decode(data[:64], final=False)
    except UnicodeDecodeError:
        return None  # binary (a video's 00 00 00 20 ftyp): "not UTF-8 text" says it
    if not start or not (start[0].isascii() and (start[0].isprintable() or start[0].isspace())):
        return None
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise TimelineError(
            f"{source}: looks like {name} text without a byte-order mark (zero bytes between "
            f"its first characters) but is not ({exc.reason} at byte {exc.start}); save it as "
            "UTF-8"
        ) from None


def read_text(path: str) -> str:
    """A text file's content: as its byte-order mark says, else UTF-8; TimelineError naming
    the file when it is neither."""
    data = _read(path)
    text = by_mark(data, path)
    if text is None:
        text = by_zero_bytes(data, path)
    if text is not None:
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TimelineError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start}); save it as "
            "UTF-8 (or UTF-16 with a byte-order mark)"
        ) from None


def read_xml(path: str, kind: str) -> str:
    """An XML file's content: as its byte-order mark says, else as its declaration says, else
    UTF-8; TimelineError naming the file (a ``kind`` file) when it is none of them or names an
    unknown encoding."""
    data = _read(path)
    text = by_mark(data, path)
    if text is None:
        text = by_zero_bytes(data, path)
    if text is not None:
        return text
    found = _DECLARED.search(data[:300])
    codec = "utf-8"
    if found is not None:
        name = found.group(1).decode("ascii")
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            raise TimelineError(
                f"{path}: not readable {kind} (its XML declaration names the encoding "
                f"{name!r}, which is not known)"
            ) from None
        if codec.startswith(("utf-16", "utf-32")):
            # Without a mark the declaration was read as single bytes: the file is not
            # UTF-16 whatever it says (a tool rewrote it as UTF-8 and kept the line).
            codec = "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise TimelineError(
            f"{path}: not {codec} text as its XML declaration says ({exc.reason} at byte "
            f"{exc.start})"
        ) from None


def declared_utf8(text: str) -> str:
    """XML text with the encoding its declaration names made UTF-8: text already decoded
    (a project sent over HTTP) is stored as UTF-8, whatever the file it came from was."""
    return _DECLARED_TEXT.sub(r"\1UTF-8\3", text, count=1)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise TimelineError(f"{path}: cannot be read ({exc.strerror})") from None
