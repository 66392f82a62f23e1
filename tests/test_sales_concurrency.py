"""Up to twenty phones selling at one stall at once: nothing lost, nothing counted twice.

Runs on an SQLite file (WAL, busy timeout, BEGIN IMMEDIATE) and on PostgreSQL (till row lock).
"""

# ruff: noqa: F811 - pytest fixtures imported from tests.sales_fixtures are redefined as arguments

import threading
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from stallapp.sales import services as sales
from stallapp.sales.models import ClientOperation, Sale
from stallapp.stock import services as stock
from stallapp.stock.models import Place
from tests.conftest import PASSWORD
from tests.sales_fixtures import (  # noqa: F401 - fixtures
    event,
    make_event,
    make_publication,
    member,
    organiser,
    stall,
    store,
    uk,
)

SALES_PER_PHONE = 5


def db_session_commit() -> None:
    """End the test's own transaction so the requests see what the fixtures wrote."""
    from stallapp.extensions import db

    db.session.commit()


class PhoneClient(FlaskClient):
    """A client whose every request gets its own app context (and so its own DB session),
    usable from any thread."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def logged_in_phone(app, user) -> FlaskClient:
    db_session_commit()
    client = PhoneClient(app)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def run_at_once(jobs) -> list:
    """Start every job at the same moment on its own thread; return their results."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = []

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


@pytest.mark.parametrize("phones", [2, 20])
def test_concurrent_sellers_lose_nothing(app, db, make_user, uk, event, stall, phones):
    members = [make_user(groups={uk: "member"}) for _ in range(phones)]
    url = f"/groups/uk/sell/{event.id}/sync"
    journal_id, book_id = stall["journal"].id, stall["book"].id
    clients = [logged_in_phone(app, user) for user in members]

    def seller(client):
        def job():
            statuses = []
            for number in range(SALES_PER_PHONE):
                ops = [
                    {"id": str(uuid.uuid4()), "type": "sale", "publication_id": journal_id},
                    {
                        "id": str(uuid.uuid4()),
                        "type": "sale",
                        "publication_id": book_id,
                        "quantity": 2,
                    },
                    {"id": str(uuid.uuid4()), "type": "donation", "amount": f"{number + 1}"},
                ]
                response = client.post(url, json={"operations": ops})
                statuses.append(response.status_code)
            return statuses

        return job

    results = run_at_once([seller(client) for client in clients])
    assert all(status == 200 for statuses in results for status in statuses)
    db.session.commit()
    levels = stock.event_levels(db.session, event)
    assert levels[journal_id] == 20 - phones * SALES_PER_PHONE
    assert levels[book_id] == 5 - 2 * phones * SALES_PER_PHONE
    assert sales.items_out(db.session, event)[Place.SOLD] == 3 * phones * SALES_PER_PHONE
    totals = {(t.kind.value, t.currency): t.amount for t in sales.money_totals(db.session, event)}
    per_phone_donations = sum(range(1, SALES_PER_PHONE + 1)) * 100
    assert totals == {
        ("sale", "GBP"): phones * SALES_PER_PHONE * (400 + 2400),
        ("donation", "GBP"): phones * per_phone_donations,
    }


def test_the_same_batch_from_two_phones_at_once_counts_once(app, db, member, event, stall):
    url = f"/groups/uk/sell/{event.id}/sync"
    batch = {
        "operations": [
            {"id": str(uuid.uuid4()), "type": "sale", "publication_id": stall["journal"].id}
            for _ in range(10)
        ]
    }
    # The same member's phone and a second tab (or a retry racing the first try).
    clients = [logged_in_phone(app, member) for _ in range(6)]
    responses = run_at_once([lambda c=c: c.post(url, json=batch) for c in clients])
    assert [r.status_code for r in responses] == [200] * 6
    sale_ids = {tuple(r["sale_id"] for r in resp.get_json()["results"]) for resp in responses}
    assert len(sale_ids) == 1
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 10
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientOperation)) == 10
    assert stock.event_levels(db.session, event)[stall["journal"].id] == 10


def test_concurrent_undos_of_one_sale_reverse_it_once(
    app, db, make_user, uk, organiser, event, stall
):
    url = f"/groups/uk/sell/{event.id}/sync"
    target = str(uuid.uuid4())
    organisers = [organiser] + [make_user(groups={uk: "organiser"}) for _ in range(4)]
    clients = [logged_in_phone(app, user) for user in organisers]
    sale = {"id": target, "type": "sale", "publication_id": stall["book"].id}
    db_session_commit()
    assert clients[0].post(url, json={"operations": [sale]}).status_code == 200
    jobs = [
        lambda c=c: c.post(
            url, json={"operations": [{"id": str(uuid.uuid4()), "type": "undo", "target": target}]}
        )
        for c in clients
    ]
    responses = run_at_once(jobs)
    statuses = sorted(r.get_json()["results"][0]["status"] for r in responses)
    assert statuses == ["done"] + ["refused"] * 4
    db.session.commit()
    assert stock.event_levels(db.session, event)[stall["book"].id] == 5
    assert sales.money_totals(db.session, event) == []
