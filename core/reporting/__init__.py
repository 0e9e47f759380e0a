"""What the console reports: adoption, its history, users at risk, search and CSV files.

Modules
    ``adoption``        adoption per brand and per domain, the overall figures, a brand's counts.
    ``history``         adoption over time, per UTC month, rebuilt from security events.
    ``at_risk``         app passwords without 2FA, app passwords unused for 90 days, dormant 2FA.
    ``overview``        the Overview's headline figures and their change over 30 days.
    ``search_query``    what a user search matches: its filters and its rows.
    ``search``          a page of a user search and its count: the plan for each kind of search.
    ``search_index``    the n-gram index behind the address-fragment search.
    ``running_counts``  the counts the database's triggers keep, behind every adoption figure.
    ``exports``         CSV files that open safely in a spreadsheet, streamed; DataFrames.
    ``links``           signed, short-lived download links for the large exports.

Rules
    * Every figure is an SQL aggregate with bound parameters; Python folds only the few
      aggregated rows (groups, months, brands) together.
    * Adoption reads the running counts, never every mailbox; each group of users is judged
      by its own effective brand (``core.mailboxes.effective_brand``) and that brand's
      switches (``core.mailboxes.state``).
    * Figures count active mailboxes unless a status filter says otherwise; at-risk lists
      look at active mailboxes only.
    * A month's figures count the events under the brand they happened in: a later reset
      or brand switch never rewrites a past month.
    * A search is paged by address (keyset, no OFFSET); it returns the same rows whichever
      plan finds them.
    * The month report covers ``history.DEFAULT_MONTHS`` UTC months unless asked otherwise,
      on the Overview, the Reports page, the command line and in the notebook alike.
"""
