"""What an editor's export is by its content, against what its suffix says it is.

The loader picks an export's reader by its suffix; an export saved or renamed under another
format's suffix failed in that reader's words: an FCP 7 XML named ``.fcpxml`` as fifteen "has
no duration" errors, an FCPXML named ``.xml`` as "No top-level sequences found", an AAF named
``.otio`` as "not UTF-8 text", an OTIO file named ``.edl`` as "holds no events".
``check_kind`` names what the file is and the suffix to give it instead.
"""

from __future__ import annotations

import codecs
import os
import re

from common.errors import TimelineError

#: The bytes of a file's start that are looked at.
_HEAD = 4096
#: How an AAF (a Microsoft compound file) begins.
_AAF_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
#: An XML document's first element, after its declaration, comments and doctype.
_ROOT = re.compile(
    r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<([A-Za-z_][\w.:-]*)", re.S
)
#: An EDL's first line: its title, or an event (number, reel, channels, transition).
_EDL = re.compile(r"\A\s*(?:TITLE\s*:|\d{3,}\s+\S+\s+\S+\s+[CDWK])", re.IGNORECASE)

#: Each kind: its name in a message (with its article) and the suffix its reader goes by.
_KINDS = {
    "aaf": ("an AAF file", ".aaf"),
    "fcpxml": ("an FCPXML file (<fcpxml>)", ".fcpxml"),
    "xmeml": ("a Final Cut Pro 7 XML file (<xmeml>)", ".xml"),
    "otio": ("an OpenTimelineIO file", ".otio"),
    "edl": ("a CMX 3600 EDL file", ".edl"),
}


def check_kind(path: str) -> None:
    """Refuse an export whose content is another format than its suffix names, saying which
    and the suffix to give it; say nothing when its content is no format known here (its
    reader names what is wrong)."""
    suffix = os.path.splitext(path)[1].lower()
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
    except OSError:
        return  # the reader names the file it cannot open
    kind = _kind(head)
    if kind is None:
        return
    name, right = _KINDS[kind]
    if right == suffix:
        return
    raise TimelineError(
        f"{path}: is {name}, not {suffix} as its name says; name it {right} to load it"
    )


def _kind(head: bytes) -> str | None:
    """The kind the first bytes of a file show, or None."""
    if head.startswith(_AAF_SIGNATURE):
        return "aaf"
    text = _text(head)
    root = _ROOT.match(text)
    if root is not None:
        tag = root[1].lower()
        return tag if tag in ("fcpxml", "xmeml") else None
    if text.lstrip().startswith("{") and '"OTIO_SCHEMA"' in text:
        return "otio"
    if _EDL.match(text):
        return "edl"
    return None


def _text(head: bytes) -> str:
    """The first bytes as text: UTF-16 where a byte-order mark says so, else byte by byte
    (enough to see markup and keywords)."""
    for mark, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(mark):
            return head[len(mark) :].decode(codec, "ignore")
    return head.removeprefix(codecs.BOM_UTF8).decode("latin-1")
