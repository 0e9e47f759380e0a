"""A real console for the web and browser tests: ``streamlit run`` in a subprocess.

Each server has its own data folder and database (an SQLite file there unless the test
names another), this test process's MAC_SECRET_KEY (so cookies signed here are good
there), and ``python -m core`` against the same settings for its commands. The server is
ready when Streamlit prints that the app can be viewed (read from its output as it comes,
then confirmed once on /_stcore/health); its output is kept in ``server.log``.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import Engine

from core.platform.db import get_engine
from tests.browser.chromium import free_port
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
STREAMLIT = str(ROOT / ".venv" / "bin" / "streamlit")
READY = "You can now view your Streamlit app"
START_SECONDS = 60


class Server:
    """``streamlit run <entry>`` (server.py: the whole console; dashboard.py: the pages alone)."""

    def __init__(self, tmp: Path, *, entry: str = "server.py", url: str | None = None) -> None:
        self.tmp = tmp
        self.entry = entry
        self.url = url or f"sqlite:///{tmp}/mac.db"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "server.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "MAC_DATA_DIR": str(tmp),
            # The key of this test process (tests/conftest.py), so both sides sign alike.
            "MAC_SECRET_KEY": os.environ["MAC_SECRET_KEY"],
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "PYTHONUNBUFFERED": "1",
            # Every test signs in from 127.0.0.1: the per-address limit has its own test.
            "MAC_SIGNIN_PER_MINUTE": "10000",
        }
        self.env.pop("MAC_SESSION_IDLE_MINUTES", None)
        # More `streamlit run` options, e.g. ``--secrets.files`` for single sign-on.
        self.args: list[str] = []
        self.proc: subprocess.Popen | None = None
        self._copier: threading.Thread | None = None

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PY, "-m", "core", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=self.env,
            timeout=300,
        )

    def must(self, *args: str, stdin: str | None = None) -> str:
        """``cli``, which must succeed; its output without the last newline."""
        done = self.cli(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def add_operators(self, *name_roles: tuple[str, str]) -> None:
        """The first administrator ``admin``, then each (name, role), all with PASSWORD."""
        self.must("operators", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
        for name, role in name_roles:
            self.must(
                "operators",
                *(("add", name, "--role", role, "--password-stdin", "--actor", "admin")),
                stdin=PASSWORD + "\n",
            )

    def start(self) -> None:
        """Start the server and return once it serves; fail with its output if it does not."""
        self.proc = subprocess.Popen(
            [
                *(STREAMLIT, "run", self.entry, "--server.port", str(self.port)),
                *("--server.headless", "true", *self.args),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        self._copier = threading.Thread(target=self._copy_output, args=(ready,), daemon=True)
        self._copier.start()
        # Set on the welcome line, or when the output ends (the server has exited).
        if not ready.wait(timeout=START_SECONDS) or self.proc.poll() is not None:
            self.stop()
            pytest.fail(f"the server did not start: {self.log.read_text()[-2000:]}")
        assert requests.get(f"{self.base}/_stcore/health", timeout=START_SECONDS).status_code == 200

    def _copy_output(self, ready: threading.Event) -> None:
        with self.log.open("w") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                if READY in line:
                    ready.set()
        ready.set()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._copier:
            self._copier.join(timeout=15)

    @property
    def engine(self) -> Engine:
        return get_engine(self.url)


def new_server(tmp: Path, *, entry: str = "server.py", url: str | None = None) -> Server:
    """A server (not started yet) over a database that ``python -m core init`` has made."""
    server = Server(tmp, entry=entry, url=url)
    server.must("init")
    return server
