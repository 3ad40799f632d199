"""Diagram files rendered into a hidden folder beside their targets, moved in place together.

The diagrams are files written into a folder that holds other outputs too (``debtloops diagram``
writes its loop tables beside them), so they are installed file by file with
:func:`debtloops.io.install_files`, not swapped in as a whole folder by
:func:`debtloops.io.atomic_folder`, which would replace everything else in the folder.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from debtloops.io import install_files, prepare_output_folder, scratch_prefix


class Staging:
    """Files rendered into a hidden folder beside their targets, moved in place when all are done.

    Each file is renamed into its folder only once every file has been rendered, so a failure
    leaves the targets as they were and no partial file behind; the files are checked against,
    and recorded in, the folder's manifest (:func:`debtloops.io.install_files`).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder.absolute()  # renderers must not expand a leading ~
        self.names: list[str] = []

    def __enter__(self) -> Staging:
        # Named after this process, so a writer taking the folder's lock leaves it alone.
        prepare_output_folder(self.folder)
        self.scratch = Path(tempfile.mkdtemp(prefix=scratch_prefix("diagrams"), dir=self.folder))
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if error is None:
                install_files(self.folder, {name: self.scratch / name for name in self.names})
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def path(self, name: str) -> Path:
        """Return where to write ``name`` for now, and remember to move it in place."""
        self.names.append(name)
        return self.scratch / name
