"""``python -m debtloops.cli``: the command line, as ``python -m debtloops`` runs it."""

import sys

from debtloops.cli import main

if __name__ == "__main__":
    sys.exit(main())
