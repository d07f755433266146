"""How every file the renderer writes is muxed, whatever its container: bit-exact."""

from __future__ import annotations

from collections.abc import Mapping

#: FFmpeg's Matroska muxer (mkv, webm, and so every chunk segment and audio mix) writes a random
#: segment UID, random track UIDs and the time of writing, and its Ogg muxer (ogg, opus) random
#: stream serial numbers, unless told to write bit-exact files: the same render gave other bytes
#: each time. The other muxers then leave out only FFmpeg's version string ("Lavf62.12.103" as
#: the file's encoder tag), which no player reads.
BITEXACT = {"fflags": "+bitexact"}


def bitexact(options: Mapping[str, str] | None = None) -> dict[str, str]:
    """A muxer's ``options`` with bit-exact writing added."""
    return {**(options or {}), **BITEXACT}
