"""Load a big group into SQLite or PostgreSQL, serve the app under gunicorn, and measure it.

    .venv/bin/python -m bench.run                       # SQLite, the full data set
    .venv/bin/python -m bench.run --database postgresql # PostgreSQL at $BENCH_DATABASE_URL
    .venv/bin/python -m bench.run --quick               # about a minute: a smaller set
    make bench                                          # both databases (QUICK=1: quick)

For each page — the public event page, group page, catalogue and calendar feed (as a browser
asks for them, gzip accepted), the event report, the group report, the sale screen, a sale
POST, and ``/healthz`` of the same app — it prints requests per second and p50 / p95 / p99
latency at 1 and 20 concurrent clients, and the ratio of each page's rate to that of a
trivial Flask app (``bench/trivial.py``, served the same way) and to ``/healthz``'s.
The load generator is threads with ``http.client`` against 127.0.0.1 only, and every
measurement is bounded by a number of requests and a number of seconds.
"""

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports"
HOST = "127.0.0.1"
TRIVIAL = "trivial Flask app"
#: What a browser sends that changes the answer: it takes gzip (over plain HTTP, not brotli).
BROWSER = {"Accept-Encoding": "gzip, deflate"}


# Loading ------------------------------------------------------------------------------------


@dataclass
class Target:
    slug: str
    email: str
    password: str
    report_event_id: int
    stall_event_id: int
    stall_event_code: str
    publication_id: int


def prepare_postgres(url: str) -> None:
    """Create the benchmark's database if needed, and empty it."""
    import sqlalchemy as sa

    base, name = url.rsplit("/", 1)
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def load(database_url: str, sizes: dict) -> Target:
    """Create the schema and the data set; return what the load generator needs."""
    import sqlalchemy as sa

    from bench.dataset import load_history
    from stallapp import create_app
    from stallapp.accounts import services as accounts
    from stallapp.accounts.models import Role
    from stallapp.events.models import Event, EventKind, EventStatus
    from stallapp.extensions import db
    from stallapp.stock import services as stock
    from stallapp.stock.models import Publication, Store

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench",
            "PUBLIC_BASE_URL": f"http://{HOST}",
        }
    )
    password = secrets.token_urlsafe(12)
    with app.app_context():
        db.drop_all()
        db.create_all()
        group = accounts.create_group(
            db.session,
            accounts.GroupSettings(
                name="Bench group",
                slug="bench",
                timezone="Europe/London",
                currency="GBP",
                language="en",
            ),
        )
        organiser = accounts.create_user(db.session, "bench@example.org", "Bench", password)
        accounts.add_membership(db.session, organiser, group, Role.ORGANISER)
        db.session.commit()
        started = time.monotonic()
        # A group's past events are closed out; the latest waits for its count.
        history = load_history(db.session, group, organiser, close_out=True, **sizes)
        db.session.commit()
        print(f"loaded {history.lines} sale lines in {time.monotonic() - started:.1f} s")
        # A stall happening now, packed with ten titles, for the sale screen and the POSTs.
        now = datetime.now(UTC)
        stall = Event(
            group_id=group.id,
            public_code=secrets.token_urlsafe(8),
            kind=EventKind.STALL,
            title="Bench stall",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=6),
            timezone=group.timezone,
            status=EventStatus.PUBLISHED,
        )
        db.session.add(stall)
        db.session.flush()
        store = db.session.get(Store, history.store_ids[0])
        titles = db.session.scalars(
            sa.select(Publication)
            .where(Publication.group_id == group.id, Publication.is_free.is_(False))
            .order_by(Publication.id)
            .limit(10)
        ).all()
        stock.pack_for_event(db.session, store, stall, dict.fromkeys(titles, 50), organiser)
        db.session.commit()
        return Target(
            slug=group.slug,
            email=organiser.email,
            password=password,
            report_event_id=history.event_ids[-1],
            stall_event_id=stall.id,
            stall_event_code=stall.public_code,
            publication_id=titles[0].id,
        )


