"""Every request that writes takes SQLite's write lock up front, through one app-level hook.

Without it, two gunicorn workers on the default SQLite file answered logins and event edits
with 500 "database is locked" while phones synced sales: a transaction that began as a reader
cannot become a writer once another writer has committed.
"""

import uuid

import pytest
import sqlalchemy as sa

from stallapp.accounts import services as accounts
from stallapp.accounts.models import Group, LoginSession
from stallapp.contacts.models import Contact
from stallapp.database import writes
from stallapp.events.models import Event
from stallapp.sales import screen as sale_screen
from stallapp.stock import services as stock
from tests.concurrency import PhoneClient, db_session_commit, run_at_once
from tests.conftest import PASSWORD


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("the write lock and its guard are SQLite's")


class BeginRecorder:
    """Records the statements that open transactions (``BEGIN`` or ``BEGIN IMMEDIATE``)."""

    def __init__(self, engine):
        self.engine = engine
        self.begins: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if statement.upper().startswith("BEGIN"):
            self.begins.append(statement.upper())

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc_info):
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


def test_a_post_begins_as_a_writer_and_a_get_as_a_reader(
    sqlite_only, app, db, client, organiser, uk, event
):
    credentials = {"email": organiser.email, "password": PASSWORD}
    event_url = f"/groups/uk/events/{event.id}"
    db.session.commit()  # the test's own reads are over before recording starts
    with BeginRecorder(db.engine) as recorder:
        client.post("/login", data=credentials)
    # What is read after the commit (the page's user, for headers) reads as a reader again.
    assert recorder.begins[0] == "BEGIN IMMEDIATE"
    with BeginRecorder(db.engine) as recorder:
        page = client.get(event_url)
    assert page.status_code == 200
    assert recorder.begins == ["BEGIN"]
    with BeginRecorder(db.engine) as recorder:
        client.post(f"{event_url}/publish")
    assert recorder.begins[0] == "BEGIN IMMEDIATE"


def test_a_get_view_that_writes_unmarked_is_caught_in_tests(sqlite_only, app, db, client):
    def unmarked():
        accounts.create_group(
            db.session,
            accounts.GroupSettings(
                name="Sneaky", slug="sneaky", timezone="UTC", currency="GBP", language="en"
            ),
        )
        db.session.commit()
        return "written"

    @writes
    def marked():
        accounts.create_group(
            db.session,
            accounts.GroupSettings(
                name="Open", slug="open", timezone="UTC", currency="GBP", language="en"
            ),
        )
        db.session.commit()
        return "written"

    app.add_url_rule("/test/unmarked", "unmarked", unmarked)
    app.add_url_rule("/test/marked", "marked", marked)

    with pytest.raises(RuntimeError, match="GET unmarked writes without the write lock"):
        client.get("/test/unmarked")
    assert client.get("/test/marked").get_data(as_text=True) == "written"
    slugs = set(db.session.scalars(sa.select(Group.slug)))
    assert "open" in slugs
    assert "sneaky" not in slugs


STORM_SELLERS = 6
STORM_BATCHES = 4
STORM_LOGINS = 4
STORM_EDITS = 6
STORM_SIGNUPS = 8


@pytest.fixture
def app_config(app_config):
    """No rate limit may answer in place of the database during the storm."""
    return {**app_config, "PUBLIC_FORM_LIMIT": "10000 per minute"}


def test_a_sales_storm_with_logins_edits_and_sign_ups_never_fails(
    app, db, make_user, make_event, uk, organiser, event, stall
):
    """Phones sell while people log in, an organiser edits and the public signs up: no 5xx."""
    sellers = [make_user(groups={uk: "member"}).email for _ in range(STORM_SELLERS)]
    visitors = [make_user(groups={uk: "member"}).email for _ in range(STORM_LOGINS)]
    organiser_email = organiser.email
    other_event = make_event(uk, title="Public meeting")
    other_event_id = other_event.id
    journal_id = stall["journal"].id
    db_session_commit()
    sale_url = f"/groups/uk/sell/{event.id}/sync"

    def login(client, email):
        return client.post("/login", data={"email": email, "password": PASSWORD})

    def seller(user):
        def job():
            client = PhoneClient(app)
            answers = [login(client, user)]
            for _ in range(STORM_BATCHES):
                ops = [
                    {"id": str(uuid.uuid4()), "type": "sale", "publication_id": journal_id},
                    {"id": str(uuid.uuid4()), "type": "donation", "amount": "1.50"},
                ]
                answers.append(client.post(sale_url, json={"operations": ops}))
            return answers

        return job

    def visitor(user):
        def job():
            client = PhoneClient(app)
            return [login(client, user)] + [client.get("/") for _ in range(2)]

        return job

    def editor():
        client = PhoneClient(app)
        answers = [login(client, organiser_email)]
        edit_url = f"/groups/uk/events/{other_event_id}/edit"
        for number in range(STORM_EDITS):
            form = {
                "kind": "public_meeting",
                "title": f"Public meeting {number}",
                "start_date": "2030-10-19",
                "start_time": "18:00",
                "end_time": "20:00",
                "end_date": "",
                "timezone": "Europe/London",
                "venue_name": "Friends Meeting House",
                "address": "",
                "postcode": "",
                "online_url": "",
                "description": "",
                "capacity": "",
            }
            answers.append(client.post(edit_url, data=form))
        return answers

    def signer(first):
        def job():
            client = PhoneClient(app)
            return [
                client.post(
                    "/g/uk/join",
                    data={
                        "name": "Reader",
                        "email": f"reader{first + number}@example.org",
                        "consent": "y",
                    },
                )
                for number in range(STORM_SIGNUPS // 2)
            ]

        return job

    jobs = [seller(user) for user in sellers] + [visitor(user) for user in visitors]
    jobs += [editor, signer(0), signer(STORM_SIGNUPS // 2)]
    answers = [answer for result in run_at_once(jobs) for answer in result]

    failures = [
        (answer.status_code, answer.get_data(as_text=True)[:200])
        for answer in answers
        if answer.status_code >= 400 or "locked" in answer.get_data(as_text=True)
    ]
    assert failures == []
    db.session.commit()
    db.session.expire_all()
    sold = STORM_SELLERS * STORM_BATCHES
    assert stock.event_levels(db.session, event)[journal_id] == 20 - sold
    donations = [
        t.amount for t in sale_screen.money_totals(db.session, event) if t.kind.value == "donation"
    ]
    assert donations == [sold * 150]
    logins = db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession))
    assert logins == STORM_SELLERS + STORM_LOGINS + 1
    assert db.session.get(Event, other_event_id).title == f"Public meeting {STORM_EDITS - 1}"
    signed_up = db.session.scalar(
        sa.select(sa.func.count()).select_from(Contact).where(Contact.email.like("reader%"))
    )
    assert signed_up == STORM_SIGNUPS
