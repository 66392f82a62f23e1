"""The operator's side: private files, and ``flask backup`` / ``flask restore``.

SQLite is copied through its online backup API (a consistent snapshot while the app keeps
writing); PostgreSQL through ``pg_dump -Fc`` and ``pg_restore``. Backups are written ``0600``:
they hold every contact's address.
"""

import glob
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from stallapp.errors import StallError
from stallapp.extensions import db

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
#: Files next to an SQLite database that hold its data too.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
#: Where PostgreSQL's client programs live besides the PATH (Debian, then RHEL's layout).
PG_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")


class BackupFailed(StallError):
    code = "backup_failed"


# File permissions ---------------------------------------------------------------------------


def sqlite_path(database_uri: str) -> Path | None:
    """Return the file of an SQLite URL, or None for PostgreSQL and in-memory databases."""
    url = sa.engine.make_url(database_uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("uri") or url.database.startswith("file:"):
        return None  # an SQLite URI names its own mode and options; leave it to the operator
    return Path(url.database)


def _tighten(path: Path, mode: int, changed: list[str]) -> None:
    """Take away the group's and others' permissions on ``path`` if it has any."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode == 0:
        return
    try:
        path.chmod(current & mode)
    except PermissionError:
        changed.append(
            f"{path} is readable by others (mode {current:o}) and cannot be changed by this "
            f"user: make it {mode:o}."
        )
        return
    changed.append(f"{path} was mode {current:o}; now {current & mode:o}.")


def secure_files(instance_path: Path, database: Path | None) -> list[str]:
    """Make the instance folder ``0700`` and the SQLite files ``0600``; return what was wrong.

    A missing database file is created empty (a valid empty SQLite database) and ``0600`` before
    anything connects, because SQLite gives its ``-wal`` and ``-shm`` files the database file's
    mode. Existing files that are too open are tightened rather than refused: an installation
    made before this check keeps working, and the log says what changed.
    """
    changed: list[str] = []
    instance_path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    _tighten(instance_path, PRIVATE_FOLDER, changed)
    _tighten(instance_path / "secret_key", PRIVATE_FILE, changed)
    if database is not None:
        if database.parent.is_dir() and not database.exists():
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        for path in [database] + [Path(f"{database}{suffix}") for suffix in SQLITE_COMPANIONS]:
            _tighten(path, PRIVATE_FILE, changed)
    return changed


def secure_instance(app: Flask) -> None:
    """Keep the instance folder and the SQLite files private to the app's user."""
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    for message in secure_files(Path(app.instance_path), database):
        app.logger.warning("File permissions: %s", message)


# Backup and restore -------------------------------------------------------------------------


def _private_temporary(destination: Path) -> Path:
    """Create an empty ``0600`` file beside ``destination``, to be renamed onto it when done."""
    if not destination.parent.is_dir():
        raise BackupFailed(f"Cannot write {destination}: folder {destination.parent} missing.")
    try:
        descriptor, name = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".partial"
        )
    except OSError as error:
        raise BackupFailed(f"Cannot write in {destination.parent}: {error.strerror}.") from error
    os.close(descriptor)
    return Path(name)


def _check_readable(path: Path) -> bytes:
    """Return the first bytes of ``path``, or fail with a message saying why it cannot be read."""
    if not path.exists():
        raise BackupFailed(f"{path} does not exist.")
    if not path.is_file():
        raise BackupFailed(f"{path} is not a file.")
    try:
        with path.open("rb") as handle:
            return handle.read(16)
    except OSError as error:
        raise BackupFailed(f"Cannot read {path}: {error.strerror}.") from error


