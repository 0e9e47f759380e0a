"""Who the console's operators are, how they sign in, and what each may do.

Modules
    ``permissions``      roles and the one permission check, ``require``, made inside each write.
    ``operators``        operators: create, deactivate, change role, reset an authenticator.
    ``operator_signin``  password, then the operator's own authenticator code; sessions; OIDC.

Rules
    * Every write proves, in its own transaction, who acts and that they still may.
    * A refusal changes nothing and is audited as ``access.refused``.
"""
