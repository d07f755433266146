#!/usr/bin/env bash
# Create .venv and install the project with its development tools (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
# An editable install leaves our own sources uncompiled, and where PYTHONDONTWRITEBYTECODE is
# set (many CI and container images set it) every process (the client, each worker, each
# chunk's render process) compiled some 370 modules again at its start: 0.6-0.9 CPU-s each.
.venv/bin/python -m compileall -q -j 0 cli chunking common orchestrator providers server workers monitoring > /dev/null
