"""The web adapter: the gate, the sign-in pages and the signed download around the dashboard.

``server.py`` builds the ``st.App`` from these modules; ``streamlit run server.py`` serves it.
Like the pages, this package is thin: every decision about passwords, codes, throttling,
sessions and links is a core function (``core.access``, ``core.reporting.links``);
this package speaks HTTP.

Modules
    ``paths``      the console's own paths, which of them need no session, ``safe_next``.
    ``gate``       ``SessionGate``: the origin checks (RFC 6454), then the session.
    ``cookies``    the signed session cookie, the CSRF double submit, the cookies' flags.
    ``db``         database calls from the async routes, in a worker thread; the request's operator.
    ``pages``      the small HTML pages (password, code, enrol, setup, SSO done or refused),
                   their stylesheet, CSP and headers.
    ``signin``     ``/signin``, ``/signin/setup`` and ``/signout``.
    ``sso``        ``/signin/sso`` and the exchange of Streamlit's OIDC identity for a session.
    ``sso_config`` the OIDC providers of secrets.toml and the operator each email signs in as.
    ``downloads``  ``/download/export.csv``: a streamed CSV export behind a signed link.
    ``lifespan``   the customer-notice sender, started and stopped with the server.
    ``mail_auth``  ``POST /api/mail-auth``: a mail server's bearer token, one login, the console's answer.

Rules of the web
    - Own origin only (PRODUCT.md Trust): a websocket upgrade must carry the console's own
      ``Origin``; an HTTP request with another ``Origin``, or a state-changing one with
      neither the console's Origin nor its Referer, gets 403, on every path. The origin is
      ``MAC_PUBLIC_URL`` when set, else the request's Host with its scheme.
    - The one exception: a POST to ``/api/mail-auth`` (``paths.is_bearer_path``) comes from
      a mail server with a bearer token and no cookie; it passes the origin and session
      checks untouched, and the route itself answers 403 without a live token.
    - Every page needs a session, but the sign-in pages, Streamlit's OIDC routes, the health
      checks and the public front-end bundle: a page GET goes to ``/signin?next=<path>``,
      the websocket and any other request get 403.
    - A session cookie is ``<token>.<hmac>``; a forged one is refused before any database
      lookup. Every cookie is HttpOnly and SameSite=Strict (the SSO return address is Lax),
      Secure with ``MAC_COOKIE_SECURE``.
    - Every form carries a CSRF token equal to its cookie (double submit, constant time).
    - ``next`` is a path on this site, never another host nor a sign-in page (``safe_next``).
    - The sign-in pages have a strict CSP: no script, no external asset, one stylesheet by
      its hash; no framing; no caching.
    - A single sign-on identity is exchanged once for the console's own session, and
      Streamlit's cookie is cleared; an operator signs in by SSO only when
      ``[mac.oidc_operators]`` names them.
    - A download link is genuine, fresh and made for the operator who follows it.
    - Not supported: ``server.baseUrlPath`` (the paths assume the app at ``/``).
"""
