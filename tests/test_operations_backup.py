"""``flask backup`` and ``flask restore``: a backup taken during a sales storm restores into a fresh
database with every row and every report figure of the moment it was taken."""

import dataclasses
import enum
import stat
import threading
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from stallapp import create_app, operations
from stallapp.accounts import services as accounts
from stallapp.accounts.models import Group, Role, User
from stallapp.database import begin_write
from stallapp.demo import load_demo_data
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.reports import event_report, group_report
from stallapp.sales import operations as sale_operations
from stallapp.sales import recording as sale_recording
from stallapp.sales.models import ClientOperation
from stallapp.stock.demo import PETERBOROUGH
from stallapp.stock.models import Publication
from tests.conftest import (
    RUN_DATABASE,
    base_test_config,
    create_scratch_database,
    drop_scratch_database,
    require_postgres_or_skip,
)

BATCHES_BEFORE, BATCHES_AFTER = 20, 20
#: Each batch: a journal sold, a book sold, a donation.
OPERATIONS_PER_BATCH = 3


@pytest.fixture
def make_database(backend, tmp_path):
    """Return a function that makes an empty database of the run's backend and returns its URL."""
    made: list[str] = []

    def make(name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / name}.sqlite"
        scratch = f"{RUN_DATABASE}_{name}"
        made.append(scratch)
        return create_scratch_database(scratch)

    yield make
    for scratch in made:
        drop_scratch_database(scratch)


@pytest.fixture
def apps():
    """Apps made by the test; their pools are closed at the end so databases can be dropped."""
    made = []

    def make(url: str):
        app = create_app(base_test_config(url))
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def plain(value):
    """Turn a report into comparable values: ORM rows become their identity."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "__mapper__"):
        return (type(value).__name__, sa.inspect(value).identity)
    return value


def snapshot(app) -> dict:
    """Every row of every table, and every event's and group's report."""
    with app.app_context():
        tables = sa.MetaData()
        tables.reflect(db.engine)
        rows = {}
        with db.engine.connect() as connection:
            for table in tables.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows[table.name] = [
                    tuple(row) for row in connection.execute(sa.select(table).order_by(*order))
                ]
        today = date.today()
        period = group_report.Period(today - timedelta(days=400), today + timedelta(days=400))
        events = db.session.scalars(sa.select(Event).order_by(Event.id)).all()
        groups = db.session.scalars(sa.select(Group).order_by(Group.id)).all()
        result = {
            "rows": rows,
            "events": {e.id: plain(event_report.event_report(db.session, e)) for e in events},
            "groups": {
                g.slug: plain(group_report.group_report(db.session, g, period)) for g in groups
            },
        }
        db.session.remove()
        return result


def load_demo(app) -> tuple[int, int, dict[str, int]]:
    """Load the demo; return the Peterborough stall's id, the organiser's, two packed titles'."""
    with app.app_context():
        upgrade()
        load_demo_data(db.session)
        db.session.commit()
        event = db.session.scalar(sa.select(Event).where(Event.title == PETERBOROUGH))
        organiser = accounts.find_user_by_email(db.session, "organiser@example.org")
        packed = {
            key: db.session.scalar(
                sa.select(Publication.id).where(
                    Publication.group_id == event.group_id,
                    Publication.title == title,
                    Publication.issue_number == issue,
                )
            )
            for key, title, issue in (
                ("journal", "Revolutionary Perspectives", "No. 24"),
                ("book", "1917", ""),
            )
        }
        result = event.id, organiser.id, packed
        db.session.remove()
        return result


def record_batch(event_id: int, user_id: int, titles: dict[str, int], number: int) -> None:
    """Record one phone's batch through the sales service, as the sync endpoint does."""
    begin_write(db.session)
    event = db.session.get(Event, event_id)
    user = db.session.get(User, user_id)
    body = {
        "operations": [
            {
                "id": str(uuid.uuid4()),
                "type": "sale",
                "publication_id": titles["journal"],
            },
            {
                "id": str(uuid.uuid4()),
                "type": "sale",
                "publication_id": titles["book"],
                "quantity": 2,
            },
            {"id": str(uuid.uuid4()), "type": "donation", "amount": f"{number % 7 + 1}.50"},
        ]
    }
    operations_ = sale_operations.parse_batch(body, "GBP")
    sale_recording.record_operations(
        db.session, event, sale_recording.Seller(user, Role.ORGANISER), operations_
    )


