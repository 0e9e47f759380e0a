"""``python -m bench.mail_auth``: what a mail client's sign-in costs through the console.

For each engine (a fresh SQLite file under ``bench/out/``, and a new PostgreSQL database
``mac_bench_mail_auth`` at ``--pg``, dropped first), in this order:

1. seed ``--users`` mailboxes with the demo seed; the demo's app passwords share one
   argon2 hash and have no lookup key, so ``--logins`` real ones are made through
   ``core.mailboxes.app_passwords.create`` for the measured logins (the indexed path);
2. make a mail-auth token and start the real server (``streamlit run server.py``);
3. from a separate process (``bench.mail_load``), ``--requests`` posts to
   ``POST /api/mail-auth`` from ``--concurrency`` threads: checks/s and p50/p95/p99.

Then, against the SQLite console, Dovecot twice on the same machine: through
``deploy/dovecot/run-local`` (the console's Lua passdb), and with the same configuration
but Dovecot's own ``passwd-file`` passdb holding ``--passwd-users`` seeded mailboxes (100,000
by default: with 1,000,000 lines, Dovecot 2.3's auth process did not answer within 3 minutes),
the measured ones with their app password as ``{SHA512-CRYPT}`` (the others share one such
hash, as the demo's passwords do). ``--imap-logins`` IMAP LOGIN/LOGOUT sessions through ``imaplib``
each: logins/s and the ratio.

Prints a table and, unless ``--no-write``, puts it under "Mail sign-in (POST
/api/mail-auth, Dovecot)" in ``bench/RESULTS.md``, with the load average after each
measurement (the machine's other work is part of every figure).
"""

from __future__ import annotations

import argparse
import crypt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import OUT, ROOT, fresh_sqlite

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## Mail sign-in (POST /api/mail-auth, Dovecot)"
PG_DB = "mac_bench_mail_auth"
PY = str(ROOT / ".venv" / "bin" / "python")
STREAMLIT = str(ROOT / ".venv" / "bin" / "streamlit")
READY = "You can now view your Streamlit app"
GOAL_RATE, GOAL_P99 = 500, 50.0


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.mail_auth", description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=1_000_000)
    p.add_argument("--brands", type=int, default=5_000)
    p.add_argument("--logins", type=int, default=300, help="real app passwords made for the measured logins")
    p.add_argument("--requests", type=int, default=20_000, help="posts to /api/mail-auth per engine")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--imap-logins", type=int, default=2_000, help="IMAP sessions per Dovecot passdb")
    p.add_argument(
        "--passwd-users",
        type=int,
        default=100_000,
        help="mailboxes in Dovecot's passwd-file (with 1,000,000 lines its auth process did not answer within 3 minutes)",
    )
    p.add_argument("--engines", default="sqlite,postgresql")
    p.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--skip-dovecot", action="store_true")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    return p.parse_args()


