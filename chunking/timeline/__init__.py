"""The timeline model and the importers that build it.

Lives here: `model` (Timeline, tracks, clips, effects: frames as integers at a rational rate),
`project` (a project read once: document, base directory and Timeline), `studio` (Timeline
Studio's ProjectSchema JSON), `otio` (OpenTimelineIO), `loader` (opening a file of either
format), `export` (export settings), `fields`, `catalogue` and `frames` (parsing helpers, the
effect catalogue, frame maths). May import `common` only.
"""
