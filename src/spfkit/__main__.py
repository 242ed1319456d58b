"""``python -m spfkit`` runs the command line."""

import sys

from spfkit.cli import main

sys.exit(main())
