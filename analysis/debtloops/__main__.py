"""``python -m debtloops``: the same command line as the ``debtloops`` console script."""

import sys

from debtloops.entry import main

if __name__ == "__main__":
    sys.exit(main())
