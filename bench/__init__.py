"""Measurements of the console at scale: ``make bench`` (never part of ``make test``)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def fresh_sqlite(name: str) -> str:
    """A new, empty SQLite file ``bench/out/<name>.db`` as the database of this process."""
    OUT.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (OUT / f"{name}.db{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{OUT / f'{name}.db'}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("MAC_DATA_DIR", str(OUT))
    return url
