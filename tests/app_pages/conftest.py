"""Page tests: the real entry point (dashboard.py) in AppTest, over a real SQLite file.

AppTest runs the script in this process, so the database is chosen the way the app reads
it: DATABASE_URL in the environment, the settings cache cleared, the engines disposed.
AppTest has no cookies: a real operator is signed in with ``tests.factories.session_token``
and the token preset as ``auth_token`` in the session state (``app_pages._ui._token``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from core.platform.config import get_settings
from core.platform.db import dispose_engines, get_engine, session_scope, upgrade_schema
from tests.factories import session_token, setup_basic

ROOT = Path(__file__).resolve().parents[2]
ENTRY = str(ROOT / "dashboard.py")


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path}/pages.db"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    dispose_engines()
    upgrade_schema(url)
    yield get_engine(url)
    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture
def basic(engine: Engine) -> dict:
    """Alpha Mail (all on) and Beta Mail (all off), a domain each, an operator of every role."""
    return setup_basic(engine)


def sign_in(engine: Engine, username: str) -> str:
    with session_scope(engine, write=True) as s:
        return session_token(s, username)


@pytest.fixture
def open_page(engine: Engine) -> Callable[..., AppTest]:
    """open_page("users", as_="support", user="x@y") -> the AppTest after the page's first run."""

    def _open(page: str | None = None, *, as_: str | None = "admin", **query: str) -> AppTest:
        at = AppTest.from_file(ENTRY, default_timeout=60)
        if as_:
            at.session_state["auth_token"] = sign_in(engine, as_)
        at.run()
        if page:
            at.switch_page(f"app_pages/{page}.py")
            at.query_params.update(query)
            at.run()
        return at

    return _open


_COMMONMARK = MarkdownIt("commonmark")
_TAG = re.compile(r"<[^>]*>")


def read(body: str) -> str:
    """What a person reads in an element whose body is the Markdown ``body``: rendered by a
    CommonMark renderer, tags dropped, entities decoded, the invisible U+2060 left out."""
    rendered = _TAG.sub("", _COMMONMARK.render(body))
    return unescape(rendered).replace("\u2060", "").strip()


MARKDOWN_ELEMENTS = (
    "title",
    "subheader",
    "markdown",
    "caption",
    "info",
    "success",
    "warning",
    "error",
    "toast",
)


def html(at: AppTest) -> str:
    """The HTML a CommonMark renderer makes of every Markdown element of the page (for markup checks)."""
    return "\n".join(
        _COMMONMARK.render(str(e.value)).replace("\u2060", "")
        for kind in MARKDOWN_ELEMENTS
        for e in getattr(at, kind)
    )


def texts(at: AppTest) -> str:
    """Every markdown, caption, alert and title of the page as read, one a line (for `in` checks)."""
    return "\n".join(str(read(e.value)) for kind in MARKDOWN_ELEMENTS for e in getattr(at, kind))


def frame(at: AppTest, column: str):
    """The first table of the page with ``column`` (plain tables carry no key in AppTest)."""
    for df in at.dataframe:
        value = df.value
        if column in value.columns:
            return value
    raise AssertionError(f"no table with a {column!r} column")
