"""The project's one exception tree.

    RenderError                     root: everything we raise on purpose
    ├── TimelineError               the project file is wrong (deterministic; never retried)
    │   └── ValidationError         carries every problem found, each naming clip/track and field
    ├── MediaError                  a source asset cannot be used (deterministic)
    │   ├── AssetNotFound           missing or unreadable file
    │   └── DecodeError             corrupt or undecodable media
    ├── EncodeError                 the encoder or container refused the settings
    ├── MergeError                  a segment or the audio cannot be stitched (missing, unreadable)
    ├── RenderCancelled             a render was stopped on purpose
    └── ClusterError                the cluster's Redis failed a call of the Python API
        ├── ClusterUnreachable      cannot be reached, or timed out (transient)
        └── ClusterRefused          answered with an error (an ACL refusal, out of memory)

Every message says what to fix: which clip, track, field or asset.
"""

from __future__ import annotations

from collections.abc import Sequence


class RenderError(Exception):
    """Base class of every error this project raises on purpose."""

    #: Deterministic errors fail at once; transient ones may be retried.
    transient: bool = False


class TimelineError(RenderError):
    """The timeline file is malformed or describes something that cannot be rendered."""


#: Problems a one-line message shows before "and N more" (``.problems`` keeps every one).
SHOWN_PROBLEMS = 5
#: Characters of each shown problem, when there are several, before it is cut with "...".
PROBLEM_CHARS = 240


def summarize(problems: Sequence[str], shown: int = SHOWN_PROBLEMS) -> str:
    """Problems as one line: the first `shown`, then "and N more" (a project with hundreds of
    broken clips must not print a screenful on one line)."""
    if len(problems) == 1:
        return _one_line(problems[0])
    head = [_clip(_one_line(p)) for p in problems[:shown]]
    rest = len(problems) - len(head)
    return f"{len(problems)} problems: " + "; ".join(head) + (f"; and {rest} more" if rest else "")


def _one_line(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "\r" in text else text


def _clip(text: str) -> str:
    return text if len(text) <= PROBLEM_CHARS else text[: PROBLEM_CHARS - 3].rstrip() + "..."


class ValidationError(TimelineError):
    """One or more problems found while validating a timeline, reported together.

    ``str()`` is one line that names the first few (``summarize``); ``problems`` has them all.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(summarize(self.problems))


class MediaError(RenderError):
    """A source asset cannot be used for rendering."""


class AssetNotFound(MediaError):
    """A media file referenced by the timeline is missing or unreadable."""


class DecodeError(MediaError):
    """A media file is corrupt or cannot be decoded."""


class EncodeError(RenderError):
    """The encoder or container rejected the requested output settings."""


class MergeError(RenderError):
    """A segment (or the audio) is missing, unreadable or inconsistent with the others."""


class RenderCancelled(RenderError):
    """A render was stopped on purpose before it finished."""


class ClusterError(RenderError):
    """The cluster's Redis failed a call of the Python API; the Redis client's exception is
    kept as ``__cause__`` (the command line and the HTTP service word it from there)."""


class ClusterUnreachable(ClusterError):
    """The cluster's Redis could not be reached or did not answer in time."""

    transient = True


class ClusterRefused(ClusterError):
    """The cluster's Redis answered with an error: the user may not run the command (ACL), it
    is out of memory, or it is a read-only replica."""
