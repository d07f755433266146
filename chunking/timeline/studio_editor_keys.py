"""The keys the editor's project files hold, and the warning for any other: a ``.tlsp``
(TimelineStudioProject, its metadata and settings, each sequence's settings, composition and
render range) and a legacy ``.tls`` (ProjectFile).

The sets are the editor's types (src/features/project-settings/types/timeline-studio-project.ts,
project.ts; src/features/timeline/types/sequence.ts) plus what its files hold besides (a saved
``.tls`` media library's ``favoriteFiles`` and ``workspaceSettings``; the e2e fixture's
``created``/``modified``/``version``). A key outside them is a typo (``frameRte``, which
leaves the rate at 30) or another program's: named once with the closest key, and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems
from chunking.timeline.studio_keys import warn_unknown

#: TimelineStudioProject.
TLSP_KEYS = frozenset(
    "metadata settings mediaPool sequences activeSequenceId cache workspace collaboration "
    "backup extensions".split()
)
#: ProjectMetadata.
TLSP_METADATA_KEYS = frozenset(
    "id name version created modified author description tags thumbnail platform appVersion".split()
)
#: ProjectSettings and the .tlsp's audio, preview and exportPresets.
TLSP_SETTINGS_KEYS = frozenset(
    "aspectRatio resolution frameRate colorSpace audio preview exportPresets".split()
)
TLSP_AUDIO_KEYS = frozenset("sampleRate bitDepth channels masterVolume panLaw".split())
TLSP_PREVIEW_KEYS = frozenset("resolution quality renderDuringPlayback useGPU".split())
#: Sequence.
SEQUENCE_KEYS = frozenset(
    "id name type settings composition resources markers history historyPosition metadata "
    "renderSettings".split()
)
#: SequenceSettings (``masterVolume``: the loader reads a sequence's own, as the project's).
SEQUENCE_SETTINGS_KEYS = frozenset(
    "resolution frameRate aspectRatio duration timebase audio colorSpace hdr".split()
)
SEQUENCE_AUDIO_KEYS = frozenset("sampleRate bitDepth channels masterVolume".split())
COMPOSITION_KEYS = frozenset("tracks masterClips automation".split())
RENDER_SETTINGS_KEYS = frozenset("inPoint outPoint selectedTracks useProxy".split())

#: ProjectFile (.tls), what the loader reads of it, and what the editor's files hold besides.
TLS_KEYS = frozenset(
    "settings mediaLibrary mediaPool browserState projectFavorites favoriteFiles "
    "workspaceSettings timeline meta resources name id description created modified "
    "version".split()
)
TLS_SETTINGS_KEYS = frozenset(
    "aspectRatio resolution frameRate colorSpace duration fps sampleRate".split()
)
TLS_META_KEYS = frozenset("version createdAt lastModified originalPlatform".split())
TLS_TIMELINE_KEYS = frozenset({"tracks", "resources"})


def _check(raw: Any, known: frozenset[str], what: str, p: Problems, where: str) -> None:
    if isinstance(raw, Mapping):
        warn_unknown(raw, known, what, p, where)


def warn_unknown_tlsp(data: Mapping[str, Any], sequence: Mapping[str, Any], p: Problems) -> None:
    """Name the keys of a .tlsp, its metadata and settings, and of the sequence rendered (its
    settings, composition and render range) that nothing reads."""
    _check(data, TLSP_KEYS, "a .tlsp project's", p, "project")
    _check(data.get("metadata"), TLSP_METADATA_KEYS, "the metadata's", p, "metadata")
    settings = data.get("settings")
    _check(settings, TLSP_SETTINGS_KEYS, "the settings'", p, "settings")
    if isinstance(settings, Mapping):
        _check(settings.get("audio"), TLSP_AUDIO_KEYS, "settings.audio's", p, "settings.audio")
        preview = settings.get("preview")
        _check(preview, TLSP_PREVIEW_KEYS, "settings.preview's", p, "settings.preview")
    name = sequence.get("name") or sequence.get("id")
    where = f"sequence {str(name)[:60]!r}"
    _check(sequence, SEQUENCE_KEYS, "a sequence's", p, where)
    seq_settings = sequence.get("settings")
    _check(seq_settings, SEQUENCE_SETTINGS_KEYS, "a sequence's settings'", p, f"{where} settings")
    if isinstance(seq_settings, Mapping):
        audio = seq_settings.get("audio")
        _check(audio, SEQUENCE_AUDIO_KEYS, "settings.audio's", p, f"{where} settings.audio")
    composition = sequence.get("composition")
    _check(composition, COMPOSITION_KEYS, "a composition's", p, f"{where} composition")
    render = sequence.get("renderSettings")
    _check(render, RENDER_SETTINGS_KEYS, "renderSettings'", p, f"{where} renderSettings")


def warn_unknown_tls(data: Mapping[str, Any], p: Problems) -> None:
    """Name the keys of a legacy .tls project, its settings, meta and timeline that nothing
    reads."""
    _check(data, TLS_KEYS, "a .tls project's", p, "project")
    _check(data.get("settings"), TLS_SETTINGS_KEYS, "the settings'", p, "settings")
    _check(data.get("meta"), TLS_META_KEYS, "meta's", p, "meta")
    _check(data.get("timeline"), TLS_TIMELINE_KEYS, "the timeline's", p, "timeline")
