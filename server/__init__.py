"""The HTTP service (``cloudrender serve``): versioned JSON routes over the Python API, API-key
auth, live progress as Server-Sent Events, content-addressed asset upload and the web dashboard.
An entry point: only the CLI imports it (to start it)."""
