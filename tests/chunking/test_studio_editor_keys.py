"""Keys of the editor's project files that nothing reads (a .tlsp's, its sequence's, a .tls's)
are named, each with the key it may have meant, as ProjectSchema's are; the editor's own files
raise none."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.studio_editor import convert

DATA = Path(__file__).resolve().parents[1] / "data" / "timeline-studio-editor"
TLSP = json.loads((DATA / "interview.tlsp").read_text(encoding="utf-8"))
TLS = json.loads((DATA / "test-project-with-videos.json").read_text(encoding="utf-8"))
SEQ = "sequence 'Interview - Sequence 1'"


def unknown_keys(doc: dict[str, Any]) -> list[str]:
    """The conversion's warnings about unknown keys."""
    converted = convert(doc, str(DATA), disk=False)
    assert converted is not None
    return [w for w in converted.warnings if "unknown key" in w]


def _sequence(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["sequences"][doc["activeSequenceId"]]
    return found


@pytest.mark.parametrize("doc", [TLSP, TLS], ids=["tlsp", "tls"])
def test_the_editors_own_files_name_no_key(doc: dict[str, Any]) -> None:
    assert unknown_keys(copy.deepcopy(doc)) == []


@pytest.mark.parametrize(
    ("edit", "warning"),
    [
        (lambda d: d.update(activeSequenceID="x"),
         "project: unknown key 'activeSequenceID' (did you mean 'activeSequenceId'?) ignored"),
        (lambda d: d["metadata"].update(nmae="x"),
         "metadata: unknown key 'nmae' (did you mean 'name'?) ignored"),
        (lambda d: d["settings"].update(frameRte=25),
         "settings: unknown key 'frameRte' (did you mean 'frameRate'?) ignored"),
        (lambda d: d["settings"]["audio"].update(masterVolum=0.5),
         "settings.audio: unknown key 'masterVolum' (did you mean 'masterVolume'?) ignored"),
        (lambda d: _sequence(d).update(renderSetings={}),
         f"{SEQ}: unknown key 'renderSetings' (did you mean 'renderSettings'?) ignored"),
        (lambda d: _sequence(d)["settings"].update(timbase={}),
         f"{SEQ} settings: unknown key 'timbase' (did you mean 'timebase'?) ignored"),
        (lambda d: _sequence(d)["settings"]["audio"].update(sampleRte=44100),
         f"{SEQ} settings.audio: unknown key 'sampleRte' (did you mean 'sampleRate'?) ignored"),
        (lambda d: _sequence(d)["composition"].update(trakcs=[]),
         f"{SEQ} composition: unknown key 'trakcs' (did you mean 'tracks'?) ignored"),
        (lambda d: _sequence(d)["renderSettings"].update(inPiont=2),
         f"{SEQ} renderSettings: unknown key 'inPiont' (did you mean 'inPoint'?) ignored"),
    ],
)  # fmt: skip
def test_a_tlsp_key_nothing_reads_is_named(edit: Any, warning: str) -> None:
    doc = copy.deepcopy(TLSP)
    edit(doc)
    assert unknown_keys(doc) == [warning]


@pytest.mark.parametrize(
    ("edit", "warning"),
    [
        (lambda d: d.update(mediaLibary={}),
         "project: unknown key 'mediaLibary' (did you mean 'mediaLibrary'?) ignored"),
        (lambda d: d["settings"].update(resolutoin="1280x720"),
         "settings: unknown key 'resolutoin' (did you mean 'resolution'?) ignored"),
        (lambda d: d.update(meta={"version": "1", "lastModifed": 0}),
         "meta: unknown key 'lastModifed' (did you mean 'lastModified'?) ignored"),
        (lambda d: d["timeline"].update(trakcs=[]),
         "timeline: unknown key 'trakcs' (did you mean 'tracks'?) ignored"),
    ],
)  # fmt: skip
def test_a_tls_key_nothing_reads_is_named(edit: Any, warning: str) -> None:
    doc = copy.deepcopy(TLS)
    edit(doc)
    assert unknown_keys(doc) == [warning]
