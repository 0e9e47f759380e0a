"""core.access.operator_signin, sessions and client_limit against a real SQLite file.

Password, code, enrolment, throttling, sessions, and what an attempt may cost.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from argon2 import extract_parameters
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from core.access import client_limit, operator_signin, sessions
from core.platform import crypto, throttle, totp
from core.platform.crypto import decrypt_secret, token_digest
from core.platform.db import get_engine, session_scope
from core.platform.errors import BadInput
from core.platform.models import AuditEvent, LoginFailure, Operator, OperatorSession, utcnow
from tests.factories import PASSWORD, make_operator


@pytest.fixture
def eng(sqlite_url: str) -> Engine:
    return get_engine(sqlite_url)


@pytest.fixture
def secret(eng: Engine) -> str:
    """An enrolled operator "olga" (support) and her authenticator's secret."""
    s_ = totp.new_secret()
    with session_scope(eng, write=True) as s:
        make_operator(s, "olga", "support", secret=s_)
    return s_


def password(eng: Engine, username: str = "olga", pw: str = PASSWORD) -> operator_signin.SignInStep:
    return operator_signin.check_password(eng, username=username, password=pw)


def code(eng: Engine, ticket: str, given: str, now: float | None = None) -> operator_signin.SignInStep:
    with session_scope(eng, write=True) as s:
        return operator_signin.check_code(s, ticket=ticket, code=given, now=now)


def events(eng: Engine, action: str | None = None) -> list[AuditEvent]:
    with session_scope(eng) as s:
        q = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return list(s.scalars(q))


def failures(eng: Engine) -> int:
    with session_scope(eng) as s:
        return s.scalar(select(func.count()).select_from(LoginFailure))


def signed_in(eng: Engine, secret: str) -> str:
    step = password(eng)
    assert step.ok
    done = code(eng, step.ticket, totp.current_code(secret))
    assert done.ok, done.message
    return done.token


# --- the password step ----------------------------------------------------------------------


def test_right_password_gives_a_ticket_for_the_code_step(eng, secret):
    step = password(eng, "  OLGA ")
    assert step.ok and step.next == "code" and step.token == ""
    assert operator_signin.read_ticket(step.ticket) == "olga"
    assert failures(eng) == 0 and events(eng) == []


class _CountingHasher:
    """The real argon2 hasher, noting the stored hash of every verification it is asked for."""

    def __init__(self, real) -> None:
        self._real, self.verified = real, []

    def verify(self, stored: str, given: str) -> bool:
        self.verified.append(stored)
        return self._real.verify(stored, given)

    def __getattr__(self, name: str):
        return getattr(self._real, name)


@pytest.mark.parametrize(("username", "pw"), [("olga", "wrong password"), ("nobody", PASSWORD), ("", "")])
def test_wrong_password_or_unknown_name_is_one_message_and_an_audit_event(
    eng, secret, username, pw, monkeypatch
):
    with session_scope(eng) as s:
        real = s.scalars(select(Operator.password_hash).where(Operator.username == "olga")).one()
    hasher = _CountingHasher(crypto._hasher)
    monkeypatch.setattr(crypto, "_hasher", hasher)
    step = password(eng, username, pw)
    hashed = hasher.verified
    # The same cost for every name (PRODUCT.md, Trust): one real hash with the real one's parameters.
    assert len(hashed) == 1
    assert extract_parameters(hashed[0]) == extract_parameters(real)
    assert not step.ok and step.ticket == "" and step.message == "Wrong username, password or code."
    assert failures(eng) == 1
    (event,) = events(eng)
    assert event.action == "operator.sign_in_failed" and event.after == {"step": "password"}
    assert PASSWORD not in str(event.after) and "wrong password" not in f"{event.after} {event.reason}"


def test_deactivated_operator_cannot_sign_in(eng, secret):
    with session_scope(eng, write=True) as s:
        s.execute(update(Operator).where(Operator.username == "olga").values(active=False))
    assert not password(eng).ok


def test_ticket_is_signed_and_lasts_five_minutes():
    t0 = 1_700_000_000.0
    ticket = operator_signin.make_ticket("olga", now=t0)
    assert operator_signin.read_ticket(ticket, now=t0 + 299) == "olga"
    assert operator_signin.read_ticket(ticket, now=t0 + 301) is None
    assert operator_signin.read_ticket(ticket.replace("olga", "admin", 1), now=t0) is None
    assert operator_signin.read_ticket("olga|1700000000|00", now=t0) is None
    assert operator_signin.read_ticket("", now=t0) is None


# --- the code step --------------------------------------------------------------------------


