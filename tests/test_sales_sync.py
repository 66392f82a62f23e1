"""The sync API: batches from phones recorded exactly once, refused whole when malformed."""

import uuid

import pytest
import sqlalchemy as sa

from stallapp.database import utcnow
from stallapp.sales import till as tills
from stallapp.sales.models import ClientOperation, Sale, SaleKind
from stallapp.stock import services as stock
from stallapp.stock.models import StockMovement
from tests.conftest import PASSWORD


def sync_url(event):
    return f"/groups/uk/sell/{event.id}/sync"


def sale_op(publication, **fields):
    return {"id": str(uuid.uuid4()), "type": "sale", "publication_id": publication.id, **fields}


def counts(db):
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Sale)),
        db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)),
        db.session.scalar(sa.select(sa.func.count()).select_from(ClientOperation)),
    )


def test_a_batch_is_recorded_in_order_and_answers_levels(
    db, client, login_as, member, event, stall
):
    login_as(member)
    sold = sale_op(stall["journal"], quantity=2, taken_at="2024-10-19T10:15:00+01:00")
    batch = [
        sold,
        sale_op(stall["aurora"]),
        {"id": str(uuid.uuid4()), "type": "donation", "amount": "5", "payment_method": "cash"},
        {"id": str(uuid.uuid4()), "type": "undo", "target": sold["id"]},
    ]
    response = client.post(sync_url(event), json={"operations": batch})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == ["done"] * 4
    assert body["results"][1]["message"] == "Gave away 1 × Aurora"
    assert body["levels"][str(stall["journal"].id)] == 20
    assert body["levels"][str(stall["aurora"].id)] == 29
    kinds = db.session.scalars(sa.select(Sale.kind).order_by(Sale.id)).all()
    assert kinds == [SaleKind.SALE, SaleKind.GIVEAWAY, SaleKind.DONATION, SaleKind.SALE]


def test_a_batch_sent_three_times_counts_once(db, client, login_as, member, event, stall):
    login_as(member)
    batch = {"operations": [sale_op(stall["journal"]), sale_op(stall["book"], amount="10")]}
    first = client.post(sync_url(event), json=batch).get_json()
    before = counts(db)
    for _ in range(2):
        again = client.post(sync_url(event), json=batch).get_json()
        assert [r["replayed"] for r in again["results"]] == [True, True]
        assert [r["sale_id"] for r in again["results"]] == [r["sale_id"] for r in first["results"]]
    assert counts(db) == before == (2, 2 + 6, 2)
    assert stock.event_levels(db.session, event)[stall["journal"].id] == 19


def test_a_batch_cut_off_half_way_is_completed_by_the_resend(
    db, client, login_as, member, event, stall
):
    login_as(member)
    ops = [sale_op(stall["journal"]) for _ in range(4)]
    client.post(sync_url(event), json={"operations": ops[:2]})
    body = client.post(sync_url(event), json={"operations": ops}).get_json()
    assert [r.get("replayed", False) for r in body["results"]] == [True, True, False, False]
    assert stock.event_levels(db.session, event)[stall["journal"].id] == 16


def test_the_same_id_with_another_payload_is_refused_and_nothing_is_written(
    db, client, login_as, member, event, stall
):
    login_as(member)
    op = sale_op(stall["journal"])
    client.post(sync_url(event), json={"operations": [op]})
    before = counts(db)
    changed = {**op, "quantity": 5}
    response = client.post(sync_url(event), json={"operations": [sale_op(stall["book"]), changed]})
    assert response.status_code == 409
    assert response.get_json()["operations"] == [op["id"]]
    assert counts(db) == before


def test_one_id_twice_in_a_batch_with_different_payloads_is_refused(
    db, client, login_as, member, event, stall
):
    login_as(member)
    op = sale_op(stall["journal"])
    response = client.post(sync_url(event), json={"operations": [op, {**op, "quantity": 2}]})
    assert response.status_code == 409
    assert counts(db) == (0, 6, 0)


