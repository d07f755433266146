"""``python -m orchestrator`` runs the cloudrender command line."""

import sys

from orchestrator.cli import main

sys.exit(main())
