"""``flask db upgrade`` from every earlier revision keeps the data that was there.

For each revision R before the head (read from the Alembic script directory, so a new migration is
covered without touching this file): upgrade an empty database to R, insert representative rows
into the tables that exist at R with plain SQL built from the schema reflected at R, upgrade to
the head, and check that every value is still there and that the models and services read it.

Rows come from ``seed_rows()``, keyed by table name; only the columns a table has at R are
inserted. A table or a NOT NULL column the registry does not know gets a generic value, so an
unknown migration is still exercised; give it real rows here when the generic ones do not fit.
A value in the registry for a column that did not exist yet at R is what the upgrade must put
there (a data migration's work, e.g. ``password_reset.email_hash``).
"""

import hashlib
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

import stallapp
from stallapp import create_app
from stallapp.accounts import passwords, services
from stallapp.accounts.models import Role, User
from stallapp.database import Base
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.reports import closeout
from stallapp.reports import event_report as event_reports
from stallapp.reports import group_report as group_reports
from stallapp.sales import till
from tests.conftest import (
    PASSWORD,
    RUN_DATABASE,
    base_test_config,
    create_scratch_database,
    drop_scratch_database,
    require_postgres_or_skip,
)

SCRIPTS = ScriptDirectory(str(Path(stallapp.__file__).parent / "migrations"))


def earlier_revisions() -> list[str]:
    """Every revision but the head(s), oldest first."""
    heads = set(SCRIPTS.get_heads())
    ordered = [script.revision for script in SCRIPTS.walk_revisions()]
    return [revision for revision in reversed(ordered) if revision not in heads]


T0 = datetime(2025, 5, 17, 9, 0)  # naive UTC, as stored
#: A held sale as the sale service keeps it (Operation.to_json).
LATE_SALE_PAYLOAD = (
    '{"amount": null, "currency": "GBP", "id": "0b0e1c52-5d0e-4a55-9d2f-1f0b8e4c2a01", '
    '"offer_id": null, "payment_method": "cash", "publication_id": 1, "quantity": 1, '
    '"taken_at": "2025-05-17T19:00:00+00:00", "target": null, "type": "sale"}'
)
ORGANISER, MEMBER = "organiser@example.org", "member@example.org"


