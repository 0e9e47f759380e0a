"""The entry point ``streamlit run server.py`` serves: ``dashboard.py`` behind the web adapter.

``app`` is an ``st.App``: the routes and the gate of ``web`` around the dashboard, and the
customer-notice sender beside it. What each piece does and the web's rules: ``web/__init__.py``.
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import Route

from core.reporting.links import DOWNLOAD_PATH
from web.downloads import download
from web.gate import SessionGate
from web.lifespan import lifespan
from web.mail_auth import mail_auth
from web.paths import MAIL_AUTH_PATH, SETUP_PATH, SIGN_IN_PATH, SIGN_OUT_PATH, SSO_PATH
from web.signin import login, logout, setup
from web.sso import sso_start

app = st.App(
    "dashboard.py",
    lifespan=lifespan,
    routes=[
        Route(DOWNLOAD_PATH, download, methods=["GET"]),
        Route(SIGN_IN_PATH, login, methods=["GET", "POST"]),
        Route(SSO_PATH, sso_start, methods=["GET"]),
        Route(SETUP_PATH, setup, methods=["GET", "POST"]),
        Route(SIGN_OUT_PATH, logout, methods=["GET", "POST"]),
        Route(MAIL_AUTH_PATH, mail_auth, methods=["POST"]),
    ],
    middleware=[Middleware(SessionGate)],
)
