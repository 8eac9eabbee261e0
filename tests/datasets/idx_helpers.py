"""Helpers shared by the IDX image-set tests: small random sets, and a local HTTP server
standing in for a mirror."""

from __future__ import annotations

import http.server
import threading
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Iterator

import numpy as np

from dl_roadmap.datasets.idx import SPLIT_KEYS, write_idx


def small_set(n_train: int = 6, n_test: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Random uint8 images and labels 0..9 under the four split keys."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_folder(folder: Path, data: dict, files: dict[str, str], gz: bool = True) -> dict[str, Path]:
    """Write ``data`` as a set's IDX files in ``folder``; return key -> path."""
    paths = {k: folder / (files[k] + (".gz" if gz else "")) for k in SPLIT_KEYS}
    for key, path in paths.items():
        write_idx(path, data[key])
    return paths


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, records each request path, and drops ``*dropped.gz`` mid-body."""

    requests: list[str] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        QuietHandler.requests.append(self.path)
        if self.path.endswith("dropped.gz"):  # announce 1000 bytes, send 10, hang up
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"\x1f\x8b" + b"\x00" * 8)
            return
        super().do_GET()


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free local port; yield its base URL (ending with '/')."""
    QuietHandler.requests = []
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(QuietHandler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
