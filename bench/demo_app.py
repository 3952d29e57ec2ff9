"""The app as the benchmarks drive it: demo mode on a seeded sandbox and a throwaway store."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from addin import create_app, store


@contextmanager
def demo_app(sandbox_path: Path) -> Iterator[Flask]:
    """Yield a demo app on ``sandbox_path`` with its own migrated SQLite store."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'store.db'}"
        store.upgrade(url)
        app = create_app(
            {
                "DEMO": True,
                "DATABASE_URL": url,
                "SANDBOX_PATH": str(sandbox_path),
                "BROKER_URL": "memory://",
            }
        )
        try:
            yield app
        finally:
            app.extensions["store_engine"].dispose()