def test_another_member_replaying_an_id_is_a_conflict(
    db, app, client, login_as, make_user, uk, member, event, stall
):
    login_as(member)
    op = sale_op(stall["journal"])
    first = client.post(sync_url(event), json={"operations": [op]}).get_json()["results"][0]
    stored = db.session.scalar(
        sa.select(ClientOperation).where(ClientOperation.operation_id == op["id"])
    )
    kept = (stored.user_id, stored.payload_hash, stored.sale_id, stored.result)
    before = counts(db)
    other = make_user(groups={uk: "member"})
    second = app.test_client()
    second.post("/login", data={"email": other.email, "password": PASSWORD})
    fresh = sale_op(stall["book"])
    response = second.post(sync_url(event), json={"operations": [fresh, op]})
    assert response.status_code == 409
    assert response.get_json()["operations"] == [op["id"]]
    # Nothing of the refused batch is written, not even its operation that did not conflict.
    assert counts(db) == before
    assert (
        db.session.scalar(
            sa.select(ClientOperation).where(ClientOperation.operation_id == fresh["id"])
        )
        is None
    )
    db.session.expire_all()
    stored = db.session.scalar(
        sa.select(ClientOperation).where(ClientOperation.operation_id == op["id"])
    )
    assert (stored.user_id, stored.payload_hash, stored.sale_id, stored.result) == kept
    assert stored.user_id == member.id and stored.sale_id == first["sale_id"]
    # The first member still gets their sale's answer back.
    again = client.post(sync_url(event), json={"operations": [op]}).get_json()["results"][0]
    assert again == {**first, "replayed": True}


#: Statements of one sale synced at a stall already selling: the login (session, user and their
#: groups), the event with the till's currency, the title with its prices; under the till's lock:
#: the lock, the replays and copies left, the sale, its line, its movement and its operation id;
#: after the commit, the answer's copies left and totals together.
SYNC_ONE_SALE_STATEMENTS = 10
#: The same sale from the screen's form: no answer to read after the commit (a redirect).
FORM_ONE_SALE_STATEMENTS = 9


def test_one_sale_costs_a_fixed_number_of_statements(
    db, client, login_as, member, event, stall, count_statements
):
    login_as(member)
    journal_id, url = stall["journal"].id, sync_url(event)
    form_url = f"/groups/uk/sell/{event.id}/record"
    client.post(url, json={"operations": [sale_op(stall["journal"])]})
    operation = {"id": str(uuid.uuid4()), "type": "sale", "publication_id": journal_id}
    with count_statements() as counter:
        response = client.post(url, json={"operations": [operation]})
    assert response.status_code == 200
    assert response.get_json()["results"][0]["left"] == 18
    assert counter.count == SYNC_ONE_SALE_STATEMENTS, counter.statements
    form = {"operation_id": str(uuid.uuid4()), "type": "sale", "publication_id": journal_id}
    with count_statements() as counter:
        response = client.post(form_url, data=form)
    assert response.status_code == 302
    assert counter.count == FORM_ONE_SALE_STATEMENTS, counter.statements
    assert counts(db)[0] == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "must be JSON"),
        ({"ops": []}, "operations"),
        ({"operations": []}, "from 1 to"),
        ({"operations": ["sale"]}, "JSON object"),
        ({"operations": [{"id": "not-a-uuid", "type": "sale"}]}, "UUID"),
        ({"operations": [{"id": "X", "type": "refund"}]}, "UUID"),
        ({"operations": [{"type": "refund"}]}, "UUID"),
    ],
)
def test_malformed_requests_get_400_and_change_nothing(
    db, client, login_as, member, event, stall, body, message
):
    login_as(member)
    before = counts(db)
    if body is None:
        response = client.post(sync_url(event), data="{not json", content_type="application/json")
    else:
        response = client.post(sync_url(event), json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert counts(db) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": 0}, "Copies must be a whole number"),
        ({"quantity": -1}, "Copies must be a whole number"),
        ({"quantity": "2"}, "Copies must be a whole number"),
        ({"quantity": 1.5}, "Copies must be a whole number"),
        ({"quantity": True}, "Copies must be a whole number"),
        ({"quantity": 10**6}, "Copies must be a whole number"),
        ({"amount": "-5"}, "between 0 and a million"),
        ({"amount": "1e9"}, "between 0 and a million"),
        ({"amount": "lots"}, "Enter an amount"),
        ({"amount": 5}, "Amount must be text"),
        ({"currency": "XYZ"}, "Unknown currency"),
        ({"payment_method": "iou"}, "payment_method"),
        ({"publication_id": "1"}, "Title must be a whole number"),
        ({"taken_at": "yesterday"}, "ISO 8601"),
        ({"taken_at": "2024-10-19T10:00:00"}, "time zone"),
        ({"price": 1}, "Unknown field price"),
    ],
)
def test_bad_fields_refuse_the_whole_batch(
    db, client, login_as, member, event, stall, fields, message
):
    login_as(member)
    good = sale_op(stall["journal"])
    bad = {**sale_op(stall["journal"]), **fields}
    before = counts(db)
    response = client.post(sync_url(event), json={"operations": [good, bad]})
    assert response.status_code == 400
    body = response.get_json()
    assert message in body["error"], body
    assert body["operation"] == bad["id"]
    assert counts(db) == before


