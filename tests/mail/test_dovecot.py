"""A real Dovecot in front of the console: mail clients sign in with app passwords.

Dovecot comes from Debian's packages and is started by ``deploy/dovecot/run-local`` (the
script a reseller tries first), with its Lua passdb posting every login to the console's
``POST /api/mail-auth``; the console is ``streamlit run server.py`` (tests/live_server.py).
The clients are Python's own ``imaplib``, ``poplib`` and ``smtplib``. The mailboxes, the
token and the app passwords are made the way a reseller makes them: with ``python -m core``.
Without Dovecot (and no root to install it) the tests skip with the reason; with ``CI`` set
they fail instead.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import poplib
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.platform.db import session_scope
from tests.browser.chromium import free_port
from tests.factories import PASSWORD, make_user, setup_basic
from tests.live_server import ROOT, Server, new_server

RUN_LOCAL = ROOT / "deploy" / "dovecot" / "run-local"
START_SECONDS = 60
HOST = "127.0.0.1"
REFUSED = (imaplib.IMAP4.error, poplib.error_proto, smtplib.SMTPAuthenticationError)


def _dovecot_available() -> str | None:
    if shutil.which("dovecot") or os.geteuid() == 0:
        return None  # run-local installs the packages as root
    return "Dovecot is not installed and this user cannot install it (make test does, as root)"


class Dovecot:
    """``deploy/dovecot/run-local`` in a subprocess, on free ports of 127.0.0.1."""

    def __init__(self, *, auth_url: str, token: str) -> None:
        # Dovecot's own users must reach the folder: not below pytest's owner-only tmp_path.
        self.run_dir = Path(tempfile.mkdtemp(prefix="mac-dovecot-"))
        self.imap, self.pop3, self.submission = free_port(), free_port(), free_port()
        self.env = {
            **os.environ,
            "IMAP_PORT": str(self.imap),
            "POP3_PORT": str(self.pop3),
            "SUBMISSION_PORT": str(self.submission),
            "MAC_AUTH_URL": auth_url,
            "MAC_AUTH_TOKEN": token,
            "RUN_DIR": str(self.run_dir),
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(RUN_LOCAL)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        for port in (self.imap, self.pop3, self.submission):
            while not self._listening(port):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    output = self.proc.stdout.read() if self.proc.poll() is not None else ""
                    self.stop()
                    pytest.fail(f"Dovecot did not start: {output}{self.log()[-2000:]}")

    @staticmethod
    def _listening(port: int) -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return True
        except OSError:
            return False

    def log(self) -> str:
        path = self.run_dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: run-local execs Dovecot, whose master stops
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.run_dir, ignore_errors=True)


# --- the three clients -------------------------------------------------------------------


def imap_login(port: int, user: str, password: str) -> None:
    client = imaplib.IMAP4(HOST, port, timeout=30)
    try:
        client.login(user, password)
        client.select("INBOX")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def pop3_login(port: int, user: str, password: str) -> None:
    client = poplib.POP3(HOST, port, timeout=30)
    try:
        client.user(user)
        client.pass_(password)
        client.stat()
    finally:
        with contextlib.suppress(poplib.error_proto, OSError):
            client.quit()


def smtp_login(port: int, user: str, password: str) -> None:
    client = smtplib.SMTP(HOST, port, timeout=30)
    try:
        client.ehlo()
        # One mechanism, one attempt (``login`` would try LOGIN after a refused PLAIN).
        client.user, client.password = user, password
        client.auth("PLAIN", client.auth_plain)
    finally:
        # No QUIT: after AUTH, submission connects to its relay, which this machine may not run.
        client.close()


LOGINS = {"imap": imap_login, "pop3": pop3_login, "smtp": smtp_login}


# --- one console and one Dovecot for the module ---------------------------------------


@pytest.fixture(scope="module")
def mail(tmp_path_factory) -> Iterator[dict]:
    why = _dovecot_available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("mail")
    server = new_server(tmp)
    world = setup_basic(server.engine)
    with session_scope(server.engine, write=True) as s:
        from sqlmodel import select

        from core.platform.models import Domain

        d_on = s.scalars(select(Domain).where(Domain.name == world["d_on"])).one()
        make_user(s, d_on, "phone")
        make_user(s, d_on, "guarded", twofa=True)
        make_user(s, d_on, "plain")
        make_user(s, d_on, "away", status="suspended")
    server.start()
    token = token_of(server.must("mail-auth", "token", "create", "--label", "dovecot"))
    dovecot = Dovecot(auth_url=f"{server.base}/api/mail-auth", token=token)
    dovecot.start()
    try:
        yield {"server": server, "dovecot": dovecot, "world": world}
    finally:
        dovecot.stop()
        server.stop()


def token_of(output: str) -> str:
    """The token ``mail-auth token create`` prints once: its last line."""
    return output.splitlines()[-1].strip()


def app_password(server: Server, email: str, label: str, *protocols: str) -> str:
    args = ["app-passwords", "create", email, "--label", label]
    if protocols:
        args += ["--protocols", ",".join(protocols)]
    return server.must(*args)


def port_of(dovecot: Dovecot, protocol: str) -> int:
    return {"imap": dovecot.imap, "pop3": dovecot.pop3, "smtp": dovecot.submission}[protocol]


def refused(dovecot: Dovecot, protocol: str, user: str, password: str) -> bool:
    try:
        LOGINS[protocol](port_of(dovecot, protocol), user, password)
    except REFUSED:
        return True
    return False


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_an_app_password_made_in_the_console_signs_a_phone_in(mail, protocol):
    server, dovecot = mail["server"], mail["dovecot"]
    user = "phone@alpha.example.com"
    password = app_password(server, user, f"Phone {protocol}")
    LOGINS[protocol](port_of(dovecot, protocol), user, password)
    shown = server.must("users", "show", user, "--format", "json")
    assert f'"last_used_protocol": "{protocol}"' in shown
    assert '"last_used_ip": "127.0.0.1"' in shown


@pytest.mark.slow
def test_a_wrong_or_revoked_app_password_is_refused(mail):
    server, dovecot = mail["server"], mail["dovecot"]
    user = "phone@alpha.example.com"
    password = app_password(server, user, "Tablet")
    assert refused(dovecot, "imap", user, "abcd efgh ijkl mnop")
    imap_login(dovecot.imap, user, password)
    server.must("app-passwords", "revoke", user, "--label", "Tablet", "--actor", "support")
    assert refused(dovecot, "imap", user, password)  # the next login after the revoke


@pytest.mark.slow
def test_an_app_password_works_only_on_its_protocols(mail):
    server, dovecot = mail["server"], mail["dovecot"]
    user = "plain@alpha.example.com"
    password = app_password(server, user, "Mail only", "imap")
    imap_login(dovecot.imap, user, password)
    assert refused(dovecot, "pop3", user, password)
    assert refused(dovecot, "smtp", user, password)


@pytest.mark.slow
def test_a_brand_that_turns_app_passwords_off_stops_them_at_the_next_login(mail):
    server, dovecot, world = mail["server"], mail["dovecot"], mail["world"]
    user = "plain@alpha.example.com"
    password = app_password(server, user, "Laptop")
    imap_login(dovecot.imap, user, password)
    server.must("brands", "set", world["on"], "--no-allow-app-passwords", "--actor", "manager")
    try:
        assert refused(dovecot, "imap", user, password)
    finally:
        server.must("brands", "set", world["on"], "--allow-app-passwords", "--actor", "manager")
    imap_login(dovecot.imap, user, password)


@pytest.mark.slow
def test_the_mailbox_password_works_only_while_2fa_is_off(mail):
    dovecot = mail["dovecot"]
    imap_login(dovecot.imap, "plain@alpha.example.com", PASSWORD)
    assert refused(dovecot, "imap", "guarded@alpha.example.com", PASSWORD)
    assert refused(dovecot, "smtp", "guarded@alpha.example.com", PASSWORD)


@pytest.mark.slow
def test_a_suspended_mailbox_is_refused(mail):
    assert refused(mail["dovecot"], "imap", "away@alpha.example.com", PASSWORD)


@pytest.mark.slow
def test_without_a_valid_token_the_console_lets_no_one_in(mail):
    server, dovecot = mail["server"], mail["dovecot"]
    user = "phone@alpha.example.com"
    password = app_password(server, user, "Watch")
    imap_login(dovecot.imap, user, password)
    server.must("mail-auth", "token", "revoke", "dovecot")
    try:
        with pytest.raises(REFUSED):
            imap_login(dovecot.imap, user, password)
    finally:
        token = token_of(server.must("mail-auth", "token", "create", "--label", "dovecot-2"))
        (dovecot.run_dir / "mac-auth.token").write_text(token + "\n")
    imap_login(dovecot.imap, user, password)  # the token file is read at each login