def _load() -> float:
    return os.getloadavg()[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the process on port {port} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on port {port} after {seconds:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pg_url(admin_url: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {PG_DB}"))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{PG_DB}"


def _prepare(url: str, args: argparse.Namespace) -> tuple[list[list[str]], str, float]:
    """Seed, make the measured app passwords and a token: (logins, token, seed seconds)."""
    from sqlalchemy import text

    from core.access import mail_auth_tokens
    from core.access.permissions import Actor
    from core.demo.seed import seed_demo
    from core.mailboxes import app_passwords
    from core.platform.db import get_engine, session_scope, upgrade_schema
    from core.platform.errors import CoreError

    upgrade_schema(url)
    engine = get_engine(url)
    t0 = time.perf_counter()
    seed_demo(engine=engine, brands=args.brands, users=args.users, seed=7, replace=True)
    seed_s = time.perf_counter() - t0
    print(f"seeded {args.users:,} mailboxes in {seed_s:.1f} s", file=sys.stderr)
    stride = max(1, args.users // (args.logins * 4))
    with session_scope(engine) as s:
        candidates = s.scalars(
            text(
                "SELECT u.email FROM users u JOIN domains d ON d.id = u.domain_id "
                "JOIN companies c ON c.id = d.company_id "
                "JOIN brands b ON b.id = COALESCE(u.brand_id, d.brand_id, c.brand_id) "
                "WHERE u.status = 'active' AND b.allow_app_passwords AND u.id % :k = 0 ORDER BY u.id"
            ),
            {"k": stride},
        ).all()
    logins: list[list[str]] = []
    for email in candidates:
        if len(logins) == args.logins:
            break
        try:
            with session_scope(engine, write=True) as s:
                made = app_passwords.create(s, actor=Actor.cli(), email=email, label="bench phone")
        except CoreError:
            continue  # four live ones already, or a label taken: the next mailbox
        logins.append([made.email, app_passwords.normalize(made.password)])  # as a phone sends it
    if len(logins) < args.logins:
        raise SystemExit(f"only {len(logins)} of {args.logins} app passwords could be made")
    with session_scope(engine, write=True) as s:
        token = mail_auth_tokens.create(s, actor=Actor.cli(), label=f"bench {time.time_ns()}").token
    return logins, token, seed_s


class Console:
    """``streamlit run server.py`` over ``url``, its output in ``log``."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/api/mail-auth"
        self.log = log
        env = {**os.environ, "DATABASE_URL": url, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        args = ("--server.port", str(self.port), "--server.headless", "true")
        self._fh = log.open("w")
        self.proc = subprocess.Popen(
            [STREAMLIT, "run", "server.py", *args],
            cwd=ROOT,
            env=env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while READY not in log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the console did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        _stop(self.proc)
        self._fh.close()


def _drive(
    driver: str, target: list[str], logins_file: Path, args: argparse.Namespace, n: int, env: dict
) -> dict:
    options = ("--requests", str(n), "--concurrency", str(args.concurrency))
    out = subprocess.run(
        [PY, "-m", "bench.mail_load", driver, *target, str(logins_file), *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    figures = json.loads(out.stdout)
    figures["load"] = _load()
    if figures["errors"]:
        print(f"{driver}: {figures['errors']} errors, e.g. {figures['first_errors']}", file=sys.stderr)
    return figures


def _passwd_file(path: Path, url: str, logins: list[list[str]], size: int) -> None:
    """``size`` mailboxes of ``url``: the measured ones with their app password, the rest one shared hash."""
    from sqlalchemy import text

    from core.platform.db import get_engine

    measured = {email: crypt.crypt(pw, crypt.mksalt(crypt.METHOD_SHA512)) for email, pw in logins}
    shared = crypt.crypt("not a measured password", crypt.mksalt(crypt.METHOD_SHA512))
    others = max(0, size - len(measured))
    with get_engine(url).connect() as conn, path.open("w") as fh:
        for email, hashed in measured.items():
            fh.write(f"{email}:{{SHA512-CRYPT}}{hashed}\n")
        for (email,) in conn.execute(text("SELECT email FROM users ORDER BY id LIMIT :n"), {"n": others * 2}):
            if others and email not in measured:
                fh.write(f"{email}:{{SHA512-CRYPT}}{shared}\n")
                others -= 1


PASSDB_LUA = re.compile(r"passdb \{\n  driver = lua\n.*?\n\}\n", re.S)


def _dovecot(run_dir: Path, ports: dict[str, int], token: str, endpoint: str) -> subprocess.Popen:
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "MAC_AUTH_URL": endpoint,
        "MAC_AUTH_TOKEN": token,
        "RUN_DIR": str(run_dir),
    }
    proc = subprocess.Popen([str(ROOT / "deploy" / "dovecot" / "run-local")], env=env, cwd=ROOT)
    _wait_port(ports["IMAP_PORT"], proc)
    return proc


def _own_passdb(
    run_dir: Path, ports: dict[str, int], url: str, logins: list[list[str]], size: int
) -> subprocess.Popen:
    """run-local's configuration with Dovecot's passwd-file passdb in place of the Lua one."""
    # run-local writes and checks the configuration and the folders; then its passdb is swapped.
    _stop(_dovecot(run_dir, ports, "unused", "http://127.0.0.1:9/api/mail-auth"))
    passwd = run_dir / "passwd"
    _passwd_file(passwd, url, logins, size)
    conf = run_dir / "dovecot.conf"
    own = f"passdb {{\n  driver = passwd-file\n  args = scheme=SHA512-CRYPT {passwd}\n}}\n"
    text, n = PASSDB_LUA.subn(own, conf.read_text())
    if n != 1:
        raise SystemExit("run-local's configuration has no Lua passdb block to replace")
    conf.write_text(text)
    proc = subprocess.Popen(["dovecot", "-F", "-c", str(conf)])
    _wait_port(ports["IMAP_PORT"], proc)
    return proc


def _measure_dovecot(url, console: Console, token, logins, logins_file, args) -> tuple[dict, dict]:
    ports = {"IMAP_PORT": _free_port(), "POP3_PORT": _free_port(), "SUBMISSION_PORT": _free_port()}
    env = {k: v for k, v in os.environ.items() if k != "MAC_AUTH_TOKEN"}
    # Not a TemporaryDirectory: Dovecot's own users must pass through the folder above RUN_DIR.
    base = Path("/tmp") / f"mac-bench-dovecot-{os.getpid()}"
    try:
        lua = _dovecot(Path(f"{base}-lua"), ports, token, console.endpoint)
        try:
            via_console = _drive("imap", [str(ports["IMAP_PORT"])], logins_file, args, args.imap_logins, env)
        finally:
            _stop(lua)
        own = _own_passdb(Path(f"{base}-own"), ports, url, logins, min(args.users, args.passwd_users))
        try:
            via_file = _drive("imap", [str(ports["IMAP_PORT"])], logins_file, args, args.imap_logins, env)
        finally:
            _stop(own)
    finally:
        shutil.rmtree(f"{base}-lua", ignore_errors=True)
        shutil.rmtree(f"{base}-own", ignore_errors=True)
    return via_console, via_file


def _http_row(engine_name: str, users: int, f: dict, concurrency: int) -> tuple:
    met = f["errors"] == 0 and f["per_second"] >= GOAL_RATE and f["p99_ms"] <= GOAL_P99
    return (
        f"POST /api/mail-auth, {engine_name}, {users:,} mailboxes ({f['ok']:,} checks, {concurrency} clients)",
        f"{f['per_second']:,.0f} checks/s; p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms, "
        f"p99 {f['p99_ms']:.1f} ms; {f['errors']} errors",
        f"{f['load']:.1f}",
        f">= {GOAL_RATE} checks/s, p99 <= {GOAL_P99:.0f} ms",
        "yes" if met else "**no**",
    )


def main() -> None:
    args = _args()
    from cryptography.fernet import Fernet

    os.environ["MAC_SECRET_KEY"] = Fernet.generate_key().decode()
    os.environ.setdefault("MAC_DATA_DIR", str(OUT))
    OUT.mkdir(parents=True, exist_ok=True)
    rows: list[tuple] = []
    notes: list[str] = []
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    dovecot_done = args.skip_dovecot
    for engine_key in engines:
        url = fresh_sqlite("mail_auth") if engine_key == "sqlite" else _pg_url(args.pg)
        os.environ["DATABASE_URL"] = url
        engine_name = "SQLite" if engine_key == "sqlite" else "PostgreSQL"
        logins, token, seed_s = _prepare(url, args)
        notes.append(f"{engine_name}: seeded in {seed_s:.0f} s, load average {_load():.1f} after")
        logins_file = OUT / "mail_auth_logins.json"
        logins_file.write_text(json.dumps(logins))
        console = Console(url, OUT / f"mail_auth_{engine_key}.log")
        try:
            env = {**os.environ, "MAC_AUTH_TOKEN": token}
            figures = _drive("http", [console.endpoint], logins_file, args, args.requests, env)
            rows.append(_http_row(engine_name, args.users, figures, args.concurrency))
            print(rows[-1], file=sys.stderr)
            if not dovecot_done:
                via_console, via_file = _measure_dovecot(url, console, token, logins, logins_file, args)
                dovecot_done = True
                for name, f in (
                    ("console's Lua passdb", via_console),
                    (f"passwd-file {{SHA512-CRYPT}}, {min(args.users, args.passwd_users):,} lines", via_file),
                ):
                    rows.append(
                        (
                            f"Dovecot IMAP LOGIN/LOGOUT, {name} ({engine_name} console; {f['ok']:,} sessions)",
                            f"{f['per_second']:,.0f} logins/s; p50 {f['p50_ms']:.1f} ms, "
                            f"p99 {f['p99_ms']:.1f} ms; {f['errors']} errors",
                            f"{f['load']:.1f}",
                            "—",
                            "—",
                        )
                    )
                ratio = via_console["per_second"] / via_file["per_second"]
                rows.append(("Dovecot ratio: console / passwd-file", f"{ratio:.2f}", "—", "the figure", "—"))
                print(rows[-3:], file=sys.stderr)
        finally:
            console.stop()
            logins_file.unlink(missing_ok=True)
    table = "| what | measured | load average after | goal | met |\n|---|---|---|---|---|\n" + "\n".join(
        "| " + " | ".join(r) + " |" for r in rows
    )
    print(table)
    if not args.no_write:
        _write(args, table, notes)


def _write(args: argparse.Namespace, table: str, notes: list[str]) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"{HEADING}\n\nMeasured by `python -m bench.mail_auth --users {args.users}` on {stamp}; {machine}; "
        f"the 2 cores shared with other work (the server, the clients and Dovecot on this machine too). "
        f"{args.users:,} demo mailboxes, {args.logins} real app passwords (made by "
        f"`app_passwords.create`, so each check is one indexed lookup), every check a success; "
        f"{'; '.join(notes)}. The load average is the 1-minute figure read after each measurement.\n\n"
        f"{table}\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"{re.escape(HEADING)}\n.*?(?=\n## |\Z)", re.S)
    text = (
        pattern.sub(section.rstrip("\n"), text) if HEADING in text else text.rstrip("\n") + "\n\n" + section
    )
    RESULTS.write_text(text.rstrip("\n") + "\n")
    print(f"Wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