def seed_rows() -> dict[str, list[dict]]:
    """Representative rows for every table, as the app would have written them."""
    password_hash = passwords.hash_password(PASSWORD)
    stamp = {"created_at": T0}
    return {
        "group": [
            {"id": 1, "slug": "uk", "name": "CWO (UK)", "timezone": "Europe/London"}
            | {"currency": "GBP", "language": "en"}
            | stamp
        ],
        "user": [
            {"id": 1, "email": ORGANISER, "name": "Olive Organiser", "locale": "en"}
            | {"password_hash": password_hash, "is_admin": False, "is_enabled": True}
            | stamp,
            {"id": 2, "email": MEMBER, "name": "Max Member", "locale": None}
            | {"password_hash": password_hash, "is_admin": False, "is_enabled": True}
            | stamp,
        ],
        "membership": [
            {"id": 1, "user_id": 1, "group_id": 1, "role": "organiser"} | stamp,
            {"id": 2, "user_id": 2, "group_id": 1, "role": "member"} | stamp,
        ],
        "invitation": [
            {"id": 1, "group_id": 1, "email": "new@example.org", "role": "member"}
            | {"invited_by_id": 1, "token_hash": "a" * 64, "expires_at": T0 + timedelta(days=7)}
            | {"accepted_at": None}
            | stamp
        ],
        "login_session": [
            {"id": 1, "user_id": 1, "token_hash": "b" * 64, "remember": True}
            | {"expires_at": T0 + timedelta(days=30), "revoked_at": None}
            | stamp
        ],
        "password_reset": [
            {"id": 1, "user_id": 2, "token_hash": "c" * 64, "used_at": None}
            | {"expires_at": T0 + timedelta(hours=1)}
            | {"email_hash": hashlib.sha256(MEMBER.encode()).hexdigest(), "emailed": True}
            | stamp
        ],
        "calendar_feed": [{"id": 1, "user_id": 1, "token_hash": "d" * 64} | stamp],
        "catalogue_settings": [{"id": 1, "group_id": 1, "how_to_order": "Order by email."}],
        "erasure_request": [
            {"id": 1, "group_id": 1, "email": "gone@example.org", "token_hash": "e" * 64}
            | {"expires_at": T0 + timedelta(days=1)}
            | stamp
        ],
        "retention_policy": [
            {"group_id": 1, "contact_months": 24, "registration_months": 6, "updated_at": T0}
        ],
        "event_series": [
            {"id": 1, "group_id": 1, "rule_summary": "Last Saturday of each month, 15:30"}
            | {"rrule": "FREQ=MONTHLY;BYDAY=-1SA", "frequency": "monthly"}
            | {"first_day": date(2025, 5, 1), "last_day": date(2025, 7, 31)}
            | {"timezone": "Europe/London", "local_start_time": time(15, 30)}
            | {"duration_minutes": 120, "kind": "public_meeting", "title": "Monthly meeting"}
            | {"description": "Come and talk.", "venue_name": "The pub", "address": "1 High St"}
            | {"postcode": "PE1 1AA", "online_url": "", "registration_required": True}
            | {"capacity": 30, "online_link_public": False}
            | stamp
        ],
        "event": [
            {"id": 1, "group_id": 1, "public_code": "bookfair2025", "kind": "stall"}
            | {"title": "Peterborough Radical Bookfair", "description": "A stall."}
            | {"starts_at": T0 + timedelta(hours=1), "ends_at": T0 + timedelta(hours=8)}
            | {"timezone": "Europe/London", "venue_name": "George Alcock Centre"}
            | {"address": "Whittlesey Rd", "postcode": "PE2 8QS", "online_url": ""}
            | {"registration_required": False, "capacity": None, "status": "published"}
            | {"series_id": None, "online_link_public": False, "updated_at": T0}
            | stamp,
            {"id": 2, "group_id": 1, "public_code": "meeting2025m", "kind": "public_meeting"}
            | {"title": "Monthly meeting", "description": "Come and talk."}
            | {"starts_at": datetime(2025, 5, 31, 14, 30), "ends_at": datetime(2025, 5, 31, 16, 30)}
            | {"timezone": "Europe/London", "venue_name": "The pub", "address": "1 High St"}
            | {"postcode": "PE1 1AA", "online_url": "", "registration_required": True}
            | {"capacity": 30, "status": "published", "series_id": 1}
            | {"online_link_public": False, "updated_at": T0}
            | stamp,
        ],
        "publication": [
            {"id": 1, "group_id": 1, "title": "Revolutionary Perspectives"}
            | {"kind": "journal_issue", "language": "en", "issue_number": "No. 24"}
            | {"issue_date": date(2024, 9, 1), "isbn": "", "is_free": False}
            | {"reorder_level": 10, "active": True, "copied_from_id": None}
            | stamp,
            {"id": 2, "group_id": 1, "title": "Aurora", "kind": "broadsheet", "language": "en"}
            | {"issue_number": "", "issue_date": None, "isbn": "", "is_free": True}
            | {"reorder_level": 0, "active": True, "copied_from_id": None}
            | stamp,
        ],
        "publication_price": [{"id": 1, "publication_id": 1, "currency": "GBP", "amount": 400}],
        "store": [{"id": 1, "group_id": 1, "name": "Spare room", "note": ""} | stamp],
        "subscription_offer": [
            {"id": 1, "group_id": 1, "name": "Joint subscription", "description": "RP and Aurora"}
            | {"active": True}
            | stamp
        ],
        "subscription_price": [{"id": 1, "offer_id": 1, "currency": "GBP", "amount": 1500}],
        "unavailability": [
            {"id": 1, "user_id": 2, "day": date(2025, 6, 1), "note": "Away"} | stamp
        ],
        "qr_code": [
            {"id": 1, "group_id": 1, "code": "JOINUK01", "purpose": "join", "event_id": None}
            | {"label": "Join table", "scan_count": 3}
            | stamp
        ],
        "shift": [
            {"id": 1, "event_id": 1, "group_id": 1, "role": "staffing", "custom_role": ""}
            | {"starts_at": T0 + timedelta(hours=1), "ends_at": T0 + timedelta(hours=3)}
            | {"people_needed": 2, "notes": "", "cancelled_at": None}
            | {"shortage_notified_at": None}
            | stamp
        ],
        "assignment": [
            {"id": 1, "shift_id": 1, "user_id": 2, "assigned_by_id": 1, "withdrawn_at": None}
            | {"withdrawal_reason": ""}
            | stamp,
            {"id": 2, "shift_id": 1, "user_id": 1, "assigned_by_id": 1, "withdrawn_at": None}
            | {"withdrawal_reason": ""}
            | stamp,
        ],
        "cover_request": [
            {"id": 1, "assignment_id": 1, "status": "open", "message": "Can anyone?"}
            | {"taken_by_id": None, "taken_at": None}
            | stamp
        ],
        "reminder_sent": [{"id": 1, "assignment_id": 1, "sent_at": T0}],
        "contact": [
            {"id": 1, "group_id": 1, "email": "rosa@example.org", "name": "Rosa", "city": "Ely"}
            | {"interests": "", "mailing_consent_at": T0, "mailing_consent_text": "Yes."}
            | {"confirmed_at": T0, "unsubscribed_at": None, "last_activity_at": T0}
            | {"source_event_id": 1, "source_qr_code_id": 1, "unsubscribe_token": "f" * 43}
            | stamp
        ],
        "contact_message": [
            {"id": 1, "group_id": 1, "contact_id": 1, "body": "Hello", "status": "unread"} | stamp
        ],
        "mailing_confirmation": [
            {"id": 1, "contact_id": 1, "token_hash": "g" * 64}
            | {"expires_at": T0 + timedelta(days=7)}
            | stamp
        ],
        "registration": [
            {"id": 1, "event_id": 2, "contact_id": 1, "status": "registered", "name": "Rosa"}
            | {"email": "rosa@example.org", "note": "", "consent_text": "Yes."}
            | {"cancel_token_hash": "h" * 64, "checked_in_at": None, "cancelled_at": None}
            | {"anonymised_at": None, "source_qr_code_id": None, "source_announcement_id": None}
            | stamp
        ],
        "late_sale": [
            {"id": 1, "group_id": 1, "event_id": 1, "client_operation_id": 1, "user_id": 2}
            | {"payload": LATE_SALE_PAYLOAD, "taken_at": T0 + timedelta(hours=10)}
            | {"status": "accepted", "decided_by_id": 1, "decided_at": T0 + timedelta(hours=11)}
            | {"note": "", "sale_id": 1}
            | stamp
        ],
        "announcement": [
            {"id": 1, "group_id": 1, "event_id": 2, "code": "AnnCode1", "subject": "Meeting"}
            | {"body": "Come along.", "reply_to": "", "status": "sent", "created_by_id": 1}
            | {"sent_by_id": 1, "sent_at": T0, "recipient_count": 1, "delivered_count": 1}
            | {"failed_count": 0, "unsubscribed_count": 0}
            | stamp
        ],
        "outgoing_message": [
            {"id": 1, "group_id": 1, "recipient": "rosa@example.org", "subject": "Meeting"}
            | {"body": "Come along.", "headers": {"Message-ID": "<1@example.org>"}}
            | {"purpose": "announcement", "status": "sent", "attempts": 1}
            | {"next_attempt_at": T0, "lease_expires_at": None, "last_attempt_at": T0}
            | {"last_error": "", "attempt_log": "", "possible_duplicate": False}
            | {"sent_at": T0, "retried_at": None, "announcement_id": 1, "contact_id": 1}
            | stamp
        ],
        "event_till": [
            {"id": 1, "event_id": 1, "group_id": 1, "main_currency": "GBP"}
            | {"default_payment_method": "cash", "closed_at": T0 + timedelta(hours=9)}
            | stamp
        ],
        "sale": [
            {"id": 1, "group_id": 1, "event_id": 1, "kind": "sale", "currency": "GBP"}
            | {"amount": 800, "payment_method": "cash", "subscription_offer_id": None}
            | {"contact_id": None, "created_by_id": 1, "taken_at": T0 + timedelta(hours=2)}
            | {"reverses_id": None}
            | stamp,
            {"id": 2, "group_id": 1, "event_id": 1, "kind": "donation", "currency": "GBP"}
            | {"amount": 250, "payment_method": "cash", "subscription_offer_id": None}
            | {"contact_id": None, "created_by_id": 2, "taken_at": T0 + timedelta(hours=3)}
            | {"reverses_id": None}
            | stamp,
        ],
        "sale_line": [
            {"id": 1, "sale_id": 1, "publication_id": 1, "quantity": 2, "unit_price": 400}
            | {"amount": 800}
        ],
        "client_operation": [
            {"id": 1, "operation_id": "0b0e1c52-5d0e-4a55-9d2f-1f0b8e4c2a01", "group_id": 1}
            | {"event_id": 1, "user_id": 1, "payload_hash": "i" * 64, "sale_id": 1}
            | {"result": '{"id": "0b0e1c52-5d0e-4a55-9d2f-1f0b8e4c2a01", "status": "done"}'}
            | stamp
        ],
        "stock_movement": [
            movement(1, "outside", None, None, "store", 1, None, 100, note="Print run"),
            movement(2, "store", 1, None, "event", None, 1, 20),
            movement(3, "event", None, 1, "sold", None, None, 2, sale_line_id=1),
            movement(4, "event", None, 1, "store", 1, None, 17),
            movement(5, "event", None, 1, "adjustment", None, None, 1),
        ],
        # Until 0008 the close-out kept its own closed_at / reopened_at; the till has it since.
        "event_close_out": [
            {"id": 1, "group_id": 1, "event_id": 1, "store_id": 1}
            | {"closed_at": T0 + timedelta(hours=9), "closed_by_id": 1, "reopened_at": None}
            | {"reopened_by_id": None, "note": "One copy missing."}
            | stamp
        ],
        "close_out_log_entry": [
            {"id": 1, "group_id": 1, "event_id": 1, "action": "closed", "user_id": 1}
            | {"at": T0 + timedelta(hours=9), "note": "One copy missing."}
        ],
        "cash_count": [
            {"id": 1, "close_out_id": 1, "currency": "GBP", "float_amount": 2000}
            | {"expected_amount": 3050, "counted_amount": 3050, "note": ""}
        ],
        "public_page_settings": [
            {"id": 1, "group_id": 1, "listed_on_network": True}
            | {"embed_origins": "https://www.leftcom.org"}
        ],
        "site_settings": [{"id": 1, "name": "ICT stalls", "intro": "Our coming events."}],
        "stock_count": [
            {"id": 1, "close_out_id": 1, "publication_id": 1, "expected": 18, "counted": 17}
            | {"return_movement_id": 4, "adjustment_movement_id": 5, "current": True}
        ],
        # What the close-out of event 1 added up (and 0007 backfills from the rows above).
        "event_title_summary": [
            {"id": 1, "group_id": 1, "event_id": 1, "publication_id": 1, "currency": "GBP"}
            | {"sold": 2, "given_away": 0, "amount": 800}
        ],
        "event_money_summary": [
            {"id": 1, "group_id": 1, "event_id": 1, "kind": "donation", "currency": "GBP"}
            | {"amount": 250},
            {"id": 2, "group_id": 1, "event_id": 1, "kind": "sale", "currency": "GBP"}
            | {"amount": 800},
        ],
    }