def test_right_code_opens_a_session(eng, secret):
    token = signed_in(eng, secret)
    with session_scope(eng) as s:
        row = s.scalars(select(OperatorSession)).one()
        assert row.token_hash == token_digest(token) and token not in row.token_hash
        op = s.scalars(select(Operator).where(Operator.username == "olga")).one()
        assert op.last_sign_in_at is not None
        actor = sessions.session_actor(s, token, touch=False)
    assert (actor.name, actor.role) == ("olga", "support")
    assert [e.action for e in events(eng)] == ["operator.sign_in"]


def test_wrong_code_fails_and_is_counted(eng, secret):
    step = password(eng)
    good = totp.current_code(secret)
    r = code(eng, step.ticket, f"{(int(good) + 1) % 1_000_000:06d}")
    assert not r.ok and r.token == "" and "not valid" in r.message
    assert failures(eng) == 1
    assert events(eng)[-1].after == {"step": "code"}


def test_malformed_code_says_what_is_wrong(eng, secret):
    r = code(eng, password(eng).ticket, "12a456")
    assert not r.ok and "exactly 6 digits" in r.message


def test_replayed_and_older_codes_are_refused(eng, secret):
    now = time.time()
    ticket = operator_signin.make_ticket("olga", now=now)  # stamped at the same fixed "now" as the checks
    assert code(eng, ticket, totp.current_code(secret, now), now=now).ok
    # RFC 6238 §5.2: the same code (step) once only; the step before it is older still.
    assert not code(eng, ticket, totp.current_code(secret, now), now=now).ok
    assert not code(eng, ticket, totp.current_code(secret, now - 30), now=now).ok
    assert code(eng, ticket, totp.current_code(secret, now + 30), now=now).ok


def test_stale_or_forged_ticket_is_refused(eng, secret):
    stale = operator_signin.make_ticket("olga", now=time.time() - 301)
    assert "took too long" in code(eng, stale, totp.current_code(secret)).message
    assert "took too long" in code(eng, "olga|1|x", totp.current_code(secret)).message


# --- throttling -----------------------------------------------------------------------------


def test_sixth_attempt_within_15_minutes_waits(eng, secret):
    for _ in range(5):
        assert not password(eng, pw="guess").ok
    sixth = password(eng)  # the right password, but throttled
    assert not sixth.ok and sixth.ticket == ""
    with session_scope(eng) as s:
        until = throttle.throttled_until(s, "operator:olga")
    assert (
        f"until {until:%H:%M} UTC" in sixth.message and "Too many failed attempts for olga" in sixth.message
    )
    assert failures(eng) == 5  # a throttled attempt is not counted again
    # The code step is throttled as well, even with a valid ticket.
    assert "Too many" in code(eng, operator_signin.make_ticket("olga"), totp.current_code(secret)).message


def test_throttle_window_passes(eng, secret):
    for _ in range(5):
        password(eng, pw="guess")
    with session_scope(eng, write=True) as s:
        s.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    assert password(eng).ok


def test_success_clears_the_failures(eng, secret):
    for _ in range(3):
        password(eng, pw="guess")
    signed_in(eng, secret)
    assert failures(eng) == 0


def test_throttle_is_per_username(eng, secret):
    with session_scope(eng, write=True) as s:
        make_operator(s, "other", "analyst", secret=totp.new_secret())
    for _ in range(5):
        password(eng, pw="guess")
    assert password(eng, "other").ok


# --- enrolment ------------------------------------------------------------------------------


def test_operator_without_authenticator_enrols(eng):
    with session_scope(eng, write=True) as s:
        make_operator(s, "newbie", "analyst")
    step = password(eng, "newbie")
    assert step.ok and step.next == "enrol"
    with session_scope(eng, write=True) as s:
        secret, uri = operator_signin.start_enrolment(s, ticket=step.ticket)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "issuer=MAC" in uri
    with session_scope(eng) as s:
        op = s.scalars(select(Operator).where(Operator.username == "newbie")).one()
        assert not op.totp_confirmed and decrypt_secret(op.totp_secret) == secret
        assert secret not in op.totp_secret  # encrypted at rest
    assert not code(eng, step.ticket, "000000" if totp.current_code(secret) != "000000" else "111111").ok
    done = code(eng, step.ticket, totp.current_code(secret))
    assert done.ok
    assert [e.action for e in events(eng)][-2:] == ["operator.totp_enrolled", "operator.sign_in"]
    assert password(eng, "newbie").next == "code"


def test_enrolled_operator_cannot_enrol_again(eng, secret):
    step = password(eng)
    with session_scope(eng, write=True) as s, pytest.raises(BadInput, match="authenticator already"):
        operator_signin.start_enrolment(s, ticket=step.ticket)


