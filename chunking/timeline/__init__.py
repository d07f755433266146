"""The timeline model and the importers that build it.

Lives here: `model` (Timeline, tracks, clips, effects: frames as integers at a rational rate),
`project` (a project read once: document, base directory and Timeline), `loader` (opening a file
of either format), `studio` (Timeline Studio's ProjectSchema JSON, with its parts in
`studio_visual`, `studio_transitions`, `studio_subtitles` and its limits in `schema`), `otio`
and `otio_read` (OpenTimelineIO), `export` (export settings), `fields`, `catalogue` and `frames`
(parsing helpers, the effect catalogue, frame maths). May import `common` only.
"""