def movement(
    number, from_place, from_store, from_event, to_place, to_store, to_event, quantity, **extra
) -> dict:
    return {
        "id": number,
        "group_id": 1,
        "publication_id": 1,
        "quantity": quantity,
        "from_place": from_place,
        "from_store_id": from_store,
        "from_event_id": from_event,
        "to_place": to_place,
        "to_store_id": to_store,
        "to_event_id": to_event,
        "created_by_id": 1,
        "note": extra.get("note", ""),
        "sale_line_id": extra.get("sale_line_id"),
        "reverses_id": None,
        "created_at": T0 + timedelta(minutes=number),
    }


def generic_value(column: sa.Column):
    """A plausible value for a column the registry does not know."""
    if column.foreign_keys:
        return 1  # every registry table has a row with id 1
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Numeric):
        return 1
    if isinstance(kind, sa.DateTime):
        return T0
    if isinstance(kind, sa.Date):
        return T0.date()
    if isinstance(kind, sa.Time):
        return time(10)
    if isinstance(kind, sa.String):
        return "x"
    return None


def needs_value(column: sa.Column) -> bool:
    return not column.nullable and column.server_default is None and not column.autoincrement


def rows_for(table: sa.Table, registry: dict[str, list[dict]]) -> list[dict]:
    """The registry's rows cut to the columns ``table`` has, with generic values where needed."""
    known = registry.get(table.name)
    if known is None:
        row = {c.name: generic_value(c) for c in table.columns if not c.primary_key}
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].name == "id":
            row["id"] = 1
        known = [row]
    rows = []
    for row in known:
        kept = {name: value for name, value in row.items() if name in table.columns}
        for column in table.columns:
            if column.name not in kept and needs_value(column):
                kept[column.name] = generic_value(column)
        rows.append(kept)
    return rows


