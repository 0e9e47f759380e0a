"""The streamed CSV download route: only the signed-in operator the link was made for,
before it expires, and the rows it says; a server on SQLite and one on PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from core.access.permissions import Actor
from core.platform.db import session_scope
from core.reporting import links
from core.reporting.exports import files
from core.reporting.exports.cells import FORMULA_TRIGGERS
from tests.conftest import new_database
from tests.factories import make_brand, make_domain, make_user
from tests.live_server import Server, new_server
from tests.web.test_server import Client, fresh_operator, sign_in

# Display names a ";" reader would split into a formula, and each one's cell as the export
# must write it: between double quotes (an inner one doubled), a ' before every piece that
# would start a formula. (No CRLF inside: the streaming test counts the lines by their CRLF.)
NAMES = [
    ("x;=cmd|' /C calc'!A0;", "\"x;'=cmd|' /C calc'!A0;'\""),
    ('"quoted";=x', '"""quoted"";\'=x"'),
    ("a,=1+1", '"a,=1+1"'),
    ("lf\n@x", '"lf\n\'@x"'),
    ("cr\r+x", '"cr\r\'+x"'),
    (" =1", '"\' =1"'),
    ("Zoë;－1", '"Zoë;\'－1"'),
    ("Test User", '"Test User"'),
]
USERS_HEADER = (
    "email,display_name,brand,domain,status,twofa,app_passwords,twofa_enrolled_at,created_at,last_login_at"
)
UTC_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def dl_server(request, tmp_path_factory) -> Iterator[Server]:
    """Brand "=Evil Brand" (2FA allowed), domain dl.example.com, mailboxes person000..person119:
    every third one enrolled, display names taken from NAMES in turn."""
    tmp = tmp_path_factory.mktemp("download")
    with ExitStack() as stack:
        url = None if request.param == "sqlite" else stack.enter_context(new_database("postgres", tmp))
        s = new_server(tmp, url=url)
        with session_scope(s.engine, write=True) as ses:
            brand = make_brand(ses, "=Evil Brand", allow_2fa=True)
            dom = make_domain(ses, brand, "dl.example.com")
            for i in range(120):
                user = make_user(ses, dom, f"person{i:03d}", twofa=i % 3 == 0)
                user.display_name = NAMES[i % len(NAMES)][0]
        try:
            s.start()
            yield s
        finally:
            s.stop()


def _signed_in(server: Server, username: str, role: str) -> Client:
    secret = fresh_operator(server, username, role)
    client = Client(server.base)
    assert sign_in(client, username, secret).status_code == 303
    return client


def test_users_export_streams_every_row_safely(dl_server):
    client = _signed_in(dl_server, "ana", "analyst")
    link = links.make_link(
        Actor(name="ana", role="analyst"), links.ExportRequest(kind="users", text="person")
    )
    response = client.get(link)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    header, *lines, end = text.split("\r\n")
    assert header == USERS_HEADER and end == ""
    assert len(lines) == 120
    # Each mailbox in the order made, each text cell quoted and neutralised, the brand too.
    for i, line in enumerate(lines):
        twofa = "on" if i % 3 == 0 else "off"
        start = (
            f'"person{i:03d}@dl.example.com",{NAMES[i % len(NAMES)][1]},'
            f'"\'=Evil Brand","dl.example.com","active","{twofa}",0,'
        )
        assert line.startswith(start), (i, line)
        enrolled = UTC_TIME if twofa == "on" else ""
        assert re.fullmatch(f"{enrolled},{UTC_TIME},", line[len(start) :]), (i, line)
    # Read with ";" as the separator (Excel in most of Europe): no field starts a formula.
    fields = [f for row in csv.reader(io.StringIO(text, newline=""), delimiter=";") for f in row]
    assert len(fields) > 120
    assert not [f for f in fields if f and (f[0] in FORMULA_TRIGGERS or f.lstrip()[:1] in FORMULA_TRIGGERS)]


def test_users_export_is_streamed_as_the_export_writes_it(dl_server):
    client = _signed_in(dl_server, "dan", "analyst")
    wanted = links.ExportRequest(kind="users", text="person", bom=True)
    response = client.get(links.make_link(Actor(name="dan", role="analyst"), wanted), stream=True)
    assert response.status_code == 200, response.text[:300]
    # Streamed: sent in chunks as they are written, never sized (and so held) up front.
    assert response.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.headers
    body = b"".join(response.iter_content(chunk_size=None))
    chunks = files.iter_csv("users", engine=dl_server.engine, search=wanted.search(), bom=True)
    assert body == "".join(chunks).encode("utf-8")  # the same iterator, byte for byte
    assert body.startswith(b"\xef\xbb\xbfemail,display_name,") and body.endswith(b"\r\n")
    assert body.count(b"\r\n") == 121


def test_a_link_for_another_operator_is_refused(dl_server):
    client = _signed_in(dl_server, "ben", "support")
    link = links.make_link(Actor(name="ana", role="analyst"), links.ExportRequest(kind="audit"))
    response = client.get(link)
    assert response.status_code == 403 and "another operator" in response.text


def test_expired_and_altered_links_are_refused(dl_server):
    client = _signed_in(dl_server, "cat", "analyst")
    me = Actor(name="cat", role="analyst")
    old = links.make_link(me, links.ExportRequest(kind="users"), now=time.time() - 3600)
    assert client.get(old).status_code == 403
    good = links.make_link(me, links.ExportRequest(kind="users", text="person001"))
    assert client.get(good.replace("person001", "person")).status_code == 403


def test_without_a_session_the_route_is_closed(dl_server):
    link = links.make_link(Actor(name="ana", role="analyst"), links.ExportRequest(kind="users"))
    response = Client(dl_server.base).get(link)
    # Signed out, a download link is a page like any other: off to sign-in, with no data.
    assert response.status_code == 303 and response.headers["location"].startswith("/signin?next=")
    assert "person" not in response.text
