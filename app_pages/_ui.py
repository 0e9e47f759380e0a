"""The pages' shared guard and small UI helpers. No query and no rule lives here.

* ``require(action)`` — every page calls it first: the signed-in operator, or the script
  stops with "You are signed out." (and a sign-in link) or with the role that is missing.
  The core checks every write again (``core.access.permissions.require``): hiding a control is a
  courtesy.
* ``engine()`` — the process's engine for the database URL (``core.platform.db.get_engine``
  makes one a URL, so a test that points ``DATABASE_URL`` elsewhere gets its own).
* ``load(fn, ...)`` — a read through ``_reads`` (the pages' cached reads), with a database
  that is unreachable or busy answered by ``st.error`` and the next step instead of a
  traceback.
* ``write(fn, **kwargs)`` — one write transaction around a core service; a ``CoreError`` comes
  back as itself, for ``error`` or ``flash`` to show its sentence; every cached read is
  cleared after a write that succeeded.
* ``error(err)`` — a core refusal (or any sentence) as an error alert, shown as text.
* formatting: ``num`` (12,345), ``pct`` (41.2 %), ``when`` (2025-01-31 14:05 UTC).
* ``plain(text)`` — a value from data, a file or the URL, made safe to put inside any element
  that renders Markdown (markdown, captions, alerts, headings, metric labels, help tooltips,
  widget labels, table cells): it reads as the same text and is never markup (PRODUCT.md,
  Trust). ``code(text)`` shows one as inline code; ``chart_label(text)`` does the same for a
  plotly label.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote, urlsplit

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from core.access import sessions
from core.access.permissions import PERMISSIONS, ROLE_LABELS, Actor
from core.access.sessions import SESSION_COOKIE, session_actor, session_of
from core.platform.config import get_settings
from core.platform.db import get_engine, session_scope
from core.platform.errors import CoreError
from web.cookies import token_from_cookie
from web.paths import SIGN_IN_PATH, SIGN_OUT_PATH

T = TypeVar("T")

DB_BUSY = (
    "The database is unreachable or busy right now. Wait a few seconds and reload the page; "
    "if it goes on, check that the database is running (`make run` starts the demo one)."
)
NO_DATA = "No data yet. Load the demo data with `make run` or `python -m core seed`."


# --- the engine and sessions -----------------------------------------------------------------


def db_url() -> str:
    return get_settings().database_url


def engine(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (the configured database by default)."""
    return get_engine(url or db_url())


@contextmanager
def reading(url: str) -> Iterator[Session]:
    """A short read-only session, for the pages' cached read functions."""
    with session_scope(engine(url)) as session:
        yield session


