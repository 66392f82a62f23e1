"""Stock that cannot silently go negative, and titles named with their issue everywhere."""

import uuid

import pytest
import sqlalchemy as sa

from stallapp.database import utcnow
from stallapp.errors import EventClosed, NotAllowed
from stallapp.sales import till
from stallapp.sales.models import ClientOperation, Sale
from stallapp.stock import services as stock
from stallapp.stock.models import Publication, StockMovement


@pytest.fixture
def issue(db, uk, make_publication):
    """Issue 24 of a journal whose issue 23 is also in the catalogue."""
    make_publication(uk, "Revolutionary Perspectives", issue_number="No. 23")
    return make_publication(uk, "Revolutionary Perspectives", issue_number="No. 24")


def movements(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))


def test_packing_more_than_the_store_holds_is_refused_with_the_level(
    db, store, event, organiser, issue
):
    stock.receive(db.session, store, issue, 5, organiser, "")
    db.session.commit()
    before = movements(db)
    with pytest.raises(stock.NotEnoughStock) as refused:
        stock.pack_for_event(db.session, store, event, {issue: 20}, organiser)
    assert refused.value.code == "not_enough_stock"
    assert "Revolutionary Perspectives No. 24, 5 there" in refused.value.message
    assert [(s.publication, s.wanted, s.held) for s in refused.value.shortfalls] == [(issue, 20, 5)]
    db.session.rollback()
    assert movements(db) == before
    assert stock.store_level(db.session, store, issue) == 5


def test_an_organiser_packs_beyond_the_level_with_a_reason_the_ledger_keeps(
    db, store, event, organiser, issue
):
    [movement] = stock.pack_for_event(
        db.session,
        store,
        event,
        {issue: 20},
        organiser,
        beyond_stock_reason="Box from the printer never booked in",
    )
    db.session.commit()
    assert stock.store_level(db.session, store, issue) == -20
    assert movement.note == (
        "Packed for the event beyond the 0 the store held: Box from the printer never booked in"
    )


def test_only_an_organiser_may_override(db, store, event, member, issue):
    with pytest.raises(NotAllowed) as refused:
        stock.pack_for_event(
            db.session, store, event, {issue: 1}, member, beyond_stock_reason="I say so"
        )
    assert refused.value.code == "organisers_only"


def test_the_pack_page_shows_the_level_then_takes_a_reason(
    db, client, login_as, store, event, organiser, issue
):
    login_as(organiser)
    url = f"/groups/uk/stock/events/{event.id}/pack"
    form = {"store_id": str(store.id), f"quantity-{issue.id}": "20"}
    refused = client.post(url, data=form)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Spare room does not hold that many copies" in page
    assert "Only 0 in Spare room." in page
    assert 'name="beyond_reason"' in page
    assert movements(db) == 0

    done = client.post(url, data={**form, "beyond_reason": "Uncounted box"})
    assert done.status_code == 302
    assert stock.event_levels(db.session, event) == {issue.id: 20}
    ledger = client.get("/groups/uk/stock/ledger").get_data(as_text=True)
    assert "20 × Revolutionary Perspectives No. 24" in ledger
    assert "beyond the 0 the store held: Uncounted box" in ledger


def test_quantity_zero_on_the_sale_form_records_nothing(db, client, login_as, member, event, stall):
    login_as(member)
    response = client.post(
        f"/groups/uk/sell/{event.id}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "sale",
            "publication_id": str(stall["book"].id),
            "quantity": "0",
        },
    )
    assert response.status_code == 400
    assert "Copies must be a whole number from 1 to 1000." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientOperation)) == 0


def test_sales_name_the_title_with_its_issue(
    db, client, login_as, member, organiser, store, event, issue
):
    stock.receive(db.session, store, issue, 10, organiser, "")
    stock.pack_for_event(db.session, store, event, {issue: 10}, organiser)
    db.session.commit()
    login_as(member)
    response = client.post(
        f"/groups/uk/sell/{event.id}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "sale",
            "publication_id": str(issue.id),
        },
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sold 1 × Revolutionary Perspectives No. 24 for £4.00" in page
    recent = page.split('id="recent"', 1)[1]
    assert "1 × Revolutionary Perspectives No. 24" in recent


def close_out(db, event, closed: bool = True) -> None:
    """Close the event's till out, or reopen it: what the close-out and its reopening do to it."""
    till.lock_till(db.session, event).closed_at = utcnow() if closed else None
    db.session.commit()


def test_no_packing_for_or_returning_from_a_closed_out_event(db, store, event, organiser, issue):
    stock.receive(db.session, store, issue, 10, organiser, "")
    stock.pack_for_event(db.session, store, event, {issue: 4}, organiser)
    db.session.commit()
    close_out(db, event)
    before = movements(db)
    with pytest.raises(EventClosed):
        stock.pack_for_event(db.session, store, event, {issue: 2}, organiser)
    db.session.rollback()
    with pytest.raises(EventClosed):
        stock.return_from_event(db.session, event, store, organiser)
    db.session.rollback()
    assert movements(db) == before
    assert stock.event_levels(db.session, event) == {issue.id: 4}

    close_out(db, event, closed=False)
    stock.pack_for_event(db.session, store, event, {issue: 2}, organiser)
    [returned] = stock.return_from_event(db.session, event, store, organiser)
    db.session.commit()
    assert returned.quantity == 6
    assert stock.store_level(db.session, store, issue) == 10


def test_the_pack_page_refuses_a_closed_out_event_and_says_why(
    db, client, login_as, store, event, organiser, issue
):
    stock.receive(db.session, store, issue, 10, organiser, "")
    stock.pack_for_event(db.session, store, event, {issue: 4}, organiser)
    db.session.commit()
    close_out(db, event)
    before = movements(db)
    login_as(organiser)
    url = f"/groups/uk/stock/events/{event.id}"
    refused = client.post(f"{url}/pack", data={"store_id": store.id, f"quantity-{issue.id}": "2"})
    assert refused.status_code == 400
    assert "This event is closed out" in refused.get_data(as_text=True)
    back = client.post(f"{url}/return", data={"return-store_id": store.id}, follow_redirects=True)
    assert "This event is closed out" in back.get_data(as_text=True)
    assert movements(db) == before


@pytest.mark.parametrize("quantity", ["two", "-3", "2.5", "100001", "１２"])
def test_a_bad_quantity_on_the_pack_form_is_shown_and_packs_nothing(
    db, client, login_as, store, event, organiser, issue, quantity
):
    stock.receive(db.session, store, issue, 10, organiser, "")
    db.session.commit()
    before = movements(db)
    login_as(organiser)
    other = db.session.scalar(
        sa.select(Publication).where(
            Publication.id != issue.id, Publication.group_id == issue.group_id
        )
    )
    response = client.post(
        f"/groups/uk/stock/events/{event.id}/pack",
        data={
            "store_id": store.id,
            f"quantity-{issue.id}": quantity,
            f"quantity-{other.id}": "3",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="quantity-{issue.id}-error">Enter a whole number, 0 or more.' in page
    assert f'value="{quantity}"' in page, "the form keeps what was typed"
    assert movements(db) == before


def test_the_pack_form_wants_a_store_of_the_group(
    db, client, login_as, store, event, organiser, issue
):
    login_as(organiser)
    response = client.post(
        f"/groups/uk/stock/events/{event.id}/pack",
        data={"store_id": "999999", f"quantity-{issue.id}": "1"},
    )
    assert response.status_code == 400
    assert "Choose the store the copies come from." in response.get_data(as_text=True)
    assert movements(db) == 0