def test_a_backup_during_a_sales_storm_restores_every_row_and_report(
    backend, make_database, apps, tmp_path
):
    source = apps(make_database("source"))
    event_id, organiser_id, titles = load_demo(source)
    in_flight, backed_up = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def storm() -> None:
        try:
            for number in range(BATCHES_BEFORE + 1 + BATCHES_AFTER):
                with source.app_context():
                    record_batch(event_id, organiser_id, titles, number)
                    if number == BATCHES_BEFORE:
                        # Hold this batch's transaction (and SQLite's write lock) open while
                        # the backup runs: the copy must neither wait for it nor include it.
                        in_flight.set()
                        assert backed_up.wait(timeout=120)
                    db.session.commit()
        except BaseException as error:
            errors.append(error)
            in_flight.set()

    seller = threading.Thread(target=storm)
    seller.start()
    assert in_flight.wait(timeout=120)
    expected = snapshot(source)
    during = tmp_path / "during.backup"
    result = source.test_cli_runner().invoke(args=["backup", str(during)])
    backed_up.set()
    seller.join(timeout=300)
    assert errors == []
    assert result.exit_code == 0, result.output
    assert f"to {during}" in result.output
    assert stat.S_IMODE(during.stat().st_mode) == 0o600

    restored = apps(make_database("restored"))
    result = restored.test_cli_runner().invoke(args=["restore", "--yes", str(during)])
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    copy = snapshot(restored)
    assert copy == expected
    storm_operations = [row for row in copy["rows"]["client_operation"] if row[3] == event_id]
    assert len(storm_operations) == BATCHES_BEFORE * OPERATIONS_PER_BATCH
    money = {(r["kind"], r["currency"]): r["amount"] for r in copy["events"][event_id]["money"]}
    assert money[("sale", "GBP")] == BATCHES_BEFORE * (400 + 2 * 1200)

    # After the storm: back up again and restore over the first restore.
    final = snapshot(source)
    after = tmp_path / "after.backup"
    assert source.test_cli_runner().invoke(args=["backup", str(after)]).exit_code == 0
    result = restored.test_cli_runner().invoke(args=["restore", "--yes", str(after)])
    assert result.exit_code == 0, result.output
    assert snapshot(restored) == final
    with restored.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).where(ClientOperation.event_id == event_id)
        )
        assert count == (BATCHES_BEFORE + 1 + BATCHES_AFTER) * OPERATIONS_PER_BATCH


def test_restore_asks_first_and_leaves_the_database_alone_when_refused(
    backend, make_database, apps, tmp_path
):
    source = apps(make_database("source"))
    with source.app_context():
        upgrade()
        accounts.create_group(
            db.session,
            accounts.GroupSettings(
                name="CWO (UK)", slug="uk", timezone="Europe/London", currency="GBP", language="en"
            ),
        )
        db.session.commit()
    backup = tmp_path / "groups.backup"
    assert source.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0

    target = apps(make_database("target"))
    with target.app_context():
        upgrade()
    runner = target.test_cli_runner()
    result = runner.invoke(args=["restore", str(backup)], input="n\n")
    assert result.exit_code == 1
    assert "Replace every row of" in result.output
    assert "Aborted" in result.output
    with target.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Group)) == 0
        db.session.remove()

    result = runner.invoke(args=["restore", str(backup)], input="y\n")
    assert result.exit_code == 0, result.output
    with target.app_context():
        assert db.session.scalars(sa.select(Group.slug)).all() == ["uk"]
        db.session.remove()


def test_restore_refuses_what_is_not_a_backup(backend, make_database, apps, tmp_path):
    app = apps(make_database("target"))
    with app.app_context():
        upgrade()
    runner = app.test_cli_runner()
    missing = tmp_path / "missing.backup"
    result = runner.invoke(args=["restore", "--yes", str(missing)])
    assert result.exit_code == 1
    assert f"Error: {missing} does not exist." in result.output

    result = runner.invoke(args=["restore", "--yes", str(tmp_path)])
    assert result.exit_code != 0

    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")
    result = runner.invoke(args=["restore", "--yes", str(junk)])
    assert result.exit_code == 1
    expected = "not an SQLite database" if backend == "sqlite" else "not a PostgreSQL backup"
    assert expected in result.output


