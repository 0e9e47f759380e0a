"""The platform every topic stands on: settings, the database, secrets, errors, tables, the audit trail.

Modules
    ``config``  one ``Settings`` object read from the environment; every setting has a default.
    ``db``      the one engine of a process, short sessions (``session_scope``), schema upgrade.
    ``crypto``  Fernet for TOTP secrets at rest, argon2 for passwords, HMAC signatures.
    ``errors``  the errors a service raises, each one plain sentence for the person.
    ``models``  every table, defined once.
    ``events``  every audit event: a frozen dataclass per event, its stable name, label and fields.
    ``audit``   ``record`` (the one function that writes an event) and the audit log's reads.
    ``totp``    RFC 6238 alone (SHA-1, 6 digits, 30 s steps, one step of drift); the replay guard.
    ``throttle``  the failure throttle: 5 failures of a subject within 15 minutes pause its sign-in
                  (a limit of its own for a client address that many mailboxes share).
    ``authenticator``  the base of every device kind: throttle, then the code, accepted once.
    ``labels``  a label a person types to name a thing: printable, one space, at most 64 characters.

Rules
    * Times are timezone-aware UTC.
    * A secret is never logged, and leaves ``crypto`` only to the caller that asked for it.
    * An audit event exists exactly when its change does: it is added to the same transaction.
    * A code is matched to a time step in one place, ``totp.match_step``, which refuses a used step.
    * An event is a typed record with a stable name, written by one function (``audit.record``);
      a name, once written, is never changed. Its fields, not the caller, decide its columns.
    * An event names what happened (``app_password.revoked``), never a permission
      (``app_password.revoke``): ``access.refused`` carries the permission as a field.
"""
