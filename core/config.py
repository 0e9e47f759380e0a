"""One settings object, read from the environment.

Every setting has a default that works on a new machine, so ``make run`` needs no
configuration. The README lists them all.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"

# Placeholder values that must never be used as a real key (they are in public docs).
_PLACEHOLDER_KEYS = {"changethis", "change-me", "secret", "demo"}


class SettingsError(ValueError):
    """A setting has a value the console cannot run with."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: str = field(repr=False)
    smtp_url: str | None = None
    smtp_from: str = "security@mail.example.com"
    session_idle_minutes: int = 30
    cookie_secure: bool = False

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def make_private_dir(path: Path) -> None:
    """Create the folder ``path`` owner-only (0700), with any missing parent made the same way.

    The data folder holds the database, the key and the customers' messages: no other
    local user may list or read it. A folder that exists already keeps its mode (an
    administrator may have chosen it).
    """
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        # exist_ok: another process may make it first.
        folder.mkdir(mode=stat.S_IRWXU, exist_ok=True)


def _key_from_file(data_dir: Path) -> str:
    """Read the key file under data/, creating it (0600, in a 0700 folder) on first use."""
    key_path = data_dir / "secret.key"
    if key_path.exists():
        return key_path.read_text().strip()
    make_private_dir(data_dir)
    key = Fernet.generate_key().decode()
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        return key_path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def _check_key(key: str) -> str:
    if key.lower() in _PLACEHOLDER_KEYS:
        raise SettingsError(
            "MAC_SECRET_KEY is a placeholder; unset it to use a generated key file "
            "or set it to the output of `python -m core keygen`."
        )
    try:
        Fernet(key.encode())
    except ValueError as exc:
        raise SettingsError(
            "MAC_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
            "generate one with `python -m core keygen`."
        ) from exc
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build the settings from ``env`` (the process environment by default)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("MAC_DATA_DIR") or DEFAULT_DATA_DIR)
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'mac.db'}"
    raw_key = env.get("MAC_SECRET_KEY")
    secret_key = _check_key(raw_key) if raw_key else _key_from_file(data_dir)
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=secret_key,
        smtp_url=env.get("SMTP_URL") or None,
        smtp_from=env.get("MAC_SMTP_FROM") or "security@mail.example.com",
        session_idle_minutes=int(env.get("MAC_SESSION_IDLE_MINUTES") or 30),
        cookie_secure=(env.get("MAC_COOKIE_SECURE") or "").lower() in {"1", "true", "yes"},
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
