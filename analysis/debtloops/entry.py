"""The console script: load the command line, answering a Ctrl-C that comes while it loads."""

import sys

INTERRUPTED = 130


def main() -> int:
    """Import and run the command line; exit 130 with one line if interrupted while importing."""
    try:
        from debtloops.cli import main as run
    except KeyboardInterrupt:
        print("debtloops: interrupted while starting; nothing was run or written", file=sys.stderr)
        return INTERRUPTED
    return run()
