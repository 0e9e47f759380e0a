"""The demo data set: a deterministic picture of a mail reseller.

Modules
    ``seed``  brands, companies, domains, mailboxes, app passwords and their history.
"""
