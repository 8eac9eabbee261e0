"""Writing files so that a failed or interrupted write never replaces a good one."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; when the block ends without an
    error it replaces ``path``, otherwise it is removed.

    The temporary file is hidden and keeps ``path``'s extension (some writers, NeMo's
    ``save_to`` for one, choose the format by it). It sits in the same folder because
    ``os.replace`` is atomic within a file system: readers see the old file or the new
    one, never half of one, even after a crash.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
