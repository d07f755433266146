"""Pure domain: the timeline model, importers, frame maths and chunk planning."""

from chunking.errors import RenderError, TimelineError, ValidationError
from chunking.loader import load
from chunking.timeline import Timeline

__all__ = ["RenderError", "Timeline", "TimelineError", "ValidationError", "load"]
