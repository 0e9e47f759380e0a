"""``python -m bench.signin``: what an operator's password step costs, and what it costs others.

Two figures, on a fresh SQLite file under ``bench/out/``:

1. the median time of a wrong password for an operator that exists against one for a name
   that does not (``core.access.operator_signin.check_password``, interleaved); the two must be within 10 %,
   or timing tells names apart;
2. how long ordinary writes wait while 8 threads make 64 failing sign-in attempts: the
   hash runs outside any transaction, so a write waits only for the short failure records.

Prints a small table and, unless ``--no-write``, puts it under "Sign-in cost" in
``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import threading
import time

from bench import ROOT, fresh_sqlite

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## Sign-in cost"


def _prepare() -> str:
    # Always a SQLite file of its own: the hash dominates, and SQLite's single write lock
    # is where a hash inside a transaction would show most.
    # The flood below comes from no address: the per-address limit is not what is measured.
    return fresh_sqlite("signin")


def _timing(engine, rounds: int) -> tuple[float, float]:
    from core.access import operator_signin

    known, unknown = [], []
    for i in range(rounds):
        # A name of its own each round: five failures of one name would throttle it, and a
        # throttled name is answered before any hash.
        for name, bucket in ((f"benchop{i}", known), (f"nobody{i}", unknown)):
            t0 = time.perf_counter()
            operator_signin.check_password(engine, username=name, password="not the password")  # noqa: S106
            bucket.append(time.perf_counter() - t0)
    return statistics.median(known), statistics.median(unknown)


def _write_waits(engine, threads: int, attempts: int) -> tuple[float, float, int]:
    from core.access import operator_signin
    from core.platform.db import session_scope
    from core.platform.models import Brand

    waits: list[float] = []
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            t0 = time.perf_counter()
            with session_scope(engine, write=True) as s:
                s.add(Brand(name=f"bench brand {threading.get_ident()} {n}"))
            waits.append(time.perf_counter() - t0)
            n += 1
            time.sleep(0.01)

    def flood(k: int) -> None:
        for j in range(attempts // threads):
            operator_signin.check_password(engine, username=f"flood{k}x{j}", password="wrong")  # noqa: S106

    w = threading.Thread(target=writer)
    w.start()
    workers = [threading.Thread(target=flood, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    w.join()
    return statistics.median(waits), max(waits), len(waits)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.signin", description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    url = _prepare()

    from core.platform.db import get_engine, session_scope, upgrade_schema
    from core.platform.models import Operator

    upgrade_schema(url)
    engine = get_engine(url)
    from core.platform.crypto import hash_password

    stored = hash_password("the password")
    with session_scope(engine, write=True) as s:
        for i in range(args.rounds):
            s.add(Operator(username=f"benchop{i}", role="support", password_hash=stored))
    known, unknown = _timing(engine, args.rounds)
    ratio = abs(unknown - known) / known
    median_wait, max_wait, n = _write_waits(engine, threads=8, attempts=64)
    rows = [
        ("wrong password, operator exists (median)", f"{known * 1000:.1f} ms", ""),
        ("wrong password, no such operator (median)", f"{unknown * 1000:.1f} ms", ""),
        ("difference", f"{ratio * 100:.1f} %", "within 10 %: " + ("met" if ratio <= 0.10 else "NOT met")),
        (
            f"a write's wait during 64 failed sign-ins from 8 threads ({n} writes)",
            f"median {median_wait * 1000:.1f} ms, max {max_wait * 1000:.1f} ms",
            "",
        ),
    ]
    table = "| what | figure | goal |\n|---|---|---|\n" + "\n".join(
        f"| {a} | {b} | {c} |" for a, b, c in rows
    )
    engine_name = engine.dialect.name
    print(table)
    if not args.no_write:
        section = (
            f"{HEADING}\n\nMeasured by `python -m bench.signin` on {engine_name}, {os.cpu_count()} cores, "
            f"{args.rounds} rounds.\n\n{table}\n"
        )
        text = RESULTS.read_text() if RESULTS.exists() else ""
        pattern = re.compile(rf"{re.escape(HEADING)}\n.*?(?=\n## |\Z)", re.S)
        text = (
            pattern.sub(section.rstrip("\n"), text)
            if HEADING in text
            else text.rstrip("\n") + "\n\n" + section
        )
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
