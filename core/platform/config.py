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
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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
    session_max_hours: int = 12
    signin_per_minute: int = 20
    cookie_secure: bool = False
    # The console's origin as browsers see it behind a reverse proxy (MAC_PUBLIC_URL),
    # normalized to ``scheme://host[:port]``; None: each request's own Host and scheme.
    public_url: str | None = None
    # MAC_SENDER: each dashboard process runs the notification sender (core.notices.sender.Sender);
    # off for deployments that run `python -m core notify send` from cron instead.
    sender: bool = True

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


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


def _check_public_url(value: str) -> str:
    """``MAC_PUBLIC_URL`` as an origin (``scheme://host[:port]``), or SettingsError saying what is wrong."""

    def bad(what: str) -> SettingsError:
        return SettingsError(
            f"MAC_PUBLIC_URL is not usable: {what}. Give the console's address as the browser "
            "sees it, scheme, host and port only, e.g. https://console.example.com."
        )

    value = value.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise bad("the port is not a number from 1 to 65535") from None
    scheme = parts.scheme.lower()
    if not scheme or "://" not in value:
        raise bad("the scheme (https:// or http://) is missing")
    if scheme not in ("http", "https"):
        raise bad(f"the scheme must be http or https, not {scheme!r}")
    if not parts.hostname:
        raise bad("the host is missing")
    if "@" in parts.netloc:
        raise bad("it must not hold a user name or password")
    if parts.path not in ("", "/"):
        raise bad("it must not have a path (the console is served at /)")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise bad("it must not have a query or a fragment")
    if port == 0:
        raise bad("the port is not a number from 1 to 65535")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


_ON = {"on", "1", "true", "yes"}
_OFF = {"off", "0", "false", "no"}


def _on_off(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in _ON | _OFF:
        return raw in _ON
    raise SettingsError(f"{name} must be on or off, not {env[name]!r}.")


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
        session_max_hours=int(env.get("MAC_SESSION_MAX_HOURS") or 12),
        signin_per_minute=int(env.get("MAC_SIGNIN_PER_MINUTE") or 20),
        cookie_secure=(env.get("MAC_COOKIE_SECURE") or "").lower() in {"1", "true", "yes"},
        public_url=_check_public_url(env["MAC_PUBLIC_URL"]) if env.get("MAC_PUBLIC_URL") else None,
        sender=_on_off(env, "MAC_SENDER", True),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