def _revision_of(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


@dataclass
class BackupSummary:
    path: Path
    size: int
    revision: str | None


def backup_sqlite(database: Path, destination: Path) -> BackupSummary:
    """Copy ``database`` to ``destination`` through SQLite's online backup API.

    The copy is one step (all pages under one read transaction), so it is a consistent snapshot
    even while the app writes: in WAL mode writers carry on meanwhile. The copy is switched to a
    rollback journal so that it is one self-contained file.
    """
    if not database.is_file():
        raise BackupFailed(f"The database {database} does not exist.")
    partial = _private_temporary(destination)
    try:
        source = sqlite3.connect(database, timeout=30)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
            revision = _revision_of(target)
        finally:
            target.close()
            source.close()
        os.replace(partial, destination)
    except sqlite3.Error as error:
        raise BackupFailed(f"Backup of {database} failed: {error}.") from error
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(destination, destination.stat().st_size, revision)


def check_sqlite_backup(path: Path) -> str:
    """Return the migration revision of an SQLite backup, or fail if it is not one of ours."""
    header = _check_readable(path)
    if not header.startswith(SQLITE_MAGIC):
        if header.startswith(PG_DUMP_MAGIC):
            raise BackupFailed(f"{path} is a PostgreSQL backup; this app uses SQLite.")
        raise BackupFailed(f"{path} is not an SQLite database.")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (verdict,) = connection.execute("PRAGMA quick_check").fetchone()
            revision = _revision_of(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupFailed(f"{path} cannot be read as an SQLite database: {error}.") from error
    if verdict != "ok":
        raise BackupFailed(f"{path} is damaged: {verdict}.")
    if revision is None:
        raise BackupFailed(f"{path} is not a stallapp backup (it has no migration revision).")
    return revision


def restore_sqlite(backup: Path, database: Path) -> None:
    """Replace the content of ``database`` with ``backup``, through the backup API.

    Copying into the live file (rather than renaming over it) keeps SQLite's locking, so a
    process still connected sees either the old database or the restored one, never a mix.
    """
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(database, timeout=30)
    try:
        source.backup(target)
    except sqlite3.Error as error:
        raise BackupFailed(f"Restore into {database} failed: {error}.") from error
    finally:
        target.close()
        source.close()


def _major_version(text: str) -> int | None:
    match = re.search(r"\(PostgreSQL\) (\d+)", text)
    return int(match.group(1)) if match else None


def _tool_version(program: Path) -> int | None:
    try:
        # The program is one of PostgreSQL's found on the PATH or in its install folders.
        output = subprocess.run(  # noqa: S603
            [str(program), "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return _major_version(output)


def pg_tool(name: str, server_major: int) -> Path:
    """Find ``pg_dump`` or ``pg_restore`` able to work with a server of ``server_major``.

    A pg_dump older than the server refuses to dump it, so: the PATH's program and those in
    the usual versioned folders are considered, the one of the server's own version first, else
    the newest newer one.
    """
    candidates: dict[Path, int] = {}
    on_path = shutil.which(name)
    folders = [Path(on_path).parent] if on_path else []
    for pattern in PG_BIN_GLOBS:
        folders.extend(Path(folder) for folder in sorted(glob.glob(pattern)))
    for folder in folders:
        # Not resolved: Debian's /usr/bin/pg_dump is a wrapper that picks a version by its name.
        program = folder / name
        if program.is_file() and program not in candidates:
            version = _tool_version(program)
            if version is not None:
                candidates[program] = version
    if not candidates:
        raise BackupFailed(
            f"{name} not found: install PostgreSQL's client programs "
            f"(Debian: apt install postgresql-client-{server_major})."
        )
    usable = {
        program: version for program, version in candidates.items() if version >= server_major
    }
    if not usable:
        found = ", ".join(f"{program} ({version})" for program, version in candidates.items())
        raise BackupFailed(
            f"{name} is older than the PostgreSQL {server_major} server (found {found}): install "
            f"postgresql-client-{server_major}."
        )
    return min(usable, key=lambda program: (usable[program] != server_major, -usable[program]))


def _pg_connection(url: sa.engine.URL) -> tuple[str, dict[str, str]]:
    """Return libpq's connection URI (no password) and the environment that carries the password.

    The password goes in ``PGPASSWORD``, never on the command line where ``ps`` would show it.
    """
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = url.password
    # URL.set() takes None as "unchanged": build the URL afresh to leave the password out.
    without_password = sa.engine.URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    conninfo = without_password.render_as_string(hide_password=False)
    return conninfo, environment


def _server_major(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        number = int(connection.exec_driver_sql("SHOW server_version_num").scalar())
    return number // 10000


def _run(command: list[str], environment: dict[str, str], what: str) -> str:
    # No shell; the arguments are the operator's own paths and database URL.
    result = subprocess.run(command, env=environment, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupFailed(f"{what} failed: {detail}")
    return result.stdout


def backup_postgresql(engine: sa.Engine, destination: Path) -> BackupSummary:
    """Dump the database with ``pg_dump -Fc`` (a consistent snapshot) to ``destination``."""
    pg_dump = pg_tool("pg_dump", _server_major(engine))
    with engine.connect() as connection:
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    conninfo, environment = _pg_connection(engine.url)
    partial = _private_temporary(destination)
    try:
        # pg_dump truncates the 0600 file made for it rather than creating one with its umask.
        _run(
            [
                str(pg_dump),
                "--format=custom",
                "--no-password",
                f"--file={partial}",
                f"--dbname={conninfo}",
            ],
            environment,
            "pg_dump",
        )
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(destination, destination.stat().st_size, revision)


def _archive_tables(pg_restore: Path, backup: Path, environment: dict[str, str]) -> set[str]:
    listing = _run([str(pg_restore), "--list", str(backup)], environment, "Reading the backup")
    return set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, flags=re.MULTILINE))


def check_postgresql_backup(engine: sa.Engine, backup: Path) -> set[str]:
    """Return the tables in a ``pg_dump -Fc`` backup, or fail if it is not one of ours."""
    header = _check_readable(backup)
    if header.startswith(SQLITE_MAGIC):
        raise BackupFailed(f"{backup} is an SQLite backup; this app uses PostgreSQL.")
    if not header.startswith(PG_DUMP_MAGIC):
        raise BackupFailed(f"{backup} is not a PostgreSQL backup made by pg_dump -Fc.")
    pg_restore = pg_tool("pg_restore", _server_major(engine))
    tables = _archive_tables(pg_restore, backup, dict(os.environ))
    if "alembic_version" not in tables:
        raise BackupFailed(f"{backup} is not a stallapp backup (it has no migration revision).")
    return tables


def restore_postgresql(engine: sa.Engine, backup: Path, tables: set[str]) -> None:
    """Replace the database's tables with the backup's, in one transaction.

    ``--clean --if-exists`` drops what the backup holds before recreating it; a table that is
    only in the database would survive and break the next upgrade, so that case is refused.
    Ownership and grants are not restored: the restored objects belong to the URL's user.
    """
    present = set(sa.inspect(engine).get_table_names())
    extra = sorted(present - tables)
    if extra:
        raise BackupFailed(
            "The database has tables the backup does not (" + ", ".join(extra) + "): restore "
            "into an empty database, or drop them first."
        )
    pg_restore = pg_tool("pg_restore", _server_major(engine))
    conninfo, environment = _pg_connection(engine.url)
    engine.dispose()  # our own idle connections would hold locks the DROPs wait for
    _run(
        [
            str(pg_restore),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={conninfo}",
            str(backup),
        ],
        environment,
        "pg_restore",
    )


def _describe(url: sa.engine.URL) -> str:
    return url.render_as_string(hide_password=True)


def _size(number: int) -> str:
    if number < 1024:
        return f"{number} bytes"
    if number < 1024 * 1024:
        return f"{number / 1024:.1f} kB"
    return f"{number / (1024 * 1024):.1f} MB"


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    directory = current_app.extensions["migrate"].directory
    return ScriptDirectory(directory).get_current_head()


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Write a consistent copy of the database to PATH (0600), while the app keeps running."""
    engine = db.engine
    database = sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        if database is not None:
            summary = backup_sqlite(database, path)
            source = str(database)
        elif engine.dialect.name == "postgresql":
            summary = backup_postgresql(engine, path)
            source = _describe(engine.url)
        else:
            raise BackupFailed(f"Cannot back up {_describe(engine.url)}: not a file or PostgreSQL.")
    except BackupFailed as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"Backed up {source} to {summary.path} ({_size(summary.size)}, "
        f"migration revision {summary.revision})."
    )


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
@with_appcontext
def restore(path: Path, yes: bool) -> None:
    """Replace the whole database with the backup in PATH (stop the app first)."""
    engine = db.engine
    database = sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        if database is not None:
            check_sqlite_backup(path)
            target = str(database)
        elif engine.dialect.name == "postgresql":
            tables = check_postgresql_backup(engine, path)
            target = _describe(engine.url)
        else:
            raise BackupFailed(f"Cannot restore into {_describe(engine.url)}.")
        if not yes:
            click.confirm(
                f"Replace every row of {target} with the backup {path}? This cannot be undone",
                abort=True,
            )
        db.session.remove()
        engine.dispose()
        if database is not None:
            restore_sqlite(path, database)
        else:
            restore_postgresql(engine, path, tables)
        engine.dispose()
    except BackupFailed as error:
        raise click.ClickException(error.message) from error
    with engine.connect() as connection:
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    click.echo(f"Restored {target} from {path} (migration revision {revision}).")
    if revision != _head_revision():
        click.echo("The backup is from an older version: run `flask --app stallapp db upgrade`.")