# Serving ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def serve(
    database_url: str, port: int, workers: int, application: str = "wsgi:app"
) -> subprocess.Popen:
    """Start gunicorn on ``application`` as production does, configured by the environment."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret",
        # Required in production; the load generator's requests name this host.
        "PUBLIC_BASE_URL": f"http://{HOST}:{port}",
    }
    process = subprocess.Popen(
        [
            gunicorn,
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            application,
        ],
        cwd=ROOT,
        env=environment,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    probe = "/" if application.startswith("bench.trivial") else "/healthz"
    while time.monotonic() < deadline:
        try:
            status, _headers, _body = request(port, "GET", probe)
            if status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


# Load generation ----------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    cookie: str = "",
    extra: dict | None = None,
):
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Host": f"{HOST}:{port}", **(extra or {})}
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def get_without_cookie(port: int, path: str):
    def run() -> bool:
        status, _headers, _body = request(port, "GET", path, extra=BROWSER)
        return status == 200

    return run


def csrf_in(page: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not match:
        raise SystemExit("no CSRF token on the page")
    return match.group(1).decode()


def log_in(port: int, target: Target) -> str:
    """Log in once through the real form and return the session cookie every client shares."""
    status, headers, page = request(port, "GET", "/login")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    body = urlencode(
        {"csrf_token": csrf_in(page), "email": target.email, "password": target.password}
    )
    status, headers, _page = request(port, "POST", "/login", body, cookie)
    if status != 302:
        raise SystemExit(f"login failed: {status}")
    return headers["Set-Cookie"].split(";", 1)[0]


@dataclass
class Result:
    name: str
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000


def measure(name, clients: int, make_request, max_requests: int, max_seconds: float) -> Result:
    """Run ``make_request`` from ``clients`` threads until either bound is reached."""
    lock = threading.Lock()
    state = {"issued": 0, "errors": 0}
    latencies: list[float] = []
    deadline = time.monotonic() + max_seconds

    def worker():
        while True:
            with lock:
                if state["issued"] >= max_requests or time.monotonic() > deadline:
                    return
                state["issued"] += 1
            started = time.perf_counter()
            try:
                ok = make_request()
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if not ok:
                    state["errors"] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    return Result(name, clients, len(latencies), state["errors"], seconds, latencies)


def scenarios(port: int, target: Target, cookie: str):
    """Return ``(name, make_request)`` for each page measured."""
    slug = target.slug
    screen = f"/groups/{slug}/sell/{target.stall_event_id}"
    _status, headers, page = request(port, "GET", screen, cookie=cookie)
    # The budget for this group's sale screen is 40 KB of HTML.
    print(f"  sale screen: {len(page) / 1024:.1f} KB of HTML")
    token = csrf_in(page)
    # The first form rendered puts the CSRF secret in the session: keep the new cookie.
    if headers.get("Set-Cookie"):
        cookie = headers["Set-Cookie"].split(";", 1)[0]

    def get(path: str):
        def run() -> bool:
            status, _headers, _body = request(port, "GET", path, cookie=cookie)
            return status == 200

        return run

    def read(path: str):
        """A reader's browser: no cookie, gzip accepted."""

        def run() -> bool:
            status, _headers, _body = request(port, "GET", path, extra=BROWSER)
            return status == 200

        return run

    public = {
        "public event page": f"/e/{target.stall_event_code}",
        "public group page": f"/g/{slug}",
        "public catalogue": f"/g/{slug}/publications",
        "public .ics feed": f"/g/{slug}/events.ics",
    }
    for name, path in public.items():
        _status, headers, body = request(port, "GET", path, extra=BROWSER)
        revalidated, _headers, _body = request(
            port, "GET", path, extra={**BROWSER, "If-None-Match": headers.get("ETag", "")}
        )
        print(
            f"  {name}: {len(body) / 1024:.1f} KB as sent ({headers.get('Content-Encoding')}), "
            f"cookie: {'yes' if headers.get('Set-Cookie') else 'no'}, "
            f"Cache-Control: {headers.get('Cache-Control')}, again with its ETag: {revalidated}"
        )

    def sell() -> bool:
        body = urlencode(
            {
                "csrf_token": token,
                "operation_id": str(uuid.uuid4()),
                "type": "sale",
                "publication_id": str(target.publication_id),
                "quantity": "1",
                "payment_method": "cash",
            }
        )
        status, _headers, _body = request(port, "POST", f"{screen}/record", body, cookie)
        return status == 302

    def sync() -> bool:
        """A phone with script: one sale queued and sent as JSON, answered with the levels and
        totals its screen shows."""
        operation = {
            "id": str(uuid.uuid4()),
            "type": "sale",
            "publication_id": target.publication_id,
            "quantity": 1,
            "payment_method": "cash",
            "taken_at": datetime.now(UTC).isoformat(),
        }
        status, _headers, body = request(
            port,
            "POST",
            f"{screen}/sync",
            json.dumps({"operations": [operation]}),
            cookie,
            {"Content-Type": "application/json", "X-CSRFToken": token},
        )
        return status == 200 and json.loads(body)["results"][0]["status"] == "done"

    return [
        ("healthz", get("/healthz")),
        *[(name, read(path)) for name, path in public.items()],
        ("event report", get(f"/groups/{slug}/reports/events/{target.report_event_id}")),
        ("group report (a year)", get(f"/groups/{slug}/reports")),
        ("sale screen", get(screen)),
        ("sale POST", sell),
        ("sale sync (JSON)", sync),
    ]


