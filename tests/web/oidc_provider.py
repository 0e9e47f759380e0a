"""A small, real OpenID Connect provider on loopback, for the single sign-on tests.

Starlette served by uvicorn in a thread of the test process: the discovery document, an
authorize endpoint that signs in whoever ``identity`` names (no form: the test decides)
and redirects back with a code, a token endpoint that checks the client, the redirect and
PKCE and answers with an RS256-signed ID token, and the JWKS with the public key. It is
addressed as ``localhost`` while the console runs at ``127.0.0.1``: two sites, as with a
real provider, so the browser's SameSite rules apply to the way back.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.browser.chromium import free_port

# ``identity`` leaves out email_verified when it is this: some providers never send it.
NO_CLAIM = object()


class Provider:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://localhost:{self.port}"
        self.client_id = "mac-console"
        self.client_secret = secrets.token_urlsafe(24)
        self.redirect_uri = ""  # the console's /oauth2callback, set by the test
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        # Who signs in at the next authorize request.
        self.identity: dict[str, Any] = {"sub": "u-1", "email": "ops@example.com", "email_verified": True}
        self._codes: dict[str, dict[str, Any]] = {}
        self.tokens_issued: list[str] = []  # every ID and access token given out
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- the endpoints ----------------------------------------------------------------------

    def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("redirect_uri") != self.redirect_uri:
            return PlainTextResponse("unknown client or redirect_uri", status_code=400)
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            return PlainTextResponse("unsupported request", status_code=400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = {
            "identity": dict(self.identity),
            "nonce": q.get("nonce"),
            "challenge": q.get("code_challenge"),
            "method": q.get("code_challenge_method"),
        }
        return RedirectResponse(
            f"{self.redirect_uri}?{urlencode({'code': code, 'state': q.get('state', '')})}", status_code=302
        )

    async def token(self, request: Request) -> Response:
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self._codes.pop(str(form.get("code", "")), None)  # a code works once
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or form.get("redirect_uri") != self.redirect_uri
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if grant["challenge"]:
            verifier = str(form.get("code_verifier", ""))
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if grant["method"] != "S256" or digest.decode() != grant["challenge"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        claims.update({k: v for k, v in grant["identity"].items() if v is not NO_CLAIM})
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        access_token = secrets.token_urlsafe(24)
        self.tokens_issued += [id_token, access_token]
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    def secrets_toml(self, console_base: str, name: str, operators: dict[str, str]) -> str:
        """A ``secrets.toml`` for the console at ``console_base``: this provider as ``[auth.NAME]``."""
        self.redirect_uri = f"{console_base}/oauth2callback"
        table = "".join(f'"{email}" = "{username}"\n' for email, username in operators.items())
        return (
            "[auth]\n"
            f'redirect_uri = "{self.redirect_uri}"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n\n'
            f"[auth.{name}]\n"
            f'client_id = "{self.client_id}"\n'
            f'client_secret = "{self.client_secret}"\n'
            f'server_metadata_url = "{self.issuer}/.well-known/openid-configuration"\n\n'
            "[mac.oidc_operators]\n" + table
        )

    # --- running -----------------------------------------------------------------------------

    def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="oidc-provider", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OIDC provider did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
