"""notebooks/adoption.ipynb: it runs top to bottom on demo data and its figures match an
independent count (plain SQL over every mailbox, tests/oracles.py).

The notebook runs headless through nbclient in a Python kernel started from this test's
interpreter (the ``python3`` kernelspec's ``python`` resolves to ``sys.executable``), with
the repository root as its working directory. The kernel inherits this process's
environment: tests/conftest.py has set MAC_SECRET_KEY and MAC_DATA_DIR, and the test points
DATABASE_URL at a fresh SQLite file seeded with small demo data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from core.demo.seed import seed_demo
from core.platform.db import get_engine, upgrade_schema
from tests.oracles import adoption_by_sql, pct

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "adoption.ipynb"
KEY_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(\S+)$", re.MULTILINE)
GROUP_LINE = re.compile(
    r"^(Users may (?:not )?disable 2FA): (\d+) brands, (\d+) users, ([\d.]+|nan) % users-weighted, "
    r"median brand ([\d.]+|nan) %$",
    re.MULTILINE,
)


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[nbformat.NotebookNode, str]]:
    """The notebook, executed against a new SQLite file seeded with 8 brands and 600 users."""
    url = f"sqlite:///{tmp_path_factory.mktemp('notebook')}/mac.db"
    upgrade_schema(url)
    seed_demo(engine=get_engine(url), brands=8, users=600, seed=7)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)  # the kernel inherits os.environ
        client = NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
        )
        client.execute()  # raises CellExecutionError on the first failing cell
    yield nb, url
    get_engine(url).dispose()


@pytest.mark.slow
def test_notebook_runs_without_errors(executed) -> None:
    nb, _url = executed
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    charts = [o for c in code for o in c.outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(charts) == 4  # bar per brand, overall trend, top-5 trend, the analysis' box plot
    for chart in charts:  # offline: the figure as JSON, no CDN script
        assert "cdn.plot.ly" not in str(chart.get("data", {}).get("text/html", ""))


def _oracle(url: str) -> dict[str, dict]:
    """Per brand, counted by plain SQL over every mailbox (tests/oracles.py), not by core."""
    with get_engine(url).connect() as conn:
        return adoption_by_sql(conn)


@pytest.mark.slow
def test_headline_figures_match_an_independent_count(executed) -> None:
    nb, url = executed
    headline = [c for c in nb.cells if "headline" in c.get("metadata", {}).get("tags", [])]
    assert len(headline) == 1
    printed = dict(KEY_LINE.findall(_stdout(headline[0])))
    rows = _oracle(url).values()
    users = sum(r["users"] for r in rows)
    users_2fa = sum(r["users_2fa"] for r in rows)
    users_ap = sum(r["users_app_passwords"] for r in rows)
    assert users > 0 and users_2fa > 0 and users_ap > 0  # the demo data is not empty
    assert int(printed["TOTAL_USERS"]) == users
    assert int(printed["USERS_2FA"]) == users_2fa
    assert float(printed["PCT_2FA"]) == pct(users_2fa, users)
    assert int(printed["USERS_APP_PASSWORDS"]) == users_ap
    assert float(printed["PCT_APP_PASSWORDS"]) == pct(users_ap, users)


@pytest.mark.slow
def test_disable_2fa_analysis_matches_an_independent_count(executed) -> None:
    nb, url = executed
    found = {m[0]: m[1:] for c in nb.cells if c.cell_type == "code" for m in GROUP_LINE.findall(_stdout(c))}
    rows = [r for r in _oracle(url).values() if r["allow_2fa"]]
    assert {r["allow_user_disable_2fa"] for r in rows} == {True, False}  # both groups have brands
    for label, may_disable in (("Users may disable 2FA", True), ("Users may not disable 2FA", False)):
        group = [r for r in rows if r["allow_user_disable_2fa"] is may_disable]
        users = sum(r["users"] for r in group)
        on = sum(r["users_2fa"] for r in group)
        pcts = sorted(r["pct_2fa"] for r in group if r["users"] > 0)
        brands, n_users, weighted, median = found[label]
        assert int(brands) == len(group)
        assert int(n_users) == users
        assert weighted == (str(round(100 * on / users, 1)) if users else "nan")
        if not pcts:
            assert median == "nan"
            continue
        mid = len(pcts) // 2
        expected = pcts[mid] if len(pcts) % 2 else (pcts[mid - 1] + pcts[mid]) / 2
        assert float(median) == round(expected, 1)


def test_notebook_in_git_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["kernelspec"]["language"] == "python"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == []
        assert cell.execution_count is None
        assert "execution" not in cell.metadata  # nbclient's timings are not committed either
