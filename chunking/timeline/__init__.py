"""The timeline model and the importers that build it.

Lives here: `model` (Timeline, tracks, clips, effects: frames as integers at a rational rate),
`project` (a project read once: document, base directory and Timeline), `loader` (opening a file
of either format), `studio` (Timeline Studio's ProjectSchema JSON, with its parts in
`studio_*` modules (clips, sources, effects and their parameters, transitions, subtitles,
templates) and its limits in `schema`), `studio_editor` and its `studio_editor_*` parts (the
editor's camelCase, `.tlsp` and `.tls` documents, converted to a ProjectSchema document), `otio`
and its `otio_*` parts (OpenTimelineIO: reading, time maps, nesting, transitions, media),
`audio_catalogue` (audio effects), `export` (export settings), `fields`, `catalogue` and `frames`
(parsing helpers, the effect catalogue, frame maths). May import `common` only.
"""
