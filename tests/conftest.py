"""Fixtures: an app per test on a clean database (SQLite, and PostgreSQL when it answers)."""

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from stallapp import create_app
from stallapp.accounts import services, throttle
from stallapp.accounts.models import Role
from stallapp.database import StatementCounter
from stallapp.extensions import db as _db
from stallapp.outbox.models import OutgoingMessage

#: Fixtures registered here once, for every test: no test module imports a fixture by name.
pytest_plugins = ["tests.sales_fixtures"]

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct horse battery"

#: Every run gets databases of its own on the test server, named after this prefix, so two runs
#: on one machine (two terminals, or CI beside a developer) never share or truncate each other's.
RUN_DATABASE_PREFIX = "stallapp_test_"
#: Kept in the environment because this module is imported twice (as pytest's conftest plugin and
#: as ``tests.conftest`` by tests that import helpers from it): both copies must name one database.
RUN_DATABASE = os.environ.setdefault(
    "STALLAPP_TEST_RUN_DATABASE", f"{RUN_DATABASE_PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
)


def server_url() -> sa.engine.URL:
    """The test PostgreSQL server (``TEST_DATABASE_URL``); its database is only used to connect."""
    return sa.engine.make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL))


def postgres_url(database: str = RUN_DATABASE) -> str:
    """Return the URL of this run's own database (or of another scratch database by name)."""
    return server_url().set(database=database).render_as_string(hide_password=False)


_postgres_state: dict = {}


def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        server_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )


def _drop_abandoned_databases(connection) -> None:
    """Drop databases left by runs whose process is gone (killed before they could clean up)."""
    names = connection.execute(
        sa.text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
        {"prefix": RUN_DATABASE_PREFIX + "%"},
    ).scalars()
    for name in list(names):
        pid = name.removeprefix(RUN_DATABASE_PREFIX).split("_", 1)[0]
        if pid.isdigit() and pid.isascii() and not Path(f"/proc/{pid}").exists():
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_scratch_database(name: str) -> str:
    """Create (afresh) a database on the test server and return its URL."""
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return postgres_url(name)


def drop_scratch_database(name: str) -> None:
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def postgres_available() -> bool:
    """Tell whether the test PostgreSQL answers, creating this run's database the first time."""
    if "available" not in _postgres_state:
        engine = _admin_engine()
        try:
            with engine.connect() as connection:
                _drop_abandoned_databases(connection)
                connection.execute(sa.text(f'CREATE DATABASE "{RUN_DATABASE}"'))
            _postgres_state["available"] = True
        except sa.exc.ProgrammingError:
            # The other copy of this module (see RUN_DATABASE) created it already.
            _postgres_state["available"] = True
        except sa.exc.OperationalError:
            _postgres_state["available"] = False
        finally:
            engine.dispose()
    return _postgres_state["available"]


def pytest_sessionfinish(session, exitstatus) -> None:
    """Drop this run's databases (the run database and any scratch ones named after it)."""
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            names = connection.execute(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": RUN_DATABASE + "%"},
            ).scalars()
            for name in list(names):
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except sa.exc.OperationalError:
        pass  # no server: nothing was created
    finally:
        engine.dispose()


def require_postgres_or_skip() -> None:
    if postgres_available():
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(
            f"PostgreSQL is required (REQUIRE_POSTGRES=1) but {postgres_url()} is unreachable"
        )
    pytest.skip("PostgreSQL unreachable; set TEST_DATABASE_URL or start it")


def base_test_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-only-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "MAIL_SERVER": "",
        "SERVER_NAME": "stall.test",
        # Emailed, printed and feed links are built on it; TRUSTED_HOSTS follows its host.
        "PUBLIC_BASE_URL": "http://stall.test",
        # Cheap hashing keeps the suite fast; production uses argon2-cffi's defaults.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
    }


def pytest_generate_tests(metafunc) -> None:
    """Every database test runs on SQLite and on PostgreSQL, unless marked
    ``@pytest.mark.backends("sqlite")`` (or "postgresql"); browser journeys run on SQLite only
    (the live server writes from one thread), their database rules being covered on both."""
    if "backend" not in metafunc.fixturenames:
        return
    chosen = metafunc.definition.get_closest_marker("backends")
    if chosen is not None:
        backends = list(chosen.args)
    elif metafunc.definition.get_closest_marker("browser") is not None:
        backends = ["sqlite"]
    else:
        backends = ["sqlite", "postgresql"]
    metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request) -> str:
    if request.param == "postgresql":
        require_postgres_or_skip()
    return request.param


