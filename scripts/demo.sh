#!/usr/bin/env bash
# Set everything up and render the bundled demo project to demo.mp4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/cloudrender render examples/demo.json -o "${1:-demo.mp4}"
