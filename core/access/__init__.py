"""Who the console's operators are, how they sign in, and what each may do.

Modules
    ``permissions``      roles and the one permission check, ``require``, made inside each write.
    ``operators``        operators: create, deactivate, change role, reset an authenticator.
    ``operator_signin``         password, then the operator's own authenticator code; the pending
                                ticket; first-run setup's first administrator.
    ``operator_authenticator``  the operator's TOTP authenticator: throttle, replay guard, last step stored.
    ``sessions``                open, end and prove operator sessions; one session per operator.
    ``oidc``                    single sign-on: a provider's verified email to an operator's session.
    ``client_limit``            password attempts a minute from one client address, in memory.
    ``mail_auth_tokens``        the mail servers' tokens for ``POST /api/mail-auth``: made, listed, revoked.

Rules
    * Every write proves, in its own transaction, who acts and that they still may.
    * A refusal changes nothing and is audited as ``access.refused``.
    * An operator's code is accepted once, by ``OperatorAuthenticator.verify``; 5 failed
      passwords or codes within 15 minutes pause that username's sign-in.
    * Signing in costs the same for a name that exists and one that does not.
    * Each sign-in step normalises and bounds what it reads (``operator_signin.NAME_MAX``,
      ``CODE_MAX``, ``DISPLAY_NAME_MAX``) and says why it refused in fields (``limited``
      for the per-client limit), never by its message's text.
    * The first administrator is made only while the console has no operator
      (``operator_signin.create_first_admin``); after that, setup is closed.
    * An operator added from the dashboard gets a generated one-time password, returned
      once (``operators.invite_operator``); only its hash is stored.
    * What each role may do is said once, in ``permissions.ROLE_SUMMARIES``, beside the
      table it describes.
    * Only an administrator (or the local command line) manages mail-server tokens; a token
      is shown once, stored as its SHA-256, and a revoked one is refused from the next request.
"""
