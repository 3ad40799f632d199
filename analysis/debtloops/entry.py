"""The console script: load the command line, answering a Ctrl-C that comes while it loads.

Loading reads one model file, the holder list (``models/holders.toml``), which the modules build
their tables from; a mistake in it is refused in one line, as a mistake in any input is.
"""

import sys

from debtloops.errors import DebtloopsError, printable

INTERRUPTED = 130


def main() -> int:
    """Import and run the command line; exit 130 with one line if interrupted while importing."""
    try:
        from debtloops.cli import main as run
    except KeyboardInterrupt:
        print("debtloops: interrupted while starting; nothing was run or written", file=sys.stderr)
        return INTERRUPTED
    except DebtloopsError as error:
        print(f"debtloops: error: {printable(str(error))}", file=sys.stderr)
        return error.exit_code
    return run()
