"""Error pages that work when the database does not: a rolled-back 500, and 503 while it is down."""

import contextlib
import socket
import sqlite3
import threading
import uuid

import pytest
import sqlalchemy as sa

from stallapp import create_app
from stallapp.extensions import db as _db
from stallapp.sales.models import Sale
from tests.conftest import PASSWORD, FreshContextClient


class StatementLog:
    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc_info):
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


BROKEN_QUERY = "SELECT no_such_column FROM user_account_that_is_not_there"


@pytest.fixture
def app_config(app_config):
    # As in production: an unexpected error is answered by the 500 handler, not re-raised.
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


def test_a_500_rolls_back_and_renders_without_the_database(app, db, client, login_as, member):
    """On PostgreSQL a failed statement aborts the transaction: the old error page, which asked
    the database for the user's groups, then failed too and left a bare 'Internal Server Error'."""

    def broken():
        # A bug that swallowed a database error and carried on.
        with contextlib.suppress(sa.exc.DBAPIError):
            db.session.execute(sa.text(BROKEN_QUERY))
        raise RuntimeError("a bug")

    app.add_url_rule("/test/broken", "broken", broken)
    login_as(member)
    with StatementLog(db.engine) as log:
        response = client.get("/test/broken")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "Error 500" in page
    assert response.headers["Cache-Control"] == "no-store"
    failed_at = next(i for i, s in enumerate(log.statements) if "no_such_column" in s)
    after = [s for s in log.statements[failed_at + 1 :] if not s.upper().startswith("ROLLBACK")]
    assert after == []
    # The next request is served normally: the connection went back to the pool clean.
    assert client.get("/").status_code == 200


def test_a_500_on_the_sync_endpoint_answers_json(app, db, client, login_as, member, event):
    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/test/broken-json", "broken_json", broken, methods=["POST"])
    response = client.post("/test/broken-json", json={"operations": []})
    assert response.status_code == 500
    assert response.get_json()["error"] == "Something went wrong"


class TcpRelay:
    """A relay between the app and PostgreSQL that the test can cut, as a restart would."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.accepting = True
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if not self.accepting:
                    client.close()
                    continue
                upstream = socket.create_connection(self.target)
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones (the server is down)."""
        with self.lock:
            self.accepting = False
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()

    def restore(self) -> None:
        with self.lock:
            self.accepting = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def relayed_app(app, backend, database_url):
    """A second app on the same database, reached through a relay the test can cut."""
    if backend != "postgresql":
        pytest.skip("a server that goes away is PostgreSQL's case; SQLite's is a held lock")
    url = sa.engine.make_url(database_url)
    relay = TcpRelay((url.host, url.port or 5432))
    config = {
        **app.config,
        "SQLALCHEMY_DATABASE_URI": url.set(host="127.0.0.1", port=relay.port).render_as_string(
            hide_password=False
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            "connect_args": {"connect_timeout": 2},
        },
        "PROPAGATE_EXCEPTIONS": False,
    }
    relayed = create_app(config)
    relayed.test_client_class = FreshContextClient
    yield relayed, relay
    with relayed.app_context():
        _db.engine.dispose()
    relay.close()


def _sync_batch(publication_id: int) -> dict:
    return {
        "operations": [{"id": str(uuid.uuid4()), "type": "sale", "publication_id": publication_id}]
    }


def test_while_postgresql_is_down_pages_and_sync_answer_503(relayed_app, db, member, event, stall):
    relayed, relay = relayed_app
    email, event_id, journal_id = member.email, event.id, stall["journal"].id
    db.session.commit()
    phone = relayed.test_client()
    assert phone.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    sync_url = f"/groups/uk/sell/{event_id}/sync"
    assert phone.post(sync_url, json=_sync_batch(journal_id)).status_code == 200

    relay.cut()
    response = phone.post(sync_url, json=_sync_batch(journal_id))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_json()["error"] == "Not available just now"
    page = phone.get("/g/uk")
    assert page.status_code == 503
    assert "The database cannot be reached" in page.get_data(as_text=True)
    assert page.headers["Retry-After"] == "30"

    relay.restore()
    assert phone.post(sync_url, json=_sync_batch(journal_id)).status_code == 200
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 2


def test_while_sqlite_is_locked_too_long_sync_answers_503(
    app, backend, database_url, db, client, login_as, member, event, stall, monkeypatch
):
    if backend != "sqlite":
        pytest.skip("a lock held past the busy timeout is SQLite's case")
    monkeypatch.setattr("stallapp.database.SQLITE_BUSY_TIMEOUT_MS", 200)
    _db.engine.dispose()  # new connections take the short timeout
    login_as(member)
    sync_url = f"/groups/uk/sell/{event.id}/sync"
    batch = _sync_batch(stall["journal"].id)
    db.session.commit()
    holder = sqlite3.connect(sa.engine.make_url(database_url).database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = client.post(sync_url, json=batch)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert client.post(sync_url, json=batch).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 1
