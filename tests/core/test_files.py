"""What the console writes to disk is its own: the SQLite files, the key and the outbox.

The database holds the operators' password hashes, the key decrypts every TOTP secret and
the outbox names customers and what changed on their mailbox, so another local user may
read none of them. Each test runs under the usual umask 022, with which a file created
the default way is 0644 and a folder 0755, and checks the modes the console gives them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.notices import delivery, queueing
from core.platform.config import Settings, load_settings
from core.platform.db import get_engine, session_scope, upgrade_schema
from core.platform.models import Brand, Company, Domain, User
from tests.factories import make_operator


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    # The umask of a default login; the console must not rely on a stricter one.
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_sqlite_database_and_its_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "new-data"
    db = folder / "mac.db"
    url = f"sqlite:///{db}"
    upgrade_schema(url)
    engine = get_engine(url)
    try:
        with session_scope(engine, write=True) as s:
            make_operator(s, "file-modes", "support")
        # The -wal and -shm files live while a connection is open.
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("SELECT count(*) FROM operators").scalar() == 1
            files = {p.name: mode(p) for p in folder.iterdir()}
        assert files == {"mac.db": 0o600, "mac.db-wal": 0o600, "mac.db-shm": 0o600}
        assert mode(folder) == 0o700
    finally:
        engine.dispose()


def test_a_fresh_data_folder_gets_an_owner_only_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "srv" / "data"
    settings = load_settings({"MAC_DATA_DIR": str(data_dir)})
    key = data_dir / "secret.key"
    assert key.read_text().strip() == settings.secret_key
    assert mode(key) == 0o600
    assert mode(data_dir) == 0o700
    assert mode(data_dir.parent) == 0o700  # made by the console too
    # Read again, the same key (the file is not rewritten).
    assert load_settings({"MAC_DATA_DIR": str(data_dir)}).secret_key == settings.secret_key


def test_outbox_folder_and_messages_are_owner_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mac.db"
    upgrade_schema(url)
    engine = get_engine(url)
    data_dir = tmp_path / "fresh"
    settings = Settings(
        database_url=url, data_dir=data_dir, secret_key=Fernet.generate_key().decode(), smtp_url=None
    )
    try:
        with session_scope(engine, write=True) as s:
            brand = Brand(name="Files Mail")
            s.add(brand)
            s.flush()
            company = Company(name="Files Co", brand_id=brand.id)
            s.add(company)
            s.flush()
            domain = Domain(name="files.example.com", company_id=company.id)
            s.add(domain)
            s.flush()
            user = User(email="ann@files.example.com", domain_id=domain.id)
            s.add(user)
            s.flush()
            assert user.id is not None
            queueing.queue(
                s,
                user_id=user.id,
                recipient=user.email,
                kind="2fa_reset",
                subject="2FA was turned off",
                body="Support turned off two-factor sign-in for your mailbox.\n",
            )
        report = delivery.send_pending(settings=settings, engine=engine)
        assert (report.sent, report.failed) == (1, 0)
        outbox = data_dir / "outbox"
        messages = list(outbox.iterdir())
        assert [p.suffix for p in messages] == [".eml"]
        assert b"ann@files.example.com" in messages[0].read_bytes()
        assert mode(messages[0]) == 0o600
        assert mode(outbox) == 0o700
        assert mode(data_dir) == 0o700
    finally:
        engine.dispose()
