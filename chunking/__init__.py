"""Pure domain: the timeline model and its importers (`timeline/`), complexity and chunk planning.

No I/O beyond reading the project file. May import `common` only.
"""
