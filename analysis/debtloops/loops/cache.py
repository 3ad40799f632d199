"""A content-keyed cache of the loop analysis, beside pysd's translation of the model.

Finding the model's loops, measuring link polarities over runs and scoring every loop with Simlin
take from seconds to more than a minute, and each result is a pure function of its inputs: the
.mdl's bytes, the run's parameter values, the loops or links asked for, the versions of pysd,
Simlin, numpy and networkx, and the source of the modules that compute it. :func:`cached` keys an
entry on the SHA-256 of all of them, so an entry is found again only for the same inputs and the
same code; any change to the model, a scenario, the data or the code gives a new key and the
result is computed afresh.

Entries live in ``loops/`` under the translation cache (:data:`debtloops.paths.BUILD_DIR`:
``models/.build/`` in a checkout, git-ignored). Each is written to a temporary file and renamed
into place, so a reader sees a whole entry or none, and it starts with the SHA-256 of its payload:
an entry that is truncated or damaged fails that check and is computed again and replaced. While
one process computes an entry, others asking for it wait for it (a lock file beside it). A cache
that cannot be written (a read-only place, a full disk) is skipped: the result is still returned.
The folder holds at most :data:`MAX_BYTES`: the entries used least recently are removed first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import networkx as nx
import numpy as np
import pysd
import simlin
from filelock import FileLock, Timeout

from debtloops.io.scratch import current_umask
from debtloops.paths import BUILD_DIR, MODEL_FILE, model_hash

#: The folder of the entries (a subfolder of the translation cache).
CACHE_DIR = BUILD_DIR / "loops"
#: The first bytes of an entry, naming this format; the payload's SHA-256 follows on that line.
MAGIC = b"debtloops-loop-cache 1 "
#: The most the entries may take together [bytes]. The scores of every loop of one run take about
#: 51 MB (50,394 loops at 121 saved times), the list of loops about 8 MB and the polarities of one
#: run about 19 kB, so the folder keeps the scores of about ten runs: `diagram` or `report` for
#: several scenarios in turn finds each one's scores again instead of computing them for minutes.
MAX_BYTES = 512 * 2**20
#: How long a caller waits for another process that computes the same entry [s]: more than
#: scoring every loop takes on a loaded machine.
LOCK_WAIT = 900.0
#: The suffix of an entry's file name.
SUFFIX = ".entry"

T = TypeVar("T")


def entry_key(kind: str, inputs: object, modules: Sequence[ModuleType]) -> str:
    """Return the key of a result: the SHA-256 of its inputs, the model file and the code.

    Parameters
    ----------
    kind : str
        What is cached (``polarities``, ``dominance``): part of the key and of the file name.
    inputs : object
        The computation's inputs, made of what :func:`json.dumps` writes (with sorted keys).
    modules : sequence of module
        The modules whose source computes the result; their files' bytes enter the key.

    Returns
    -------
    str
        64 hex digits.
    """
    digest = hashlib.sha256()
    header = {
        "kind": kind,
        "model": model_hash(MODEL_FILE),
        "versions": [pysd.__version__, simlin.__version__, np.__version__, nx.__version__],
        "inputs": inputs,
    }
    digest.update(json.dumps(header, sort_keys=True, allow_nan=True).encode())
    for source in (*(Path(str(module.__file__)) for module in modules), Path(__file__)):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def plain_values(values: Mapping[str, object]) -> dict[str, object]:
    """Return parameter values as JSON holds them exactly: a series as its (year, value) pairs."""
    return {
        name: [[year, number] for year, number in value.items()]
        if isinstance(value, Mapping)
        else value
        for name, value in values.items()
    }


def _path(kind: str, key: str) -> Path:
    return CACHE_DIR / f"{kind}-{key}{SUFFIX}"


def _lock_path(kind: str, key: str) -> Path:
    return CACHE_DIR / f".{kind}-{key}.lock"


def read_entry(kind: str, key: str) -> bytes | None:
    """Return an entry's payload, or None if it is missing, truncated or damaged."""
    try:
        data = _path(kind, key).read_bytes()
    except OSError:
        return None
    head, newline, payload = data.partition(b"\n")
    if not newline or not head.startswith(MAGIC):
        return None
    if head.removeprefix(MAGIC).decode("ascii", "replace") != hashlib.sha256(payload).hexdigest():
        return None
    with contextlib.suppress(OSError):  # a use: the entry is kept longer when the folder is full
        os.utime(_path(kind, key))
    return payload


def write_entry(kind: str, key: str, payload: bytes) -> None:
    """Store an entry atomically (a temporary file renamed into place); skip it if it cannot be."""
    head = MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n"
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=CACHE_DIR)
    except OSError:
        return
    scratch = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(head + payload)
        os.chmod(scratch, 0o666 & ~current_umask())  # mkstemp makes the file private
        os.replace(scratch, _path(kind, key))
    except OSError:
        scratch.unlink(missing_ok=True)
        return
    _prune()


def _prune() -> None:
    """Remove the entries used least recently until the rest take at most :data:`MAX_BYTES`."""
    entries = []
    for path in CACHE_DIR.glob(f"*{SUFFIX}"):
        try:
            status = path.stat()
        except OSError:  # removed by another process meanwhile
            continue
        entries.append((status.st_mtime, status.st_size, path))
    total = 0
    for _, size, path in sorted(entries, reverse=True):
        total += size
        if total > MAX_BYTES:
            path.unlink(missing_ok=True)
            kind, _, key = path.name.removesuffix(SUFFIX).rpartition("-")
            _lock_path(kind, key).unlink(missing_ok=True)


def cached(
    kind: str,
    inputs: object,
    modules: Sequence[ModuleType],
    compute: Callable[[], T],
    encode: Callable[[T], bytes],
    decode: Callable[[bytes], T],
) -> T:
    """Return ``compute()``, from the cache when an entry for the same inputs and code exists.

    While one process computes an entry it holds a lock on it, so that another asking for the
    same entry meanwhile waits and reads it instead of computing it too (for at most
    :data:`LOCK_WAIT`; where no lock can be taken, each computes).

    Parameters
    ----------
    kind, inputs, modules
        The entry's key, as for :func:`entry_key`.
    compute : callable
        Computes the result when no sound entry exists; its result is then stored.
    encode, decode : callable
        Turn a result into bytes and back; ``decode(encode(x))`` must equal ``x``. An entry that
        ``decode`` refuses (any exception) is treated as damaged and computed again.

    Returns
    -------
    object
        The result.
    """
    key = entry_key(kind, inputs, modules)
    found = _decoded(kind, key, decode)
    if found:
        return found[0]
    with _held(kind, key):
        found = _decoded(kind, key, decode)  # stored by another process meanwhile
        if found:
            return found[0]
        result = compute()
        write_entry(kind, key, encode(result))
    return result


def _decoded(kind: str, key: str, decode: Callable[[bytes], T]) -> list[T]:
    """Return ``[result]`` from a sound entry, or ``[]`` if there is none."""
    payload = read_entry(kind, key)
    if payload is None:
        return []
    try:
        return [decode(payload)]
    except Exception:  # noqa: BLE001 - a damaged entry is recomputed, whatever it breaks
        return []


@contextlib.contextmanager
def _held(kind: str, key: str) -> Iterator[None]:
    """Hold the lock of an entry, if one can be taken within :data:`LOCK_WAIT`."""
    lock = FileLock(str(_lock_path(kind, key)))
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=LOCK_WAIT)
    except (OSError, Timeout):  # a read-only place, or another process computing for too long
        yield
        return
    try:
        yield
    finally:
        lock.release()