def reset_sequences(connection, tables: list[sa.Table]) -> None:
    """PostgreSQL: rows inserted with their ids leave the id sequences behind; catch them up."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        if "id" in table.columns and isinstance(table.columns["id"].type, sa.Integer):
            sequence = sa.func.pg_get_serial_sequence(f'"{table.name}"', "id")
            latest = sa.select(sa.func.max(table.c.id)).scalar_subquery()
            connection.execute(sa.select(sa.func.setval(sequence, latest)))


def insert_rows(registry: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Insert the registry's rows into the tables the database has now; return them."""
    at_revision = sa.MetaData()
    at_revision.reflect(db.engine)
    tables = [t for t in at_revision.sorted_tables if t.name != "alembic_version"]
    inserted: dict[str, list[dict]] = {}
    with db.engine.begin() as connection:
        for table in tables:
            inserted[table.name] = rows_for(table, registry)
            connection.execute(sa.insert(table), inserted[table.name])
        reset_sequences(connection, tables)
    return inserted


@pytest.fixture
def empty_database_url(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgraded.sqlite'}"
        return
    require_postgres_or_skip()
    scratch = RUN_DATABASE + "_upgrade_with_data"
    yield create_scratch_database(scratch)
    drop_scratch_database(scratch)


def test_the_revisions_are_found():
    assert earlier_revisions()[0] == SCRIPTS.get_base()
    assert SCRIPTS.get_current_head() not in earlier_revisions()


@pytest.mark.parametrize("revision", earlier_revisions())
def test_upgrade_from_an_earlier_revision_keeps_the_data(revision, empty_database_url):
    app = create_app(base_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision=revision)
        registry = seed_rows()
        inserted = insert_rows(registry)

        upgrade()

        at_head = sa.MetaData()
        at_head.reflect(db.engine)
        with db.engine.connect() as connection:
            for name, rows in inserted.items():
                table = at_head.tables[name]
                order = list(table.primary_key.columns)
                stored = [
                    r._asdict() for r in connection.execute(sa.select(table).order_by(*order))
                ]
                assert len(stored) == len(rows), name
                known = registry.get(name, [{}] * len(rows))
                for before, after, registered in zip(rows, stored, known, strict=True):
                    # Registered values of columns added since R are what the upgrade must fill.
                    wanted = {**before, **registered}
                    for column, value in wanted.items():
                        if column in table.columns:
                            assert after[column] == value, f"{name}.{column} after the upgrade"

        check_models_read_everything(inserted)
        check_services_read_it(inserted)
        db.session.remove()
        db.engine.dispose()


def check_models_read_everything(inserted: dict[str, list[dict]]) -> None:
    """Load every row of every model, touching every column through its ORM type."""
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if table.name not in inserted:
            continue
        objects = db.session.scalars(sa.select(mapper.class_)).all()
        assert len(objects) == len(inserted[table.name]), table.name
        for instance in objects:
            for attribute in mapper.column_attrs:
                getattr(instance, attribute.key)
    db.session.rollback()


def check_services_read_it(inserted: dict[str, list[dict]]) -> None:
    """The head's services work on the upgraded rows: log in, find groups, read the reports."""
    organiser = services.find_user_by_email(db.session, ORGANISER)
    assert passwords.verify_password(organiser.password_hash, PASSWORD)
    roles = {group.slug: role for group, role in services.groups_of(db.session, organiser)}
    assert roles == {"uk": Role.ORGANISER}
    assert db.session.get(User, 2).email == MEMBER
    if "sale" not in inserted:
        return
    event = db.session.get(Event, 1)
    # Closed out before the upgrade, closed out after it: the till says so.
    assert till.is_closed(db.session, event)
    report = event_reports.event_report(db.session, event)
    assert report.totals == {
        "packed": 20,
        "sold": 2,
        "given_away": 0,
        "returned": 17,
        "unaccounted": 1,
    }
    money = {(row.kind.value, row.currency): row.amount for row in report.money}
    assert money == {("sale", "GBP"): 800, ("donation", "GBP"): 250}
    assert [(row.currency, row.counted) for row in report.cash] == [("GBP", 3050)]
    assert {row.name: row.shifts for row in report.staff} == {
        "Olive Organiser": 1,
        "Max Member": 1,
    }
    period = group_reports.Period(date(2025, 1, 1), date(2025, 12, 31))
    group_report = group_reports.group_report(db.session, event.group, period)
    assert [(row.title, row.sold) for row in group_report.titles] == [
        ("Revolutionary Perspectives No. 24", 2)
    ]
    on_hand = {(row.title, row.store): row.copies for row in group_report.stock}
    assert on_hand[("Revolutionary Perspectives No. 24", "Spare room")] == 100 - 20 + 17


def test_a_table_the_registry_does_not_know_gets_generic_rows():
    table = sa.Table(
        "badge",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id"), nullable=False),
        sa.Column("label", sa.String(20), nullable=False),
        sa.Column("given_at", sa.DateTime, nullable=False),
        sa.Column("worn", sa.Boolean, nullable=True),
    )
    assert rows_for(table, {}) == [
        {"id": 1, "user_id": 1, "label": "x", "given_at": T0, "worn": False}
    ]


def test_the_registry_has_real_rows_for_every_table_of_the_models():
    with create_app(base_test_config("sqlite://")).app_context():
        registry = seed_rows()
    assert sorted(set(db.metadata.tables) - set(registry)) == []


def test_0008_keeps_closed_events_closed_with_the_till_as_the_one_truth(empty_database_url):
    """From 0007 (closed stored twice) to 0008 (the till alone) and back again."""
    app = create_app(base_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0007_event_summaries")
        registry = seed_rows()
        # Event 1's close-out stands though its till says open (never written so, but the
        # upgrade must settle it); event 2 was closed out and never had a till at all.
        registry["event_till"][0]["closed_at"] = None
        closed_2 = datetime(2025, 5, 31, 17, 0)
        registry["event_close_out"].append(
            {"id": 2, "group_id": 1, "event_id": 2, "store_id": 1, "closed_by_id": 2}
            | {"closed_at": closed_2, "reopened_at": None, "reopened_by_id": None, "note": ""}
            | {"created_at": closed_2}
        )
        insert_rows(registry)

        upgrade()

        at_head = sa.MetaData()
        at_head.reflect(db.engine)
        tills_table = at_head.tables["event_till"]
        assert "closed_at" not in at_head.tables["event_close_out"].columns
        assert "reopened_at" not in at_head.tables["event_close_out"].columns
        with db.engine.connect() as connection:
            tills = dict(
                connection.execute(sa.select(tills_table.c.event_id, tills_table.c.closed_at)).all()
            )
            kept = connection.scalar(sa.select(sa.func.count()).select_from(sa.table("cash_count")))
        assert tills == {1: T0 + timedelta(hours=9), 2: closed_2}
        assert kept == 1  # the count survived SQLite's copy of the table
        meeting = db.session.get(Event, 2)
        assert till.is_closed(db.session, db.session.get(Event, 1))
        assert till.is_closed(db.session, meeting)
        organiser = db.session.get(User, 1)
        closeout.reopen(db.session, meeting, organiser, "Counted the wrong box")
        db.session.commit()
        assert not till.is_closed(db.session, meeting)
        db.session.remove()

        downgrade(revision="0007_event_summaries")

        at_0007 = sa.MetaData()
        at_0007.reflect(db.engine)
        close_outs = at_0007.tables["event_close_out"]
        with db.engine.connect() as connection:
            rows = {
                row.event_id: row
                for row in connection.execute(sa.select(close_outs).order_by(close_outs.c.id))
            }
        assert (rows[1].closed_at, rows[1].reopened_at) == (T0 + timedelta(hours=9), None)
        assert rows[2].closed_at == closed_2
        assert rows[2].reopened_at is not None and rows[2].reopened_by_id == 1
        db.session.remove()
        db.engine.dispose()
