"""``python -m bench.mail_load``: the clients of ``bench.mail_auth``, run in a process of their own.

Two drivers, each reading its logins (``[email, password]`` pairs) from a JSON file and
printing one JSON object of figures:

- ``http URL FILE``, with the mail-auth token in ``MAC_AUTH_TOKEN``: ``--requests`` posts to ``POST /api/mail-auth`` from
  ``--concurrency`` threads, each over one kept-alive connection, after ``--warmup`` posts
  that are not counted. Every answer must be 200: a refusal would be a check that
  measured something else.
- ``imap PORT FILE``: ``--requests`` IMAP LOGIN/LOGOUT sessions through ``imaplib`` from
  ``--concurrency`` threads, each a new connection (as a polling phone makes).

The logins are handed out round-robin; a thread's latency is its request's wall time.
"""

from __future__ import annotations

import argparse
import http.client
import imaplib
import itertools
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit


def _run(
    logins: list[list[str]], requests: int, concurrency: int, one: Callable[[int, str, str], None]
) -> dict:
    """``requests`` calls of ``one(thread, email, password)`` over ``concurrency`` threads."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def worker(k: int) -> None:
        mine: list[float] = []
        while True:
            with lock:
                i = next(counter)
            if i >= requests:
                break
            email, password = logins[i % len(logins)]
            t0 = time.perf_counter()
            try:
                one(k, email, password)
            except Exception as exc:  # every failure is reported, none hidden
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else 0.0

    return {
        "requests": requests,
        "ok": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": wall,
        "per_second": len(latencies) / wall,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


def http_driver(url: str, token: str, logins: list[list[str]], args: argparse.Namespace) -> dict:
    parts = urlsplit(url)
    local = threading.local()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def one(_k: int, email: str, password: str) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        body = json.dumps({"user": email, "password": password, "protocol": "imap", "remote_ip": "127.0.0.1"})
        try:
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            local.conn = None
            conn.close()
            raise
        if response.status != 200:
            raise RuntimeError(f"{response.status} {answer[:120]!r}")

    _run(logins, min(args.warmup, args.requests), args.concurrency, one)
    return _run(logins, args.requests, args.concurrency, one)


def imap_driver(port: int, logins: list[list[str]], args: argparse.Namespace) -> dict:
    def one(_k: int, email: str, password: str) -> None:
        with imaplib.IMAP4("127.0.0.1", port, timeout=30) as imap:
            imap.login(email, password)
            imap.logout()

    _run(logins, min(args.warmup, args.requests), args.concurrency, one)
    return _run(logins, args.requests, args.concurrency, one)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.mail_load", description=__doc__.splitlines()[0])
    p.add_argument("driver", choices=("http", "imap"))
    p.add_argument("target", nargs="+", help="http: URL FILE; imap: PORT FILE")
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--warmup", type=int, default=200)
    args = p.parse_args()
    *where, path = args.target
    with open(path) as fh:
        logins = json.load(fh)
    if args.driver == "http":
        figures = http_driver(where[0], os.environ["MAC_AUTH_TOKEN"], logins, args)
    else:
        figures = imap_driver(int(where[0]), logins, args)
    json.dump(figures, sys.stdout)


if __name__ == "__main__":
    main()