def test_restore_refuses_an_sqlite_file_that_is_not_ours(tmp_path, apps):
    other = tmp_path / "other.sqlite"
    engine = sa.create_engine(f"sqlite:///{other}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE notes (body TEXT)"))
    engine.dispose()
    app = apps(f"sqlite:///{tmp_path / 'live.sqlite'}")
    result = app.test_cli_runner().invoke(args=["restore", "--yes", str(other)])
    assert result.exit_code == 1
    assert "is not a stallapp backup" in result.output


def test_postgresql_restore_refuses_an_sqlite_backup_and_leftover_tables(tmp_path, apps):
    require_postgres_or_skip()
    sqlite_source = apps(f"sqlite:///{tmp_path / 'source.sqlite'}")
    with sqlite_source.app_context():
        upgrade()
    sqlite_backup = tmp_path / "sqlite.backup"
    assert (
        sqlite_source.test_cli_runner().invoke(args=["backup", str(sqlite_backup)]).exit_code == 0
    )

    scratch = f"{RUN_DATABASE}_leftover"
    app = apps(create_scratch_database(scratch))
    try:
        with app.app_context():
            upgrade()
        runner = app.test_cli_runner()
        result = runner.invoke(args=["restore", "--yes", str(sqlite_backup)])
        assert result.exit_code == 1
        assert "is an SQLite backup; this app uses PostgreSQL" in result.output

        pg_backup = tmp_path / "pg.backup"
        assert runner.invoke(args=["backup", str(pg_backup)]).exit_code == 0
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE leftover (id integer)"))
            db.engine.dispose()
        result = runner.invoke(args=["restore", "--yes", str(pg_backup)])
        assert result.exit_code == 1
        assert "tables the backup does not (leftover)" in result.output
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_scratch_database(scratch)


def test_backup_fails_clearly_without_pg_dump(tmp_path, apps, monkeypatch):
    require_postgres_or_skip()
    scratch = f"{RUN_DATABASE}_no_pg_dump"
    app = apps(create_scratch_database(scratch))
    try:
        with app.app_context():
            upgrade()
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        monkeypatch.setattr(operations, "PG_BIN_GLOBS", ())
        destination = tmp_path / "pg.backup"
        result = app.test_cli_runner().invoke(args=["backup", str(destination)])
        assert result.exit_code == 1
        assert "pg_dump not found: install PostgreSQL's client programs" in result.output
        assert not destination.exists()
        assert list(tmp_path.iterdir()) == []
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_scratch_database(scratch)


def fake_tool(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True)
    program = folder / name
    program.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    program.chmod(0o755)
    return program


def test_the_pg_dump_matching_the_server_is_chosen(tmp_path, monkeypatch):
    thirteen = fake_tool(tmp_path / "13" / "bin", "pg_dump", "13.4")
    fifteen = fake_tool(tmp_path / "15" / "bin", "pg_dump", "15.2 (Debian 15.2-1)")
    sixteen = fake_tool(tmp_path / "16" / "bin", "pg_dump", "16.1")
    monkeypatch.setenv("PATH", str(tmp_path / "13" / "bin"))
    monkeypatch.setattr(operations, "PG_BIN_GLOBS", (str(tmp_path / "*" / "bin"),))
    assert operations.pg_tool("pg_dump", 15) == fifteen
    assert operations.pg_tool("pg_dump", 14) == sixteen
    assert operations.pg_tool("pg_dump", 13) == thirteen
    with pytest.raises(operations.BackupFailed) as refused:
        operations.pg_tool("pg_dump", 17)
    assert "older than the PostgreSQL 17 server" in refused.value.message
    assert "postgresql-client-17" in refused.value.message


def test_the_password_goes_in_the_environment_not_the_command_line():
    url = sa.engine.make_url("postgresql+psycopg://stallapp:s3cret@db.internal:5433/stalls")
    conninfo, environment = operations._pg_connection(url)
    assert "s3cret" not in conninfo
    assert conninfo == "postgresql://stallapp@db.internal:5433/stalls"
    assert environment["PGPASSWORD"] == "s3cret"
