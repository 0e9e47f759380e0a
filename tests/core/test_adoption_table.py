"""core.reporting.exports.registry: the adoption report's rows, one home for the export and the CLI.

``adoption_table`` picks the rows by ``by`` for both; ``check_brand`` refuses a report for a
brand that does not exist, before anything is printed or written.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from core.platform.db import get_engine, session_scope
from core.platform.errors import NotFound
from core.reporting.adoption import AdoptionFilter, adoption_by_brand, adoption_by_domain
from core.reporting.exports import files, registry
from core.reporting.exports.registry import Report
from tests.factories import make_brand, make_domain, make_user


@pytest.fixture
def eng(sqlite_url: str) -> Engine:
    engine = get_engine(sqlite_url)
    with session_scope(engine, write=True) as s:
        alpha, beta = make_brand(s, "Alpha Mail"), make_brand(s, "Beta Mail")
        a, b = make_domain(s, alpha, "a.example.com"), make_domain(s, beta, "b.example.com")
        make_user(s, a, "one", twofa=True)
        make_user(s, a, "two")
        make_user(s, b, "three")
    return engine


def table(eng: Engine, report: Report, **kw: bool) -> list[dict]:
    with session_scope(eng) as s:
        return registry.adoption_table(s, report, **kw)


@pytest.mark.parametrize("brand", [None, "beta mail"])
def test_by_brand_and_by_domain_are_the_adoption_queries(eng, brand):
    with session_scope(eng) as s:
        by_brand = adoption_by_brand(s, AdoptionFilter(brand=brand))
        by_domain = adoption_by_domain(s, AdoptionFilter(brand=brand))
    assert table(eng, Report("adoption", by="brand", brand=brand)) == by_brand
    assert table(eng, Report("adoption", by="domain", brand=brand)) == by_domain
    assert [r["brand"] for r in by_brand] == (["Alpha Mail", "Beta Mail"] if brand is None else ["Beta Mail"])


def test_months_without_a_brand_are_per_brand_for_the_export_and_combined_on_request(eng):
    report = Report("adoption", by="month", months=3)
    apart = table(eng, report)
    combined = table(eng, report, months_combined=True)
    assert {r["brand"] for r in apart} == {"Alpha Mail", "Beta Mail"} and len(apart) == 6
    assert {r["brand"] for r in combined} == {"All"} and len(combined) == 3
    assert combined[-1]["users_2fa_end"] == sum(
        r["users_2fa_end"] for r in apart if r["month"] == combined[-1]["month"]
    )
    one = Report("adoption", by="month", brand="alpha mail", months=3)
    assert table(eng, one) == table(eng, one, months_combined=True)
    assert {r["brand"] for r in table(eng, one)} == {"Alpha Mail"}


@pytest.mark.parametrize("by", ["brand", "domain", "month"])
def test_the_export_writes_the_rows_of_the_table(eng, by):
    report = Report("adoption", by=by, brand="Alpha Mail")
    text = "".join(files.iter_csv("adoption", engine=eng, by=by, brand="Alpha Mail"))
    lines = text.splitlines()
    assert lines[0] == ",".join(report.columns)
    assert len(lines) - 1 == len(table(eng, report)) > 0


def test_a_report_for_a_brand_that_does_not_exist_is_refused(eng):
    with session_scope(eng) as s:
        with pytest.raises(NotFound, match="There is no brand 'Omega Mail'"):
            registry.check_brand(s, Report("adoption", by="month", brand="Omega Mail"))
        registry.check_brand(s, Report("adoption", brand="ALPHA MAIL"))
        registry.check_brand(s, Report("adoption"))
        # Only the adoption report names a brand that must exist; a search may find none.
        registry.check_brand(s, Report("users", brand="Omega Mail"))