def print_table(results: list[Result]) -> None:
    trivial = {r.clients: r.rate for r in results if r.name == TRIVIAL}
    healthz = {r.clients: r for r in results if r.name == "healthz"}
    print()
    print(
        f"{'page':<24}{'clients':>8}{'requests':>10}{'errors':>8}{'req/s':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'vs trivial':>12}{'vs healthz':>12}"
        f"{'p95/healthz':>13}"
    )
    for r in results:
        base = healthz.get(r.clients)
        versus_trivial = r.rate / trivial[r.clients] if trivial.get(r.clients) else 0
        versus_healthz = r.rate / base.rate if base and base.rate else 0
        p95_ratio = r.percentile(0.95) / base.percentile(0.95) if base else 0
        print(
            f"{r.name:<24}{r.clients:>8}{r.requests:>10}{r.errors:>8}{r.rate:>9.1f}"
            f"{r.percentile(0.50):>9.1f}{r.percentile(0.95):>9.1f}{r.percentile(0.99):>9.1f}"
            f"{versus_trivial:>11.3f}x{versus_healthz:>11.3f}x{p95_ratio:>12.2f}x"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--titles", type=int, default=200)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--requests", type=int, default=300, help="most requests per run")
    parser.add_argument("--seconds", type=float, default=20, help="most seconds per run")
    parser.add_argument("--clients", default="1,20", help="concurrency levels, comma-separated")
    parser.add_argument(
        "--quick", action="store_true", help="about a minute: a tenth of the data, short runs"
    )
    parser.add_argument(
        "--only",
        default="",
        help="measure only the pages whose names contain one of these comma-separated words "
        "(healthz is always measured): --only sale",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.titles, args.lines = 100, 50, 10_000
        args.requests, args.seconds = 200, 2.5

    workdir = Path(tempfile.mkdtemp(prefix="stallapp-bench-"))
    if args.database == "sqlite":
        database_url = f"sqlite:///{workdir / 'bench.sqlite'}"
    else:
        database_url = args.postgres_url
        prepare_postgres(database_url)
    sizes = {"events": args.events, "titles": args.titles, "lines": args.lines}
    target = load(database_url, sizes)

    levels = [int(c) for c in args.clients.split(",")]
    results = []
    port = free_port()
    # The trivial app first, alone on the machine, as stallapp will be after it.
    server = serve(database_url, port, args.workers, "bench.trivial:app")
    try:
        for clients in levels:
            page = get_without_cookie(port, "/")
            page()
            results.append(measure(TRIVIAL, clients, page, args.requests, args.seconds))
            print(f"  {TRIVIAL} × {clients}: {results[-1].rate:.1f} req/s", flush=True)
    finally:
        stop(server)
    port = free_port()
    server = serve(database_url, port, args.workers)
    try:
        cookie = log_in(port, target)
        wanted = [word for word in args.only.split(",") if word]
        for name, make_request in scenarios(port, target, cookie):
            if wanted and name != "healthz" and not any(word in name for word in wanted):
                continue
            for clients in levels:
                make_request()  # warm the workers' caches
                results.append(measure(name, clients, make_request, args.requests, args.seconds))
                print(f"  {name} × {clients}: {results[-1].rate:.1f} req/s", flush=True)
    finally:
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.platform()} · "
        f"{os.cpu_count()} CPUs · {args.database} · gunicorn {args.workers} sync workers · "
        f"{args.events} events, {args.titles} titles, {args.lines} sale lines"
    )
    print_table(results)


if __name__ == "__main__":
    main()
