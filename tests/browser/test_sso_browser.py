"""Single sign-on in Debian's Chromium: a real provider on another site, the real server.

The provider (tests/web/oidc_provider.py) is at ``localhost``, the console at ``127.0.0.1``:
the way back from the provider is a cross-site chain of redirects, as in production, so
this also checks that the console's SameSite=Strict session cookie reaches the dashboard.
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser.chromium import ARTIFACTS, launched, need_chromium
from tests.live_server import Server, new_server
from tests.web.oidc_provider import Provider
from tests.web.test_server import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[Server, Provider]]:
    need_chromium()
    provider = Provider()
    provider.start()
    tmp = tmp_path_factory.mktemp("browser-sso")
    server = new_server(tmp)
    secrets_file = tmp / "secrets.toml"
    secrets_file.write_text(
        provider.secrets_toml(server.base, "acme", {"nina@example.com": "nina", "stranger@example.com": "x"})
    )
    server.args = ["--secrets.files", str(secrets_file)]
    for name, role, actor in (("admin", "admin", ()), ("nina", "support", ("--actor", "admin"))):
        added = server.cli(
            "operators", "add", name, "--role", role, "--password-stdin", *actor, stdin=PASSWORD + "\n"
        )
        assert added.returncode == 0, added.stderr
    try:
        server.start()
        yield server, provider
    finally:
        server.stop()
        provider.stop()


@pytest.fixture(scope="module")
def browser(site) -> Iterator:
    with launched() as b:
        yield b


def test_support_operator_signs_in_with_the_provider(site, browser):
    server, provider = site
    ARTIFACTS.mkdir(exist_ok=True)
    provider.identity = {"sub": "n-1", "email": "Nina@Example.com", "email_verified": True}
    page = browser.new_page(viewport={"width": 1100, "height": 820})
    page.goto(f"{server.base}/users")
    page.wait_for_url(re.compile(r"/signin\?next=%2Fusers$"))
    page.screenshot(path=str(ARTIFACTS / "sso_sign_in.png"), full_page=True)
    page.get_by_role("link", name="Sign in with Acme").click()
    page.wait_for_url(f"{server.base}/users", timeout=30_000)
    page.get_by_text("Sign out").first.wait_for(timeout=30_000)
    page.get_by_text("nina").first.wait_for()
    # Support's dashboard: no administrator's page.
    assert page.get_by_text("Operators", exact=True).count() == 0
    page.screenshot(path=str(ARTIFACTS / "sso_dashboard.png"), full_page=True)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["mac_session"]["sameSite"] == "Strict"
    assert "_streamlit_user" not in cookies

    # Sign-out ends the console's session; the next visit asks again.
    page.goto(f"{server.base}/signout")
    page.wait_for_url(re.compile(r"/signin$"))
    page.goto(f"{server.base}/")
    page.wait_for_url(re.compile(r"/signin\?next=%2F$"))
    page.close()


def test_an_unknown_identity_sees_why(site, browser):
    server, provider = site
    provider.identity = {"sub": "z-1", "email": "nobody@example.com", "email_verified": True}
    page = browser.new_page(viewport={"width": 1100, "height": 820})
    page.goto(f"{server.base}/signin")
    page.get_by_role("link", name="Sign in with Acme").click()
    page.get_by_text(
        "There is no operator for nobody@example.com; ask an administrator to add one."
    ).wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "sso_refused.png"), full_page=True)
    page.get_by_role("link", name="Back to sign-in").click()
    page.wait_for_selector("#password")
    assert "mac_session" not in {c["name"] for c in page.context.cookies()}
    page.close()
