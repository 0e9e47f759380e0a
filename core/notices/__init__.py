"""Customer notices: queued with the change that causes them, delivered at most once.

Modules
    ``queueing``     ``queue``: a notice added to the caller's session, in the change's transaction.
    ``wakeup``       the commit that queued a notice wakes this process's senders; ``wake``.
    ``messages``     the words of each notice (``reset_notice``) and its RFC 5322 message.
    ``smtp_url``     ``SMTP_URL`` parsed into an ``SmtpTarget``; a malformed one refused.
    ``destination``  where notices go with the settings in force: the SMTP server or the
                     outbox; the one answer the pages show and the sender follows.
    ``transports``   one message handed to the SMTP server, or written to the outbox folder.
    ``claims``       the claim before delivery, the mark after it, the retry schedule.
    ``delivery``     ``send_pending``: one pass of claim, deliver, mark; its ``SendReport``.
    ``sender``       the thread beside each server that runs the passes; started once a process.
    ``listing``      notices for the command line (``list_notifications``) and for a mailbox.

Rules
    * Queued in the change's transaction: a service calls ``queueing.queue`` in the same
      session as the change, so the notice exists exactly when the change does. The
      recipient is one plain address and the subject one line.
    * At most once: a row is claimed (``pending`` to ``sending``, in its own committed
      transaction) before it is delivered and marked after; a claim that matches no row
      means another sender has it, so two senders (threads, processes, machines) never
      both deliver. Delivery holds no database lock. A row left ``sending`` (the sender died
      between the two) is never sent again by itself: a customer may miss a notice, never
      get it twice; ``notify list --pending`` shows it for an operator to decide.
    * Retry schedule: a failed delivery goes back to ``pending`` with ``last_error`` (at most
      500 characters) and its next attempt 1, 5, 15, then 60 minutes out for every later
      attempt, by the attempts made so far. Retries never stop on their own.
    * Where a notice goes: to its recipient, through ``SMTP_URL`` when set (one connection a
      message, 10 s timeout, certificates verified), otherwise as ``<id>-<kind>.eml`` in
      ``<data dir>/outbox/`` (0700 folder, 0600 files, written whole or not at all).
    * A delivered notice leaves one audit event, ``notification.sent`` by actor ``notify``,
      naming the recipient, the user and their effective brand, never the message content.
    * Each server process runs one sender (``MAC_SENDER=off``: none; run ``notify send``):
      at once after a commit that queued a notice, else every 5 s; it never dies on an error.
"""