def test_a_donation_needs_an_amount(db, client, login_as, member, event, stall):
    login_as(member)
    response = client.post(
        sync_url(event), json={"operations": [{"id": str(uuid.uuid4()), "type": "donation"}]}
    )
    assert response.status_code == 400
    assert "A donation needs an amount" in response.get_json()["error"]


def test_business_refusals_are_stored_and_answered_again(
    db, client, login_as, member, event, stall, make_group, make_publication
):
    foreign = make_publication(
        make_group(slug="nyc", currency="USD"), "Internationalist Notes", {"USD": 300}
    )
    login_as(member)
    batch = {
        "operations": [
            sale_op(foreign),
            {"id": str(uuid.uuid4()), "type": "undo", "target": str(uuid.uuid4())},
            sale_op(stall["book"], currency="CAD"),
        ]
    }
    first = client.post(sync_url(event), json=batch).get_json()["results"]
    assert [r["code"] for r in first] == ["unknown_title", "unknown_sale", "no_price"]
    again = client.post(sync_url(event), json=batch).get_json()["results"]
    assert [r["code"] for r in again] == ["unknown_title", "unknown_sale", "no_price"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 0


def test_a_closed_event_refuses_operations_taken_after_it_but_answers_replays(
    db, client, login_as, member, event, stall
):
    login_as(member)
    done = sale_op(stall["journal"])
    client.post(sync_url(event), json={"operations": [done]})
    till = tills.lock_till(db.session, event)
    till.closed_at = utcnow()
    db.session.commit()
    assert client.post(sync_url(event), json={"operations": [done]}).status_code == 200
    late = sale_op(stall["journal"])  # no taken_at: taken when it arrives, after the close-out
    response = client.post(sync_url(event), json={"operations": [done, late]})
    assert response.status_code == 200
    replayed, refused = response.get_json()["results"]
    assert replayed["replayed"] and replayed["status"] == "done"
    assert (refused["status"], refused["code"]) == ("refused", "closed_before_taken")
    assert "closed out" in refused["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 1


def test_outsiders_and_the_logged_out_cannot_sync(app, client, make_user, make_group, event, stall):
    batch = {"operations": [sale_op(stall["journal"])]}
    response = client.post(sync_url(event), json=batch)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    outsider = make_user(groups={make_group(slug="nyc"): "organiser"})
    client.post("/login", data={"email": outsider.email, "password": PASSWORD})
    assert client.post(sync_url(event), json=batch).status_code == 404


def test_a_subscription_synced_with_details_and_consent_records_the_contact(
    db, client, login_as, member, event, stall
):
    from stallapp.contacts.models import Contact

    offer = stock.save_subscription_offer(
        db.session, event.group, name="Joint", description="", prices={"GBP": 1500}
    )
    db.session.commit()
    login_as(member)
    op = {
        "id": str(uuid.uuid4()),
        "type": "subscription",
        "offer_id": offer.id,
        "payment_method": "cash",
    }
    with_details = {
        **op,
        "subscriber": {"name": "Rosa", "email": "rosa@example.org", "consent": True},
    }
    assert client.post(sync_url(event), json={"operations": [with_details]}).status_code == 200
    # The same operation replayed without the details (the phone never keeps them) is no conflict.
    again = client.post(sync_url(event), json={"operations": [op]})
    assert again.status_code == 200 and again.get_json()["results"][0]["replayed"]
    assert db.session.scalar(sa.select(Contact.email)) == "rosa@example.org"


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_sync_needs_a_fresh_token_in_the_header(self, db, app, member, event, stall):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/login", data={"email": member.email, "password": PASSWORD, "csrf_token": token}
        )
        batch = {"operations": [sale_op(stall["journal"])]}
        assert client.post(sync_url(event), json=batch).status_code == 400
        fresh = client.get("/sale/csrf-token").get_json()["csrf_token"]
        response = client.post(sync_url(event), json=batch, headers={"X-CSRFToken": fresh})
        assert response.status_code == 200
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 1


def test_the_service_worker_is_served_from_the_root(client):
    response = client.get("/sale-sw.js")
    assert response.status_code == 200
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.mimetype == "text/javascript"
    assert b"caches" in response.data
