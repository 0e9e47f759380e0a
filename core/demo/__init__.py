"""The demo data set: a deterministic picture of a mail reseller.

Modules
    ``seed``         ``seed_demo``, the entry point: plan, generate, load, in one transaction.
    ``plan``         what to make, decided in memory: brands, companies, domains, their sizes,
                     and the operators' history on them as audit events.
    ``generate``     the rows: mailboxes, app passwords and security events drawn a chunk at a
                     time (numpy), the small tables' rows, the audit rows from their events.
    ``load``         bulk loading per engine (executemany on SQLite, COPY on PostgreSQL), with
                     indexes and constraints dropped for the load and rebuilt before the commit.
    ``words``        names, labels and word lists the plan picks from.
    ``credentials``  the demo's passwords, operators, and the pools of hashes and secrets.

Rules
    * The same ``(brands, users, seed, now)`` gives the same rows: randomness comes only from
      ``random.Random(seed)`` and numpy seeded with ``seed``, drawn in a fixed order.
    * Everything generated lies before the reference time ``now``; only the ``demo.seeded``
      event records the real moment of the load.
    * The audit history is written through the event types of ``core.platform.events``, so a
      seeded row reads as one the console writes; the mailboxes' own actions are in
      ``security_events`` only.
    * Demo data goes into an empty database only, unless ``replace`` empties it first.
"""
