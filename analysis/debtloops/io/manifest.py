"""The manifest of an output folder: what debtloops wrote there, and which paths are the user's.

``DIR/.debtloops-manifest.json`` (:data:`MANIFEST_NAME`) lists every file debtloops wrote in the
folder, or a folder owned whole by its keystone's SHA-256; :func:`check_targets` refuses a path
that is not listed or no longer matches its entry (see :mod:`debtloops.io`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from pathlib import Path

from debtloops.errors import InputError
from debtloops.io.scratch import current_umask, scratch_prefix

#: The record of what debtloops wrote in an output folder (see :mod:`debtloops.io`).
MANIFEST_NAME = ".debtloops-manifest.json"
#: The manifest's format version, written into it.
MANIFEST_VERSION = 1
#: How much of a file is read at a time while hashing it [bytes].
HASH_BLOCK = 1 << 20
#: The kinds of manifest entries: a file, hashed; a folder rewritten in place, owned whole.
FILE, FOLDER = "file", "folder"

#: The command whose writes are recorded in manifests; the command line sets it.
_COMMAND: ContextVar[str] = ContextVar("debtloops_command", default="python")


def set_command(name: str) -> None:
    """Name the command whose files the manifests record from now on (e.g. ``"run"``)."""
    _COMMAND.set(name)


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's content, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _identity(path: Path, kind: str, keystone: str = "") -> str:
    """Return what a manifest entry of ``kind`` pins: a file's SHA-256, a folder's keystone's.

    A folder whose keystone is missing or not a regular file has the empty identity, which no
    entry accepts.
    """
    if kind == FILE:
        return file_sha256(path)
    stone = path / keystone
    if not keystone or stone.is_symlink() or not stone.is_file():
        return ""
    return file_sha256(stone)


def _entry(path: Path, kind: str = FILE, keystone: str = "") -> dict[str, object]:
    """Return the manifest entry of a file (or a folder owned whole) as it is now."""
    entry: dict[str, object] = {"kind": kind, "command": _COMMAND.get()}
    if kind == FILE:
        entry["sha256"] = _identity(path, FILE)
        entry["size"] = path.stat().st_size
    else:
        entry["keystone"] = keystone
        entry["keystone_sha256"] = _identity(path, FOLDER, keystone)
    return entry


def _key(entry: Mapping[str, object]) -> str:
    return "sha256" if entry.get("kind", FILE) == FILE else "keystone_sha256"


def _accepted(entry: Mapping[str, object]) -> list[str]:
    """Return the identities an entry accepts: its own, and the one it replaces, if any."""
    previous = entry.get("replaces")
    values = [entry.get(_key(entry)), *(previous if isinstance(previous, list) else [])]
    return [value for value in values if isinstance(value, str)]


def read_manifest(folder: Path) -> dict[str, dict]:
    """Return the manifest's entries by path relative to ``folder``; empty if it has none.

    A manifest that cannot be read or parsed counts as empty: nothing is then taken as ours.
    """
    try:
        data = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {name: e for name, e in entries.items() if isinstance(e, dict) and "kind" in e}


def _update_manifest(
    folder: Path, entries: Mapping[str, dict], dropped: Iterable[str] = ()
) -> None:
    """Merge ``entries`` into the manifest, less ``dropped``; call it holding the folder's lock.

    The manifest is re-read first, so entries another writer recorded meanwhile are kept, and
    replaced atomically.
    """
    current = read_manifest(folder)
    for name in dropped:
        current.pop(name, None)
    current.update(entries)
    text = json.dumps(
        {"format": "debtloops manifest", "version": MANIFEST_VERSION, "entries": current},
        indent=1,
        sort_keys=True,
    )
    handle, name = tempfile.mkstemp(prefix=scratch_prefix("manifest"), dir=folder)
    scratch = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
        os.chmod(scratch, 0o666 & ~current_umask())
        os.replace(scratch, Path(folder) / MANIFEST_NAME)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


def _pending(new: Mapping[str, dict], old: Mapping[str, dict]) -> dict[str, dict]:
    """Return entries for the moment of a replacement: each accepts the old content and the new."""
    pending = {}
    for name, entry in new.items():
        before = old.get(name)
        if before is None or before.get("kind") == entry["kind"]:
            pending[name] = {**entry, "replaces": _accepted(before) if before else []}
        else:
            pending[name] = before  # a file becoming a folder: the old one stays ours until then
    return pending


def _under(entries: Mapping[str, dict], name: str) -> dict[str, dict]:
    """Return the entries of ``name`` and of everything inside it."""
    inside = f"{name}/"
    return {key: e for key, e in entries.items() if key == name or key.startswith(inside)}


def _foreign(folder: Path, name: str, entries: Mapping[str, dict]) -> str | None:
    """Return the first path at or inside ``folder/name`` that debtloops did not write, or None.

    A regular file is ours if its entry's SHA-256 matches; a folder listed whole, if it is still
    the same folder (its keystone's SHA-256); any other folder, if everything inside it is ours and
    debtloops wrote a file somewhere inside it. Links, devices, FIFOs and sockets are never ours.
    """
    path = folder / name
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    entry = entries.get(name)
    if stat.S_ISREG(info.st_mode):
        ours = (
            entry is not None
            and entry.get("kind") == FILE
            and _identity(path, FILE) in _accepted(entry)
        )
        return None if ours else name
    if not stat.S_ISDIR(info.st_mode):
        return name
    if entry is not None and entry.get("kind") == FOLDER:
        keystone = str(entry.get("keystone", ""))
        return None if _identity(path, FOLDER, keystone) in _accepted(entry) else name
    if not any(key.startswith(f"{name}/") for key in entries):
        return name
    for child in sorted(path.iterdir()):
        found = _foreign(folder, f"{name}/{child.name}", entries)
        if found is not None:
            return found
    return None


def check_targets(folder: Path, names: Iterable[str]) -> None:
    """Refuse to write ``folder/name`` for any name where something not written by debtloops is.

    Parameters
    ----------
    folder : Path
        The output folder; nothing is checked if it does not exist yet.
    names : iterable of str
        The files and folders a command is about to write, relative to ``folder``.

    Raises
    ------
    InputError
        Naming the first foreign path, why it counts as the user's, and what to do; nothing has
        been written then.
    """
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InputError(f"output folder {folder} is a file; choose a folder for --out")
    entries = read_manifest(folder)
    for name in names:
        try:
            found = _foreign(folder, name, entries)
        except OSError:  # unreadable, so not shown to be ours
            found = name
        if found is not None:
            raise _foreign_error(folder, found, entries)


def _foreign_error(folder: Path, name: str, entries: Mapping[str, dict]) -> InputError:
    path = folder / name
    if not (folder / MANIFEST_NAME).is_file():
        shown = folder.absolute() if str(folder) == "." else folder
        why = (
            f"is not debtloops' to replace: {shown} has no {MANIFEST_NAME}, the record of what "
            "debtloops wrote there (a folder of yours, or results of an older debtloops, which "
            "kept no record)"
        )
    elif name in entries and not path.is_symlink():
        why = "was changed after debtloops wrote it, so it is yours now and is not replaced"
    else:
        why = f"was not written by debtloops (it is not in {MANIFEST_NAME})"
    return InputError(
        f"{path} {why}; it is left as it is: choose another --out, or move or remove it yourself"
    )