def load(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a cached read; a database that cannot answer stops the page with the next step."""
    try:
        return fn(*args, **kwargs)
    except OperationalError:
        st.error(DB_BUSY, icon=":material/cloud_off:")
        st.stop()


def write(fn: Callable[..., T], **kwargs: Any) -> tuple[T | None, CoreError | None]:
    """Run ``fn(session, actor=<this browser's session>, **kwargs)`` in one write transaction.

    Returns (result, None) or (None, the core's refusal); a database that cannot answer
    comes back as a ``CoreError`` saying so. The actor is the browser's session as the
    request carries it now, never an operator remembered from an earlier run: the core
    (``core.access.permissions.require``) reads in the write's own transaction whether that session
    may still act and with which role, so a callback of a tab left open after a sign-out,
    a deactivation, a demotion or an idle half hour is refused.

    The message is the core's own sentence (it says what to do next); nothing is changed
    when one comes back. Every cached read is cleared after a write that succeeded.
    """
    try:
        with session_scope(engine(), write=True) as session:
            result = fn(session, actor=session_of(_token()), **kwargs)
    except CoreError as exc:
        return None, exc
    except OperationalError:
        return None, CoreError(DB_BUSY)
    st.cache_data.clear()
    return result, None


# --- the guard -------------------------------------------------------------------------------


def _token() -> str | None:
    """The session token: the browser's cookie, else (page tests) ``auth_token`` in the state."""
    raw = st.context.cookies.get(SESSION_COOKIE)
    if isinstance(raw, str) and raw:  # (AppTest has no cookies)
        # The signed cookie of server.py, <token>.<hmac>: a forged one is refused here.
        return token_from_cookie(raw)
    return st.session_state.get("auth_token")


def _current_path() -> str:
    url = st.context.url
    path = urlsplit(url).path if url else ""
    return path or "/"


def _signed_out() -> NoReturn:
    st.title("MAC Security Console")
    st.info("You are signed out.", icon=":material/lock:")
    st.link_button(
        "Sign in",
        f"{SIGN_IN_PATH}?next={quote(_current_path(), safe='/')}",
        type="primary",
        icon=":material/login:",
    )
    st.stop()


def roles_that_may(action: str) -> str:
    """'Support or Administrator': the operator roles that may do ``action``."""
    labels = [ROLE_LABELS[r] for r in ROLE_LABELS if r in PERMISSIONS.get(action, frozenset())]
    return " or ".join(labels) or "no operator"


def require(action: str = "read", *, touch: bool = False) -> Actor:
    """The signed-in operator, or stop the page (signed out, or a role that may not ``action``).

    ``touch`` records the visit (``last_seen_at``, in a write transaction); the entry point
    does it once a run, so the page's own call stays a read.
    """
    token = _token()
    actor = None
    if token:
        try:
            with session_scope(engine(), write=touch) as session:
                actor = session_actor(session, token, touch=touch)
        except OperationalError:
            st.error(DB_BUSY, icon=":material/cloud_off:")
            st.stop()
    if actor is None:
        _signed_out()
    if not actor.can(action):
        role = ROLE_LABELS.get(actor.role, actor.role)
        st.error(
            f"Your role ({role}) may not open this page; it needs the {roles_that_may(action)} role. "
            "Ask an administrator if you need it.",
            icon=":material/block:",
        )
        st.stop()
    return actor


def _sign_out_everywhere(username: str) -> None:
    _, error = write(sessions.sign_out_everywhere, username=username)
    if error:
        st.session_state["sidebar_flash"] = ("error", error)


def sidebar(actor: Actor) -> None:
    """The operator badge, the sign-out link and "Sign out everywhere"."""
    with st.sidebar:
        st.markdown(f":material/badge: **{plain(actor.name)}** · {ROLE_LABELS.get(actor.role, actor.role)}")
        st.link_button("Sign out", SIGN_OUT_PATH, icon=":material/logout:", width="stretch")
        st.button(
            "Sign out everywhere",
            key="sidebar_sign_out_everywhere",
            icon=":material/devices:",
            width="stretch",
            type="tertiary",
            help="Ends every session of yours, in this browser and any other.",
            on_click=_sign_out_everywhere,
            args=(actor.name,),
        )
        flash("sidebar_flash")


def permission_help(actor: Actor, action: str) -> str | None:
    """The help text of a write control the operator's role may not use (None when it may)."""
    if actor.can(action):
        return None
    return f"Needs the {roles_that_may(action)} role (you are {ROLE_LABELS.get(actor.role, actor.role)})."


# --- layout and formatting -------------------------------------------------------------------


def header(title: str, purpose: str) -> None:
    """Every page starts the same way: its title and one line saying what it is for."""
    st.title(title)
    st.caption(purpose)


def error(err: CoreError | str, *, icon: str = ":material/error:") -> None:
    """A refusal as an error alert: the core's sentence, shown as text (it may quote what was typed)."""
    st.error(plain(err), icon=icon)


def flash(key: str) -> None:
    """Show (once) the message a callback left in ``st.session_state[key]``: (kind, text or error)."""
    message = st.session_state.pop(key, None)
    if not message:
        return
    kind, text = message
    if kind != "success":
        error(text)
        return
    text = plain(text)  # the messages name brands, mailboxes and labels, and quote the core
    st.toast(text, icon=":material/check_circle:")
    st.success(text, icon=":material/check_circle:")


# Streamlit's Markdown (CommonMark, GFM, and its own :icon:, :color[...] and $math$) takes
# every ASCII punctuation character as possible syntax; CommonMark lets a backslash stand
# before any of them to mean the character itself.
_MARKDOWN_PUNCTUATION = frozenset(string.punctuation)
# Whitespace that would start a new line (a heading, a list item, a quote) or a code block.
_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")
# GFM's literal autolinks (http://, https://, www., name@host) and emoji shortcodes are found
# by Streamlit's renderer (remark-gfm's mdast transform) in the text *after* escapes are
# resolved, so a backslash does not stop them; an invisible WORD JOINER where they would start
# does. It is kept out of everything else.
WORD_JOINER = "\u2060"
_AUTOLINK_STARTS = re.compile(
    r"(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?=@)|(?<=:)(?=[\w+-])", re.IGNORECASE
)


def pick_then_confirm(
    label: str,
    options: list[str],
    *,
    key: str,
    question: Callable[[str], str],
    on_confirm: Callable[[str], None],
    deny: str | None = None,
) -> None:
    """A select box and "Revoke…", then the question and "Revoke it" / "Keep it".

    The widgets' keys are ``{key}_label``, ``{key}_open``, ``{key}_confirm`` and
    ``{key}_cancel``; the choice waiting for its answer is ``st.session_state[f"{key}_pending"]``,
    taken from the select box when the click arrives (a change and a click can reach the
    server together). ``deny`` (why this operator may not) disables both steps.
    """
    if not options:
        return
    pending_key = f"{key}_pending"
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.selectbox(label, options, key=f"{key}_label", disabled=bool(deny))
    right.button(
        "Revoke…",
        key=f"{key}_open",
        disabled=bool(deny),
        help=deny,
        on_click=lambda: st.session_state.update({pending_key: st.session_state.get(f"{key}_label")}),
    )
    pending = st.session_state.get(pending_key)
    if pending not in options or deny:
        return
    st.warning(question(pending), icon=":material/warning:")
    a, b = st.columns(2)

    def confirm() -> None:
        st.session_state.pop(pending_key, None)
        on_confirm(pending)

    a.button("Revoke it", key=f"{key}_confirm", type="primary", on_click=confirm)
    b.button("Keep it", key=f"{key}_cancel", on_click=lambda: st.session_state.pop(pending_key, None))


def shown_once(message: str, secret: str) -> None:
    """A secret the console shows this once (a one-time password, a token), with what to do."""
    st.success(message, icon=":material/check_circle:")
    st.code(secret, language=None)


def plain(text: object) -> str:
    """``text`` as Markdown that renders as exactly that text, on one line, never as markup.

    For every value that came from a customer, a file, the URL or another operator and is
    shown by an element that renders Markdown: ``st.caption(f"… {_ui.plain(name)} …")``.
    Elements that show plain text (``st.text``, ``st.code``, dataframes, option lists) need
    it not. Line breaks become spaces; every ASCII punctuation character is backslash-escaped
    (CommonMark 2.4), which stops links, images, emphasis, headings, HTML, ``:icon:``,
    ``:color[...]`` and ``$math$``; a WORD JOINER (U+2060, invisible) stops GFM's literal
    autolinks, which a backslash does not.
    """
    flat = _LINE_BREAKS.sub(" ", str(text))
    joined = _AUTOLINK_STARTS.sub(WORD_JOINER, flat)
    return "".join(f"\\{c}" if c in _MARKDOWN_PUNCTUATION else c for c in joined)


def code(text: object) -> str:
    """``text`` as an inline code span: shown as exactly that text, in monospace, and copied
    without ``plain``'s joiners (an address to type elsewhere). The fence is longer than any
    run of backticks inside (CommonMark 6.1); line breaks become spaces, since a blank line
    would end the span; Streamlit rewrites ``:material/`` even in code, so it gets a joiner.
    """
    flat = _LINE_BREAKS.sub(" ", str(text)).replace(":material/", f":{WORD_JOINER}material/")
    if not flat:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat[0] in "` " or flat[-1] in "` " else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def unjoined(typed: str) -> str:
    """What an operator typed or pasted, without the joiners ``plain`` put in: an address
    copied from a heading is then found again."""
    return typed.replace(WORD_JOINER, "")


def chart_label(text: object) -> str:
    """``text`` for a plotly axis, legend or hover label, shown as text: plotly reads a
    subset of HTML there (``<a href>``, ``<b>``, ``<br>``) and decodes entities."""
    return html.escape(str(text), quote=False)


def num(value: int | float | None) -> str:
    return "–" if value is None else f"{value:,}"


def rows(n: int, one: str = "row", many: str | None = None) -> str:
    """'1 row', '12,345 rows'."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def when(value: datetime | None) -> str:
    """A time as people read it, in UTC and saying so."""
    if value is None:
        return "never"
    if value.tzinfo is None:  # the tables store UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def on_off(value: bool) -> str:
    return "On" if value else "Off"


_DATE_COLUMNS = {
    "created_at": "Created (UTC)",
    "oldest_created_at": "Oldest created (UTC)",
    "last_used_at": "Last used (UTC)",
    "last_login_at": "Last login (UTC)",
    "totp_enrolled_at": "Enrolled (UTC)",
    "twofa_enrolled_at": "Enrolled (UTC)",
    "revoked_at": "Revoked (UTC)",
    "at": "When (UTC)",
}
_TEXT_COLUMNS = {
    "email": "Mailbox",
    "display_name": "Name",
    "brand": "Brand",
    "domain": "Domain",
    "status": "Status",
    "twofa": "2FA",
    "label": "Device label",
    "state": "State",
}


def column_config(names: list[str]) -> dict[str, Any]:
    """Human headings for the columns the core returns; dates shown as UTC minutes."""
    config: dict[str, Any] = {}
    for name in names:
        if name in _DATE_COLUMNS:
            config[name] = st.column_config.DatetimeColumn(_DATE_COLUMNS[name], format="YYYY-MM-DD HH:mm")
        elif name in _TEXT_COLUMNS:
            config[name] = st.column_config.TextColumn(_TEXT_COLUMNS[name])
        elif name == "app_passwords":
            config[name] = st.column_config.NumberColumn("App passwords")
    return config
