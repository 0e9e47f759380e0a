"""A page of a user search, and how many match: the plan for each kind of search.

What matches is ``core.reporting.search_query``; here is how to reach a page of it
quickly at a million mailboxes, on PostgreSQL (the trigram index, a walk of the address
index, the users of a brand or domain) and on SQLite (the FTS5 table of
``core.reporting.search_index``).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Select, column, func, literal, select, table, text
from sqlmodel import Session

from core.platform.models import User
from core.reporting import search_index
from core.reporting.search_query import (
    UserSearch,
    clean_fragment,
    like_escape,
    owner_conditions,
    user_search_query,
)

SEARCH_LIMIT_MAX = 500


def _narrow_by_ngrams(session: Session, stmt: Select, search: UserSearch) -> Select:
    """Add the trigram index's candidates to ``stmt`` where that is the quicker plan.

    PostgreSQL's planner uses the pg_trgm index for the LIKE by itself; SQLite needs the
    FTS5 table named explicitly (see core.reporting.search_index).
    """
    frag = clean_fragment(search.text)
    if len(frag) < 3 or session.get_bind().dialect.name != "sqlite":
        return stmt
    fts = table(search_index.FTS_TABLE, column("rowid"))
    match = text(f"{search_index.FTS_TABLE} MATCH :q").bindparams(q=search_index.fts_phrase(frag))
    capped = select(fts.c.rowid).where(match).limit(search_index.CANDIDATE_CAP + 1).subquery()
    if (session.scalar(select(func.count()).select_from(capped)) or 0) > search_index.CANDIDATE_CAP:
        return stmt  # a common fragment: walking the address index finds a page sooner
    return stmt.where(User.id.in_(select(fts.c.rowid).where(match)))


def _pg_candidate_page(
    session: Session, search: UserSearch, after_email: str | None, limit: int, cap: int
) -> list[int] | None:
    """PostgreSQL: the ids of the page, ranked among the trigram candidates; None when
    there are more than ``cap`` of them.

    Left to itself, the planner answers ``LIKE '%frag%' ORDER BY email LIMIT n`` by
    walking the address index and fetching every row to test it, betting that matches
    are spread evenly. They are not: a fragment of a first name ("talie", "kather")
    matches a few thousand addresses that all sort after hundreds of thousands of
    others, and the walk reads 700,000 rows (over a second) to fill a page.

    Here the candidates come from the folded trigram index (core.reporting.search_index), at most
    ``cap + 1`` of them, behind a ``LIMIT`` that keeps the planner from ordering
    them by the address index; ``strpos`` is the exact test (the same as the LIKE, and
    one no index serves, so the weaker unfolded index is left out). Only the id, the
    address and the filters' joins are read (``keys_only``). ``count(*) OVER ()`` says
    how many there were, and a top-N sort of those few thousand picks the page: one pass
    over the candidates' rows. The folded pattern is written into the statement, not
    bound: psycopg prepares a statement it has run five times, and PostgreSQL may then
    plan it once for any pattern; each fragment must be planned with its own trigrams.
    """
    frag = clean_fragment(search.text)
    pattern = f"%{like_escape(search_index.fold(frag))}%"
    keys = user_search_query(replace(search, text=""), keys_only=True).where(
        search_index.folded(User.email).like(literal(pattern, literal_execute=True), escape="\\"),
        func.strpos(User.email, frag) > 0,
    )
    return _ranked_page(session, keys, after_email, limit, cap)


def _pg_walk_page(session: Session, search: UserSearch, after_email: str | None, limit: int) -> list[int]:
    """PostgreSQL: the ids of the page, found by walking the address index in slices.

    For a fragment with more matches than ``CANDIDATE_CAP`` (one address in two hundred
    or more): the first page usually lies in the first few thousand addresses. Each
    slice is the next ``WALK_SLICE`` addresses in order (a ``LIMIT`` the planner can only
    serve from the address index) and is read lazily, so the walk stops at the page's
    last match; the planner's own choice, on estimates that do not know how the matches
    cluster, sometimes sorted every match instead. Filters join the slice by id.

    When the first slice does not fill the page, the matches cluster further on ("lie"
    is in ten thousand first names, none near the start of the alphabet): the rest of
    the page is ranked among up to ten times ``CANDIDATE_CAP`` candidates after the
    slice, a few tens of milliseconds where walking on would take a second. Only a
    fragment both that common and that clustered walks on, in doubling slices.
    """
    pattern = f"%{like_escape(clean_fragment(search.text))}%"
    rest = replace(search, text="")
    ids: list[int] = []
    lo = after_email
    size = search_index.WALK_SLICE
    while len(ids) < limit:
        w = select(User.id, User.email).order_by(User.email).limit(size)
        if lo:
            w = w.where(User.email > lo)
        w = w.subquery("w")
        if rest == UserSearch():
            found = select(w.c.id)
        else:
            found = (
                user_search_query(rest, keys_only=True).join(w, w.c.id == User.id).with_only_columns(w.c.id)
            )
        found = found.where(w.c.email.like(pattern, escape="\\")).order_by(w.c.email).limit(limit - len(ids))
        ids += session.scalars(found).all()
        if len(ids) >= limit:
            break
        n, lo = session.execute(select(func.count(), func.max(w.c.email))).one()
        if n < size:
            break  # the walk reached the last address
        if size == search_index.WALK_SLICE:
            more = _pg_candidate_page(session, search, lo, limit - len(ids), search_index.CANDIDATE_CAP * 10)
            if more is not None:
                return ids + more
        size *= 2
    return ids


def _owner_page(
    session: Session, search: UserSearch, after_email: str | None, limit: int
) -> list[int] | None:
    """The ids of the page among the users of the brand or domain filter, or None when
    more than ``CANDIDATE_CAP`` users match.

    A brand holds a few hundred of a million mailboxes, spread through the address order:
    walking the address index to fill a page would read most of the table. Here the
    matches are read from the brand's domains (``owner_conditions``) behind a ``LIMIT``
    that keeps the planner off the address index, and the page is sorted among them. A
    filter with more matches than the cap has them densely enough for the walk.
    """
    keys = user_search_query(search, keys_only=True).where(*owner_conditions(session, search))
    return _ranked_page(session, keys, after_email, limit, search_index.CANDIDATE_CAP)


def _ranked_page(
    session: Session, keys: Select, after_email: str | None, limit: int, cap: int
) -> list[int] | None:
    """The ids of the page among the ``(id, email)`` rows of ``keys``, or None when there
    are more than ``cap`` of them. The ``LIMIT`` inside keeps the planner from answering
    by the address index; ``count(*) OVER ()`` says how many there were, and a top-N sort
    of those few thousand picks the page, in one pass over them."""
    if after_email:
        keys = keys.where(User.email > after_email)
    k = keys.limit(cap + 1).subquery("k")
    page = select(k.c.id, func.count().over().label("n")).order_by(k.c.email).limit(limit)
    rows = session.execute(page).all()
    if rows and rows[0].n > cap:
        return None
    return [r.id for r in rows]


def search_users(
    session: Session, search: UserSearch, *, after_email: str | None = None, limit: int = 50
) -> list[dict]:
    """A page of users matching ``search``, ordered by address; pass the last address of a
    page as ``after_email`` for the next one (keyset pagination, no OFFSET).

    A fragment of three characters or more is first looked up in the trigram index:
    when it has at most ``CANDIDATE_CAP`` matches, those are sorted and the page taken
    from them; a commoner one walks the address index, which finds a page of dense
    matches quickly. On PostgreSQL ``_pg_candidate_page`` and ``_pg_walk_page`` find the
    page's ids and one more query reads its rows; on SQLite ``_narrow_by_ngrams`` adds
    the candidates to the query. A shorter fragment is left to the planner (it has no
    trigram, and such fragments match densely).
    """
    limit = max(1, min(int(limit), SEARCH_LIMIT_MAX))
    stmt = user_search_query(search)
    trigrams = len(clean_fragment(search.text)) >= 3
    ids = None
    if trigrams and session.get_bind().dialect.name == "postgresql":
        ids = _pg_candidate_page(session, search, after_email, limit, search_index.CANDIDATE_CAP)
    if ids is None and (search.brand or search.domain):
        ids = _owner_page(session, search, after_email, limit)
    if ids is None and trigrams and session.get_bind().dialect.name == "postgresql":
        ids = _pg_walk_page(session, search, after_email, limit)
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(User.id.in_(ids))
    else:
        stmt = _narrow_by_ngrams(session, stmt, search)
    stmt = stmt.order_by(User.email).limit(limit)
    if after_email:
        stmt = stmt.where(User.email > after_email)
    return [dict(r) for r in session.execute(stmt).mappings()]


def count_users(session: Session, search: UserSearch, *, cap: int | None = None) -> int:
    """How many users match; with ``cap``, counting stops there (a page says "10,000+")."""
    stmt = _narrow_by_ngrams(session, user_search_query(search), search).where(
        *owner_conditions(session, search)
    )
    if cap is not None:
        stmt = stmt.limit(cap)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