def test_enrolment_needs_a_valid_ticket(eng):
    with session_scope(eng, write=True) as s, pytest.raises(BadInput, match="took too long"):
        operator_signin.start_enrolment(s, ticket="nobody|1|x")


# --- sessions -------------------------------------------------------------------------------


def _age(eng: Engine, token: str, minutes: float) -> None:
    with session_scope(eng, write=True) as s:
        s.execute(
            update(OperatorSession)
            .where(OperatorSession.token_hash == token_digest(token))
            .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )


def _last_seen(eng: Engine, token: str):
    with session_scope(eng) as s:
        return s.scalars(
            select(OperatorSession.last_seen_at).where(OperatorSession.token_hash == token_digest(token))
        ).one()


def test_session_idle_30_minutes_ends(eng, secret):
    token = signed_in(eng, secret)
    _age(eng, token, 29)
    with session_scope(eng, write=True) as s:
        assert sessions.session_actor(s, token) is not None  # and the visit is recorded
    assert utcnow() - _last_seen(eng, token).replace(tzinfo=utcnow().tzinfo) < timedelta(minutes=1)
    _age(eng, token, 31)
    with session_scope(eng, write=True) as s:
        assert sessions.session_actor(s, token) is None


def test_touch_writes_at_most_every_30_seconds(eng, secret):
    token = signed_in(eng, secret)
    for seconds_ago, written in ((0, False), (25, False), (35, True)):
        _age(eng, token, seconds_ago / 60)
        before = _last_seen(eng, token)
        with session_scope(eng, write=True) as s:
            sessions.session_actor(s, token)
        assert (_last_seen(eng, token) != before) is written, seconds_ago


def test_unknown_or_missing_token_is_no_one(eng, secret):
    signed_in(eng, secret)
    with session_scope(eng) as s:
        assert sessions.session_actor(s, "made-up", touch=False) is None
        assert sessions.session_actor(s, "", touch=False) is None
        assert sessions.session_actor(s, None, touch=False) is None


def test_sign_out_ends_the_session(eng, secret):
    token = signed_in(eng, secret)
    with session_scope(eng, write=True) as s:
        sessions.end_session(s, token)
    with session_scope(eng) as s:
        assert sessions.session_actor(s, token, touch=False) is None
        assert s.scalars(select(OperatorSession.ended_at)).one() is not None
    assert events(eng)[-1].action == "operator.sign_out"
    with session_scope(eng, write=True) as s:
        sessions.end_session(s, token)  # twice is harmless, and not audited twice
        sessions.end_session(s, None)
    assert len(events(eng, "operator.sign_out")) == 1


def test_deactivation_ends_open_sessions(eng, secret):
    token = signed_in(eng, secret)
    with session_scope(eng, write=True) as s:
        s.execute(update(Operator).where(Operator.username == "olga").values(active=False))
    with session_scope(eng) as s:
        assert sessions.session_actor(s, token, touch=False) is None


# --- what a sign-in attempt may cost, and tell ------------------------------------------------


def _argon2_parameters(encoded: str) -> str:
    # $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
    return encoded.split("$")[3]


def test_the_stand_in_hash_is_made_with_the_parameters_of_real_hashes(eng, secret):
    with session_scope(eng) as s:
        real = s.scalars(select(Operator.password_hash).where(Operator.username == "olga")).one()
    assert _argon2_parameters(operator_signin._stand_in_hash()) == _argon2_parameters(real)
    assert operator_signin._stand_in_hash().split("$")[1] == real.split("$")[1]  # the same variant


@pytest.mark.parametrize("username", ["olga", "nobody"])
def test_the_password_is_hashed_outside_any_write_transaction(eng, secret, monkeypatch, username):
    """Another writer must be able to take SQLite's write lock while the hash runs."""
    import sqlite3

    path = eng.url.database
    seen: list[bool] = []
    real_verify = operator_signin.verify_password

    def verify(stored, plain):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append(True)
        except sqlite3.OperationalError:  # "database is locked": the sign-in holds it
            seen.append(False)
        finally:
            other.close()
        return real_verify(stored, plain)

    monkeypatch.setattr(operator_signin, "verify_password", verify)
    assert not password(eng, username, "a wrong password").ok
    assert password(eng, "olga").ok
    assert seen == [True, True]


