"""Temporary names in an output folder: every file is written under one, then renamed into place.

A temporary name starts with :data:`SCRATCH_PREFIX` and the writer's process id
(:func:`scratch_prefix`), so that whoever holds the folder's lock next can remove what a writer
that is no longer running left (:func:`remove_stale_scratch`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: Temporary files and folders start with this; a later writer removes any that are left.
SCRATCH_PREFIX = ".debtloops-tmp-"


def current_umask() -> int:
    """Return the process's file-mode creation mask, without changing it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # not atomic between threads, hence only a fallback
    os.umask(mask)
    return mask


def scratch_prefix(name: str) -> str:
    """Return the start of a temporary name for ``name``: :data:`SCRATCH_PREFIX`, process id, name.

    The process id tells :func:`remove_stale_scratch` whether the writer is still running.
    """
    return f"{SCRATCH_PREFIX}{os.getpid()}-{name}-"


def _writer_running(entry: str) -> bool:
    """Tell whether the process that made the temporary ``entry`` is still running."""
    pid, _, _ = entry.removeprefix(SCRATCH_PREFIX).partition("-")
    if not pid.isdigit():
        return False  # not named by :func:`scratch_prefix`: an older writer's, long gone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # a process of another user, or a number no process has: leave it
    return True


def remove_stale_scratch(folder: Path) -> None:
    """Remove what a killed writer left in ``folder``: entries named :data:`SCRATCH_PREFIX`...

    Entries of a writer that is still running (:func:`scratch_prefix`) are left alone. Call it
    only while holding the folder's lock (:func:`output_lock`).
    """
    try:
        entries = [
            p
            for p in folder.iterdir()
            if p.name.startswith(SCRATCH_PREFIX) and not _writer_running(p.name)
        ]
    except OSError:
        return
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
