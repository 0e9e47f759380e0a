"""Single sign-on's configuration in ``.streamlit/secrets.toml``: which OIDC providers
Streamlit's ``[auth]`` section configures, and which operator each provider email signs in
as (``[mac.oidc_operators]``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from streamlit.auth_util import get_secrets_auth_section, is_authlib_installed, validate_auth_credentials
from streamlit.errors import StreamlitAuthError
from streamlit.runtime.secrets import secrets_singleton

from core.access import oidc

log = logging.getLogger(__name__)

# What makes a table of [auth] a provider's (as Streamlit reads it).
_PROVIDER_KEYS = frozenset({"client_id", "client_secret", "server_metadata_url"})


def sso_providers() -> list[tuple[str, str]]:
    """The OIDC providers ``.streamlit/secrets.toml`` configures: (name, button label).

    Streamlit's format: ``[auth]`` with ``redirect_uri`` and ``cookie_secret``, then either
    one ``[auth.NAME]`` table per provider or the provider's keys in ``[auth]`` itself (the
    "default" provider). A provider Streamlit would refuse is left out, with a warning in
    the server's log. Without an ``[auth]`` section: none.
    """
    section = get_secrets_auth_section()
    if not section:
        return []
    names = [
        str(name)
        for name, value in section.items()
        if isinstance(value, Mapping) and _PROVIDER_KEYS & set(value.keys())
    ]
    if not names and _PROVIDER_KEYS & set(section.keys()):
        names = ["default"]
    if names and not is_authlib_installed():
        log.warning("Single sign-on is configured but Authlib is missing: pip install -r requirements.txt")
        return []
    found = []
    for name in names:
        try:
            validate_auth_credentials(name)
        except StreamlitAuthError as exc:
            log.warning("Single sign-on provider %r left out: %s", name, exc)
            continue
        label = "single sign-on" if name == "default" else name.replace("-", " ").title()
        found.append((name, label))
    return found


def sso_directory() -> dict[str, str]:
    """``[mac.oidc_operators]`` of secrets.toml: which operator each provider email signs in as."""
    if not secrets_singleton.load_if_toml_exists():
        return {}
    mac = secrets_singleton.get("mac") or {}
    table = mac.get("oidc_operators") if isinstance(mac, Mapping) else None
    return oidc.oidc_directory(table if isinstance(table, Mapping) else None)
