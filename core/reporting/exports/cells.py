"""The cell rules: what a CSV cell holds so that a spreadsheet neither splits nor runs it.

Values: times as ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SSZ``, empty cell for no value, booleans
as True/False, percentages as numbers with one decimal; a row is its cells with commas
between and CRLF at the end (RFC 4180).

Quoting: every text cell is written between double quotes, an inner double quote doubled
(RFC 4180), even when nothing in it needs quotes (an empty text is ``""``); numbers,
booleans, times and missing values are bare (they never hold a separator, a quote or a
line break). So a ``,`` reader never splits a text, whatever it holds.

Formula injection (OWASP "CSV Injection"): every text cell goes through ``safe_cell``, which
prefixes a ``'`` when the text begins with ``= + - @``, tab, CR or LF, also when only
whitespace comes before such a character (some importers trim it) and for the full-width
forms ``＝ ＋ － ＠`` (U+FF1D, U+FF0B, U+FF0D, U+FF20), which some spreadsheet locales
treat as their ASCII twins. Numbers are numbers, never text, so they are never prefixed:
a negative number stays a number.

Read with ``;`` as the separator (Excel in most European locales), the quotes do not
protect a text after the first column: such a reader takes a double quote as quoting only
at the start of a field, so once the first cell's closing quote is behind it, every ``;``
in the line starts a new field and every CR or LF a new row, inside the other cells' quotes
or not. Quoting cannot prevent that (the bytes of ``x;=cmd`` are ``x;=cmd``), so the guard
also applies to every piece such a reader can make of a text: the part after each ``;``,
CR or LF, up to the next one. A ``'`` goes before that part when, its leading whitespace
and double quotes set aside, it begins with one of the characters above, or when those
leading characters hold one (a tab): after ``;"`` a reader quotes, ``""`` then stands for
one quote, and the field may begin with whatever follows the quotes it drops, and some
readers trim spaces. A ``'`` also goes after a ``;``, CR or LF that ends the text (the
cell's closing quote would open a quoted field that runs into the next line).
``x;=cmd|' /C calc'!A0;`` becomes ``"x;'=cmd|' /C calc'!A0;'"``: a ``,`` reader gets the
text with its two apostrophes, a ``;`` reader the fields ``…,"x``, ``'=cmd|' /C calc'!A0``
and ``'"…``. Nothing else changes: a ``,`` reader gets back exactly the text with those
apostrophes.

``guard_sql`` is the rule for a text's start written in SQL, for the users export, which
cannot afford Python work per cell (``core.reporting.exports.streams``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, case, func, literal

FORMULA_TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")
# A first character worth a closer look: a trigger, or whitespace that may hide one.
_LOOK_CLOSER = FORMULA_TRIGGERS | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
_SPACES = "".join(sorted(c for c in _LOOK_CLOSER if c.isspace()))  # what str.lstrip() removes
_SPACES_AND_QUOTE = _SPACES + '"'
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
# Where a reader with ";" as its separator may start a field or a row inside a text.
_PIECE_BREAK = re.compile("([;\r\n])")


def escape_text(s: str) -> str:
    if s and s[0] in _LOOK_CLOSER and (s[0] in FORMULA_TRIGGERS or s.lstrip()[:1] in FORMULA_TRIGGERS):
        s = "'" + s
    if ";" in s or "\r" in s or "\n" in s:
        return escape_pieces(s)
    return s


def escape_pieces(s: str) -> str:
    """``s`` with a ``'`` before each piece after a ``;``, CR or LF that a ``;`` reader could
    take for a formula (see the module docstring); the first piece is left as it is."""
    parts = _PIECE_BREAK.split(s)  # text, break, text, break, ..., text
    last = len(parts) - 1
    for i in range(2, len(parts), 2):
        piece = parts[i]
        solid = piece.lstrip(_SPACES_AND_QUOTE)
        # its leading whitespace and quotes: a reader may drop any of the quotes (and a
        # reader that trims, the spaces), so none of them may be a trigger either (a tab)
        lead = piece[: len(piece) - len(solid)]
        if (
            solid[:1] in FORMULA_TRIGGERS
            or not FORMULA_TRIGGERS.isdisjoint(lead)
            or (not piece and i == last)
        ):
            parts[i] = "'" + piece
    return "".join(parts)


def quoted(s: str) -> str:
    """RFC 4180: between double quotes, an inner one doubled."""
    return '"' + s.replace('"', '""') + '"'


def iso_utc(value: datetime) -> str:
    """ISO 8601 UTC with Z; a naive datetime is taken as UTC (the tables store UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(ISO_Z)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def safe_cell(value: Any) -> Any:
    """One CSV cell that a spreadsheet will not run as a formula.

    None -> ""; numbers (int, float, Decimal, bool) unchanged; datetime -> ISO 8601 UTC
    with Z, date -> YYYY-MM-DD; dict/list -> compact JSON; any other value as text, with a
    ``'`` at its start when it would start a formula and after each ``;``, CR or LF that
    would start one for a ``;`` reader (see the module docstring).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return escape_text(compact_json(value))
    return escape_text(str(value))


def csv_cell(value: Any) -> str:
    """One cell as written: a number, boolean, time or missing value bare; anything else is
    text, through ``safe_cell`` and between double quotes (an inner quote doubled)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return quoted(safe_cell(value))


def csv_line(values: Iterable[Any]) -> str:
    """One row as written: ``csv_cell`` of each value, commas between, CRLF at the end."""
    return ",".join(map(csv_cell, values)) + "\r\n"


def text_or_none(value: Any) -> Any:
    """safe_cell for a text column that keeps missing values missing (DataFrames)."""
    return escape_text(value) if isinstance(value, str) else value


def json_or_none(value: Any) -> str | None:
    """A JSON value as compact JSON text; None stays None."""
    return None if value is None else compact_json(value)


_TRIGGER_CODES = sorted(map(ord, FORMULA_TRIGGERS))
_SPACE_CODES = sorted(map(ord, _SPACES))
# No trigger and no whitespace lies in A..~ (65..126): most cells are settled by one compare.
_PLAIN_CODES = (65, 126)


def guard_sql(text: Any, first_code: Callable[[Any], Any]) -> Any:
    """SQL for the rule of a text's start (the first step of ``escape_text``), never NULL;
    ``first_code`` gives the code point of a text's first character (PostgreSQL ``ascii``,
    SQLite ``unicode``). The pieces after a ``;``, CR or LF are Python's (``escape_pieces``)."""
    code = first_code(text)
    quoted = literal("'", String) + text
    return case(
        (code.between(*_PLAIN_CODES), text),
        (code.in_(_TRIGGER_CODES), quoted),
        (
            and_(
                code.in_(_SPACE_CODES),
                first_code(func.ltrim(text, literal(_SPACES, String))).in_(_TRIGGER_CODES),
            ),
            quoted,
        ),
        else_=func.coalesce(text, ""),
    )
