"""Customer notices: queued with the change that causes them, delivered at most once.

Modules
    ``notify``  queue, render, deliver (SMTP or the outbox folder) and the sender thread.
"""
