"""`python -m handoff.cli ...`, the same as the `handoff` command."""

import sys

from handoff.cli import main

sys.exit(main())