@pytest.fixture
def database_url(backend, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    return postgres_url()


@pytest.fixture
def app_config(database_url) -> dict:
    """The test mapping given to ``create_app``; tests may change it before ``app`` is built."""
    return base_test_config(database_url)


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The test itself holds an app context for ``db.session``; without this, requests would share
    that context, its database session and ``g`` (where Flask-Login caches the user).
    The test's session commits before each request, so what it reads afterwards is fresh.
    """

    def open(self, *args, **kwargs):
        # End the test's own transaction first: on SQLite (WAL) an open read transaction keeps
        # its snapshot, and the test would not see what the request writes.
        _db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config, backend):
    app = create_app(app_config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        _db.create_all()
        yield app
        _db.session.remove()
        if backend == "postgresql":
            tables = ", ".join(f'"{table.name}"' for table in _db.metadata.sorted_tables)
            with _db.engine.begin() as connection:
                connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture(autouse=True)
def login_pauses(monkeypatch) -> list[float]:
    """The login slow-down's pauses, in seconds, recorded instead of slept: no test waits."""
    requested: list[float] = []
    monkeypatch.setattr(throttle, "pause", requested.append)
    return requested


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass(frozen=True)
class OutboxMail:
    """One outbox row as the tests read it."""

    id: int
    to: str
    subject: str
    body: str
    purpose: str
    headers: dict
    status: str


class OutboxView:
    """The outbox table read as a list, oldest first; ``clear()`` hides what is there so far.

    It reads through the test's session (after a flush, so mail written by a service the test
    just called counts) and through a fresh connection (so mail committed by a request or a
    command counts even while the test's SQLite snapshot is older).
    """

    def __init__(self):
        self.after = 0

    def _rows(self) -> list[OutboxMail]:
        table = OutgoingMessage.__table__
        query = sa.select(table).where(table.c.id > self.after).order_by(table.c.id)
        _db.session.flush()
        rows = {row.id: row for row in _db.session.execute(query)}
        with _db.engine.connect() as connection:
            rows.update({row.id: row for row in connection.execute(query)})
        return [
            OutboxMail(
                id=row.id,
                to=row.recipient,
                subject=row.subject,
                body=row.body,
                purpose=row.purpose,
                headers=row.headers,
                status=row.status,
            )
            for _id, row in sorted(rows.items())
        ]

    def __len__(self) -> int:
        return len(self._rows())

    def __iter__(self):
        return iter(self._rows())

    def __getitem__(self, index):
        return self._rows()[index]

    def __bool__(self) -> bool:
        return bool(self._rows())

    def __eq__(self, other) -> bool:
        return list(self) == other

    __hash__ = None

    def clear(self) -> None:
        rows = self._rows()
        if rows:
            self.after = rows[-1].id


@pytest.fixture
def mail(app):
    """The outbox: the messages the app wrote for the worker to deliver."""
    return OutboxView()


@pytest.fixture
def make_group(db):
    counter = iter(range(1, 10_000))

    def make(slug=None, timezone="Europe/London", currency="GBP", language="en", name=None):
        number = next(counter)
        slug = slug or f"group{number}"
        group = services.create_group(
            db.session,
            services.GroupSettings(
                name=name or f"Group {slug}",
                slug=slug,
                timezone=timezone,
                currency=currency,
                language=language,
            ),
        )
        db.session.commit()
        return group

    return make


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    def make(email=None, name=None, password=PASSWORD, groups=None, is_admin=False):
        number = next(counter)
        user = services.create_user(
            db.session,
            email or f"user{number}@example.org",
            name or f"User {number}",
            password,
            is_admin=is_admin,
        )
        for group, role in (groups or {}).items():
            services.add_membership(db.session, user, group, Role(role))
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(client):
    """Log the test client in as ``user`` through the real login form."""

    def login(user, password=PASSWORD, remember=False):
        data = {"email": user.email, "password": password}
        if remember:
            data["remember"] = "y"
        response = client.post("/login", data=data)
        assert response.status_code == 302, "login failed"
        return response

    return login


@pytest.fixture
def count_statements(db):
    """``with count_statements() as counter: ...`` then ``counter.count``."""
    return lambda: StatementCounter(db.engine)


def link_in(message) -> str:
    """Return the first http(s) link in an email's body."""
    match = re.search(r"https?://\S+", message.body)
    assert match, f"no link in {message.body!r}"
    return match.group(0)


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright; shared by the browser tests."""
    from tests.browser import CHROMIUM, LAUNCH_ARGS, require_browser_or_skip

    require_browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def live_server(app):
    """The test app served over HTTP for the browser (SQLite only: one thread writes at a time)."""
    from tests.browser import LiveServer

    app.config["SERVER_NAME"] = None
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def phone(browser, live_server):
    """A fresh phone-sized browser page pointed at the live server."""
    from tests.browser import PHONE

    context = browser.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def server(app):
    """The test app served over HTTP by a server a test can stop and start again, as the
    network going away at a stall (the sale screen's offline journeys)."""
    from tests.browser import RestartableLiveServer

    app.config["SERVER_NAME"] = None
    with RestartableLiveServer(app) as running:
        yield running


@pytest.fixture
def context(browser, server):
    """A phone-sized browser context on the restartable server, for tests that open pages."""
    from tests.browser import PHONE

    context = browser.new_context(viewport=PHONE, base_url=server.url, is_mobile=True)
    yield context
    context.close()


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the .po catalogues when their .mo is missing or older (``make`` does it too)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    translations = Path(__file__).resolve().parent.parent / "stallapp" / "translations"
    for po_path in translations.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue)


@pytest.fixture
def world(make_group, make_user, db) -> dict:
    """One of every row a route takes the id of (see :mod:`tests.route_world`)."""
    from tests.route_world import build_world

    return build_world(db, make_group, make_user)
