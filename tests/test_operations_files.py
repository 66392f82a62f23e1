"""The instance folder is 0700 and the SQLite files 0600: no other local user reads a contact."""

import logging
import stat
from pathlib import Path

import sqlalchemy as sa

from stallapp import PROJECT_ROOT, create_app
from stallapp.extensions import db
from stallapp.operations import secure_files, sqlite_path
from tests.conftest import base_test_config


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_instance_and_database_are_private(tmp_path):
    instance, database = tmp_path / "instance", tmp_path / "instance" / "stallapp.sqlite"
    assert secure_files(instance, database) == []
    assert mode(instance) == 0o700
    assert mode(database) == 0o600
    assert database.stat().st_size == 0  # an empty file is an empty SQLite database


def test_the_wal_and_shm_files_take_the_database_files_mode(tmp_path):
    database = tmp_path / "stall.sqlite"
    app = create_app(base_test_config(f"sqlite:///{database}"))
    with app.app_context():
        db.create_all()
        with db.engine.connect() as connection:
            connection.execute(
                sa.text(
                    'INSERT INTO "group" (slug, name, timezone, currency, '
                    "language, created_at) VALUES ('uk', 'UK', 'UTC', 'GBP', "
                    "'en', '2025-01-01 00:00:00')"
                )
            )
            connection.commit()
            # While a connection is open, the write-ahead log and its index are on disk.
            assert mode(database) == 0o600
            assert mode(Path(f"{database}-wal")) == 0o600
            assert mode(Path(f"{database}-shm")) == 0o600
        db.engine.dispose()


def test_files_left_too_open_are_tightened_and_logged(tmp_path, caplog):
    database = tmp_path / "stall.sqlite"
    app = create_app(base_test_config(f"sqlite:///{database}"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    wal = Path(f"{database}-wal")
    wal.touch()
    for path in (database, wal):
        path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        create_app(base_test_config(f"sqlite:///{database}"))
    assert mode(database) == 0o600
    assert mode(wal) == 0o600
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"File permissions: {database} was mode 644; now 600." in warnings
    assert f"File permissions: {wal} was mode 644; now 600." in warnings


def test_an_open_instance_folder_and_secret_key_are_tightened(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    key = instance / "secret_key"
    key.write_text("k")
    key.chmod(0o644)
    changed = secure_files(instance, None)
    assert mode(instance) == 0o700
    assert mode(key) == 0o600
    assert changed == [
        f"{instance} was mode 755; now 700.",
        f"{key} was mode 644; now 600.",
    ]


def test_a_file_that_cannot_be_changed_is_reported(tmp_path, monkeypatch):
    database = tmp_path / "stall.sqlite"
    database.touch()
    database.chmod(0o644)

    def refuse(self, mode):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "chmod", refuse)
    changed = secure_files(tmp_path, database)
    assert f"{database} is readable by others (mode 644) and cannot be changed" in changed[-1]


def test_the_app_makes_its_instance_folder_private():
    create_app(base_test_config("sqlite://"))
    assert mode(PROJECT_ROOT / "instance") == 0o700


def test_only_sqlite_files_are_touched():
    assert sqlite_path("postgresql+psycopg://u:p@db/stallapp") is None
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("sqlite:////srv/stallapp/instance/stallapp.sqlite") == Path(
        "/srv/stallapp/instance/stallapp.sqlite"
    )
