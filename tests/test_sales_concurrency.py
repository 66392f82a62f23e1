"""Up to twenty phones selling at one stall at once: nothing lost, nothing counted twice.

Runs on an SQLite file (WAL, busy timeout, BEGIN IMMEDIATE) and on PostgreSQL (till row lock).
"""

import uuid

import pytest
import sqlalchemy as sa

from stallapp.sales import screen as sale_screen
from stallapp.sales.models import ClientOperation, Sale
from stallapp.stock import services as stock
from stallapp.stock.models import Place
from tests.concurrency import db_session_commit, logged_in_phone, run_at_once

SALES_PER_PHONE = 5


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
    assert sale_screen.items_out(db.session, event)[Place.SOLD] == 3 * phones * SALES_PER_PHONE
    totals = {
        (t.kind.value, t.currency): t.amount for t in sale_screen.money_totals(db.session, event)
    }
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
    assert sale_screen.money_totals(db.session, event) == []
