"""The command line, ``python -m core``: a thin adapter over the same services as the pages.

Modules
    ``app``            the typer application: the groups wired in, ``main()`` and its exit codes.
    ``common``         what every command shares: ``--format`` and ``--actor``, ``fail``, the
                       session, the acting operator, a secret read from standard input.
    ``output``         plain rendering of rows: an aligned table, CSV or JSON.
    ``setup``          ``init``, ``keygen`` and ``seed``.
    ``brands``         ``brands list|show|set|css``.
    ``users``          ``users add|search|show|enroll-2fa|reset-2fa``.
    ``imports``        ``import users``.
    ``app_passwords``  ``app-passwords create|revoke``.
    ``login``          ``login``: would the platform let this mailbox in?
    ``notify``         ``notify send|list``.
    ``report``         ``report adoption``.
    ``export``         ``export``: a CSV file written whole or not at all.
    ``audit``          ``audit``: the newest audit events.
    ``operators``      ``operators add|list|passwd|deactivate|reset-totp|totp|set-role``.
    ``mail_auth``      ``mail-auth token create|list|revoke``: the mail servers' tokens.

Rules of the command line
    - Exit codes: 0 done; 1 refused by a rule (cap reached, conflict, role, not found, a
      login refused); 2 bad input; 130 interrupted.
    - A failure is one plain sentence on stderr, never a traceback (``app.main``).
    - An operator's password and the secret ``login`` checks come on standard input or
      from a hidden prompt; a one-time secret (an app password) is printed once, to stdout.
    - Commands hold no rule: every check, default and write is a core service's; a command
      reads its options, calls core, and prints.
"""
