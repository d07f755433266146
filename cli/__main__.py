"""``python -m cli`` runs the cloudrender command line."""

import sys

from cli.main import main

sys.exit(main())
