"""The files of a zarr store, read as files: their SHA-256, a sweep chunk's keys, one element.

:mod:`debtloops.sweeps.store` records and checks a sweep store's files through these: a data file
is hashed, never decoded, so a damaged one never reaches a codec.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import zarr

from debtloops.io import file_sha256


def sha256(file: Path) -> str | None:
    """Return the SHA-256 of a file's bytes (hex), or None if there is no such file."""
    try:
        return file_sha256(file)
    except FileNotFoundError:
        return None


def open_arrays(path: Path, names: Sequence[str]) -> dict[str, zarr.Array]:
    """Open the named arrays of the store at ``path`` for reading."""
    return {name: zarr.open_array(path / name, mode="r") for name in names}


def chunk_files(arrays: Mapping[str, zarr.Array], start: int) -> list[str]:
    """Return the keys of the zarr chunk files holding the sweep chunk that begins at ``start``.

    A sweep chunk is one zarr chunk along ``sample``, so each key has that chunk's index there and
    every index along the other dimensions: ``debt_to_gdp/c/0/3/1`` for scenario chunk 0, sample
    chunk 3, time chunk 1 (zarr 3's default key encoding, read from each array's metadata).
    """
    keys = []
    for name, array in arrays.items():
        dims = getattr(array.metadata, "dimension_names", None) or ()  # zarr 3's metadata
        ranges = [
            [start // size] if dim == "sample" else range(-(-extent // size))
            for dim, extent, size in zip(dims, array.shape, array.chunks, strict=True)
        ]
        keys += [f"{name}/{array.metadata.encode_chunk_key(c)}" for c in itertools.product(*ranges)]
    return keys


def read_item(array: zarr.Array, index: int) -> object:
    """Return one element of a one-dimensional array as a Python value, or None if unreadable."""
    try:
        return np.asarray(array[index]).item()
    except Exception:  # noqa: BLE001 - any codec's error on a damaged file means unreadable
        return None
