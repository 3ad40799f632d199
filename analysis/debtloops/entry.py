"""The console script: load the command line, answering a Ctrl-C that comes while it loads.

Loading reads one model file, the holder list (``models/holders.toml``), which the modules build
their tables from; a mistake in it is refused in one line, as a mistake in any input is. The
command line loads a command's modules only once it knows the command
(:mod:`debtloops.cli.commands`), and answers a failure then with :func:`refused_start` too.
"""

import sys

from debtloops.errors import DebtloopsError, printable

INTERRUPTED = 130


def refused_start(error: KeyboardInterrupt | DebtloopsError) -> int:
    """Say in one line why the command line stopped while loading; return the exit status."""
    if isinstance(error, KeyboardInterrupt):
        print("debtloops: interrupted while starting; nothing was run or written", file=sys.stderr)
        return INTERRUPTED
    print(f"debtloops: error: {printable(str(error))}", file=sys.stderr)
    return error.exit_code


def main() -> int:
    """Import and run the command line; exit 130 with one line if interrupted while importing."""
    try:
        from debtloops.cli import main as run
    except (KeyboardInterrupt, DebtloopsError) as error:
        return refused_start(error)
    return run()
