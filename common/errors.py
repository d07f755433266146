"""The project's one exception tree.

    RenderError                     root: everything we raise on purpose
    ├── TimelineError               the project file is wrong (deterministic; never retried)
    │   └── ValidationError         carries every problem found, each naming clip/track and field
    ├── MediaError                  a source asset cannot be used (deterministic)
    │   ├── AssetNotFound           missing or unreadable file
    │   └── DecodeError             corrupt or undecodable media
    ├── EncodeError                 the encoder or container refused the settings
    └── RenderCancelled             a render was stopped on purpose

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


class ValidationError(TimelineError):
    """One or more problems found while validating a timeline, reported together."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems: " + "; ".join(self.problems)
        super().__init__(message)


class MediaError(RenderError):
    """A source asset cannot be used for rendering."""


class AssetNotFound(MediaError):
    """A media file referenced by the timeline is missing or unreadable."""


class DecodeError(MediaError):
    """A media file is corrupt or cannot be decoded."""


class EncodeError(RenderError):
    """The encoder or container rejected the requested output settings."""


class RenderCancelled(RenderError):
    """A render was stopped on purpose before it finished."""