@pytest.mark.parametrize(
    "given",
    ["olga\tadmin", "olga\nFORGED line", "x" * 65, "o", "olga;=cmd|' /C calc'!A0", "ölga", " "],
)
def test_a_username_no_operator_could_have_never_reaches_the_database(eng, secret, given):
    sent: list[str] = []

    def note(conn, cursor, statement, params, context, many) -> None:
        values = params.values() if isinstance(params, dict) else params or ()
        sent.extend(v for v in values if isinstance(v, str))

    sa_event.listen(eng, "before_cursor_execute", note)
    try:
        step = password(eng, given, PASSWORD)
    finally:
        sa_event.remove(eng, "before_cursor_execute", note)
    assert sent  # the failure is written, under a stand-in name
    name = given.strip().lower()
    assert not {given, name, f"operator:{name}"} & set(sent)
    assert not step.ok and step.message == "Wrong username, password or code."
    (event,) = events(eng)
    assert (event.actor, event.object_key) == (operator_signin.INVALID_NAME, operator_signin.INVALID_NAME)
    with session_scope(eng) as s:
        subjects = s.scalars(select(LoginFailure.subject)).all()
    assert subjects == [f"operator:{operator_signin.INVALID_NAME}"]


def test_the_attempt_limiter_counts_a_sliding_minute():
    limiter = client_limit.AttemptLimiter(limit=3, window=60)
    assert [limiter.allow("10.0.0.1", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("10.0.0.2", now=3)  # another address has its own count
    assert not limiter.allow("10.0.0.1", now=59.9)
    assert limiter.allow("10.0.0.1", now=60.0)  # the first attempt has left the window


def test_a_flood_from_one_address_stops_before_the_hash_and_the_database(eng, secret, monkeypatch):
    monkeypatch.setattr(client_limit, "client_limit", lambda: limiter)
    limiter = client_limit.AttemptLimiter(limit=2, window=60)
    assert not password_from(eng, "203.0.113.9").ok
    assert not password_from(eng, "203.0.113.9").ok
    assert failures(eng) == 2

    def no_hash(stored, plain):
        raise AssertionError("the flood reached the password hash")

    monkeypatch.setattr(operator_signin, "verify_password", no_hash)
    step = password_from(eng, "203.0.113.9")
    assert not step.ok and step.message == client_limit.CLIENT_LIMITED
    assert failures(eng) == 2 and len(events(eng)) == 2  # nothing written for the refused attempt


def password_from(eng: Engine, client: str) -> operator_signin.SignInStep:
    return operator_signin.check_password(eng, username="olga", password="wrong", client=client)


# --- what each step reads, and how it says why it refused -------------------------------------


def test_only_the_client_limit_says_limited(eng, secret, monkeypatch):
    monkeypatch.setattr(client_limit, "client_limit", lambda: limiter)
    limiter = client_limit.AttemptLimiter(limit=1, window=60)
    wrong = password_from(eng, "203.0.113.7")
    assert not wrong.ok and not wrong.limited
    limited = password_from(eng, "203.0.113.7")
    assert not limited.ok and limited.limited and limited.message == client_limit.CLIENT_LIMITED
    for _ in range(4):
        password(eng, pw="wrong")
    paused = password(eng, pw="wrong")  # the username's throttle, not the client's limit
    assert "Too many failed attempts for olga" in paused.message and not paused.limited
    assert not password(eng).limited


def test_a_refused_password_offers_the_name_as_read(eng, secret):
    assert password(eng, "  OLGA ", "wrong").username == "olga"
    long = password(eng, "X" * 100, "wrong")
    assert long.username == "x" * operator_signin.NAME_MAX and not long.ok
    assert password(eng).username == ""  # a right password goes on with a ticket, not a name


def test_a_code_is_read_to_at_most_code_max_characters(eng, secret, monkeypatch):
    seen: list[str] = []
    real = operator_signin.OperatorAuthenticator.verify

    def spy(self, session, code, now=None):
        seen.append(code)
        return real(self, session, code, now=now)

    monkeypatch.setattr(operator_signin.OperatorAuthenticator, "verify", spy)
    step = password(eng)
    assert not code(eng, step.ticket, "1" * 5000).ok
    assert seen == ["1" * operator_signin.CODE_MAX]


def test_first_admin_is_made_once_then_setup_is_closed(eng):
    with session_scope(eng, write=True) as s:
        step = operator_signin.create_first_admin(
            s, username=" Boss ", password=PASSWORD, display_name="B" * 500
        )
    assert step.ok and step.next == "enrol" and operator_signin.read_ticket(step.ticket) == "boss"
    with session_scope(eng) as s:
        boss = s.scalars(select(Operator)).one()
    assert (boss.username, boss.role, boss.display_name) == ("boss", "admin", "B" * 200)
    before = events(eng)
    with pytest.raises(operator_signin.SetupClosed), session_scope(eng, write=True) as s:
        operator_signin.create_first_admin(s, username="intruder", password=PASSWORD)
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(Operator)) == 1
    assert [e.id for e in events(eng)] == [e.id for e in before]
