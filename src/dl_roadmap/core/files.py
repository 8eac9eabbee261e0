"""Writing files so that a failed or interrupted write never replaces a good one."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write to; when the block ends without an error the file
    replaces ``path``, otherwise it is removed.

    The temporary file has ``path``'s own name, inside a hidden folder beside it: writers
    that look at the name keep working (NeMo's ``save_to`` picks the format by the
    extension, ``torch.save`` names its archive after the file). The folder is in the
    same directory because ``os.replace`` is atomic within a file system: readers see the
    old file or the new one, never half of one, even after a crash.
    """
    path = Path(path)
    staging = path.parent / f".{path.name}.{os.getpid()}.tmp"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        yield staging / path.name
        os.replace(staging / path.name, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
