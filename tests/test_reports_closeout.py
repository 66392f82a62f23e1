"""Closing out an event: the count books the ledger, the cash is kept, sales are locked until
an organiser reopens it, and every close and reopen is logged."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from stallapp.accounts import whats_next
from stallapp.accounts.models import Role
from stallapp.database import utcnow
from stallapp.errors import EventClosed, NotAllowed, ValidationFailed
from stallapp.reports import closeout
from stallapp.reports.figures import title_figures
from stallapp.reports.models import (
    CashCount,
    CloseOutAction,
    CloseOutLogEntry,
    EventCloseOut,
    StockCount,
)
from stallapp.sales import till
from stallapp.sales.models import LateSale, LateSaleStatus, Sale
from stallapp.stock import services as stock
from stallapp.stock.models import StockMovement
from tests.builders import build_stall, operation, record


@pytest.fixture
def stall(db, uk, organiser, member, event):
    return build_stall(db, uk, organiser, member, event)


def counts_of(stall, **copies):
    values = {"journal": 16, "aurora": 18, "book": 3, "pamphlet": 0}
    values.update(copies)
    return {stall.titles[key].id: n for key, n in values.items()}


def close(db, stall, **copies):
    close_out = closeout.close_out(
        db.session,
        stall.event,
        stall.organiser,
        stall.store,
        counts_of(stall, **copies),
        [
            closeout.CashEntry("GBP", 1000, 5800, note="As counted"),
            closeout.CashEntry("EUR", 0, 500),
        ],
    )
    db.session.commit()
    return close_out


def movement_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(StockMovement.id)))


def written(db) -> dict[str, int]:
    """What a close-out or reopen writes, counted: a refusal must leave every count as it was."""
    db.session.rollback()
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (EventCloseOut, StockCount, CashCount, CloseOutLogEntry, StockMovement)
    }


def test_ensure_event_open(db, stall):
    till.ensure_event_open(db.session, stall.event)
    close(db, stall)
    with pytest.raises(EventClosed) as raised:
        till.ensure_event_open(db.session, stall.event)
    assert raised.value.code == "event_closed"
    closeout.reopen(db.session, stall.event, stall.organiser, "a late sale to record")
    db.session.commit()
    till.ensure_event_open(db.session, stall.event)


def test_a_sale_on_a_closed_event_is_refused(db, stall):
    close(db, stall)
    sales_before = db.session.scalar(sa.select(sa.func.count(Sale.id)))
    [result] = record(
        db.session,
        stall.event,
        stall.member,
        Role.MEMBER,
        operation("sale", publication_id=stall.titles["journal"].id),
    )
    assert (result["status"], result["code"]) == ("refused", "closed_before_taken")
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == sales_before


def test_an_undo_synced_to_a_closed_event_is_refused(db, stall, uk):
    sale = operation("sale", publication_id=stall.titles["book"].id)
    record(db.session, stall.event, stall.member, Role.MEMBER, sale)
    db.session.commit()
    close(db, stall, book=2)
    sales_before = db.session.scalar(sa.select(sa.func.count(Sale.id)))
    [result] = record(
        db.session,
        stall.event,
        stall.organiser,
        Role.ORGANISER,
        operation("undo", target=sale["id"]),
    )
    assert (result["status"], result["code"]) == ("refused", "closed_before_taken")
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == sales_before


def test_the_sale_screen_refuses_a_sale_after_the_close_out(client, login_as, db, stall):
    close(db, stall)
    sales_before = db.session.scalar(sa.select(sa.func.count(Sale.id)))
    login_as(stall.member)
    client.post(
        f"/groups/uk/sell/{stall.event.id}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "sale",
            "publication_id": str(stall.titles["journal"].id),
        },
    )
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == sales_before


def test_the_undo_button_is_refused_after_the_close_out(client, login_as, db, stall):
    sale = db.session.scalars(
        sa.select(Sale).where(Sale.event_id == stall.event.id, Sale.reverses_id.is_(None))
    ).first()
    close(db, stall)
    sales_before = db.session.scalar(sa.select(sa.func.count(Sale.id)))
    login_as(stall.organiser)
    client.post(f"/groups/uk/sell/{stall.event.id}/sales/{sale.id}/undo")
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == sales_before


def test_closing_twice_is_refused(db, stall):
    close(db, stall)
    before = written(db)
    with pytest.raises(EventClosed) as raised:
        close(db, stall)
    assert (raised.value.code, raised.value.message) == (
        "already_closed",
        "This event is already closed out.",
    )
    assert written(db) == before
    assert till.is_closed(db.session, stall.event)


@pytest.mark.parametrize(
    ("counts", "code", "message"),
    [
        (
            {"journal": None},
            "count_missing",
            "Enter how many copies of Revolutionary Perspectives 23 came back.",
        ),
        ({"journal": -1}, "bad_count", "A count must be 0 or more."),
    ],
)
def test_bad_counts_change_nothing(db, stall, counts, code, message):
    before = written(db)
    values = counts_of(stall)
    for key, copies in counts.items():
        if copies is None:
            del values[stall.titles[key].id]
        else:
            values[stall.titles[key].id] = copies
    with pytest.raises(ValidationFailed) as raised:
        closeout.close_out(db.session, stall.event, stall.organiser, stall.store, values, [])
    assert (raised.value.code, raised.value.message) == (code, message)
    assert written(db) == before
    assert not till.is_closed(db.session, stall.event)


def test_an_unexplained_cash_difference_is_refused_and_writes_nothing(db, stall):
    before = written(db)
    short = [closeout.CashEntry("GBP", 1000, 5750), closeout.CashEntry("EUR", 0, 500)]
    with pytest.raises(ValidationFailed) as raised:
        closeout.close_out(
            db.session, stall.event, stall.organiser, stall.store, counts_of(stall), short
        )
    assert raised.value.code == "cash_difference_needs_note"
    assert raised.value.message == ("The cash differs from the £58.00 expected: say what happened.")
    assert written(db) == before
    assert not till.is_closed(db.session, stall.event)
    # Explained, the same count closes the event; a count that matches needs no note.
    explained = [closeout.CashEntry("GBP", 1000, 5750, "50p for the tea"), short[1]]
    closeout.close_out(
        db.session, stall.event, stall.organiser, stall.store, counts_of(stall), explained
    )
    db.session.commit()
    assert till.is_closed(db.session, stall.event)


def test_a_store_of_another_group_is_refused(db, stall, make_group):
    other_store = stock.create_store(db.session, make_group(), "Elsewhere")
    db.session.commit()
    before = written(db)
    with pytest.raises(ValidationFailed) as raised:
        closeout.close_out(
            db.session, stall.event, stall.organiser, other_store, counts_of(stall), []
        )
    assert (raised.value.code, raised.value.message) == (
        "other_group",
        "Choose one of the group's stores.",
    )
    assert written(db) == before
    assert not till.is_closed(db.session, stall.event)


def test_reopen_reverses_the_count_and_is_logged(db, stall):
    levels_before = stock.event_levels(db.session, stall.event)
    store_before = stock.store_levels(db.session, stall.group)
    close(db, stall, journal=15)
    assert stock.event_levels(db.session, stall.event)[stall.titles["journal"].id] == 0

    before = written(db)
    with pytest.raises(ValidationFailed) as raised:
        closeout.reopen(db.session, stall.event, stall.organiser, "  ")
    assert (raised.value.code, raised.value.message) == (
        "reason_missing",
        "Say why the event is reopened.",
    )
    assert written(db) == before
    assert till.is_closed(db.session, stall.event)
    closeout.reopen(db.session, stall.event, stall.organiser, "Found a sale on paper")
    db.session.commit()
    assert stock.event_levels(db.session, stall.event) == levels_before
    assert stock.store_levels(db.session, stall.group) == store_before
    assert not till.is_closed(db.session, stall.event)
    before = written(db)
    with pytest.raises(NotAllowed) as raised:
        closeout.reopen(db.session, stall.event, stall.organiser, "again")
    assert (raised.value.code, raised.value.message) == (
        "not_closed",
        "This event is not closed out.",
    )
    assert written(db) == before

    # Sales work again; a new close-out counts afresh.
    record(
        db.session,
        stall.event,
        stall.member,
        Role.MEMBER,
        operation("sale", publication_id=stall.titles["journal"].id, payment_method="cash"),
    )
    db.session.commit()
    close(db, stall, journal=15)
    journal = next(
        f
        for f in title_figures(db.session, stall.event)
        if f.publication_id == stall.titles["journal"].id
    )
    assert (journal.sold, journal.returned, journal.unaccounted, journal.left) == (5, 15, 0, 0)
    log = closeout.close_out_log(db.session, stall.event)
    assert [entry.action for entry in log] == [
        CloseOutAction.CLOSED,
        CloseOutAction.REOPENED,
        CloseOutAction.CLOSED,
    ]
    assert log[1].note == "Found a sale on paper"
    assert log[1].user_id == stall.organiser.id
    assert db.session.scalar(sa.select(sa.func.count(EventCloseOut.id))) == 1


def close_out_form(stall, **overrides):
    data = {
        "store": str(stall.store.id),
        "float_GBP": "10",
        "cash_GBP": "58",
        "float_EUR": "0",
        "cash_EUR": "5",
    }
    for key, copies in counts_of(stall).items():
        data[f"count_{key}"] = str(copies)
    data.update(overrides)
    return data


def test_the_close_out_page_shows_what_is_expected(client, login_as, stall):
    login_as(stall.organiser)
    page = client.get(f"/groups/uk/events/{stall.event.id}/close-out").data.decode()
    assert "Packed 20, sold 4, given away 0: 16 expected back." in page
    assert "Packed 2, sold 3, given away 0: -1 expected back." in page
    assert "Cash taken by the till: £48.00, plus the float." in page
    assert 'inputmode="numeric"' in page


def test_bad_input_re_renders_and_changes_nothing(client, login_as, db, stall):
    login_as(stall.organiser)
    before = written(db)
    url = f"/groups/uk/events/{stall.event.id}/close-out"
    journal = f"count_{stall.titles['journal'].id}"
    response = client.post(url, data=close_out_form(stall, **{journal: "", "cash_GBP": "lots"}))
    assert response.status_code == 200
    page = response.data.decode()
    assert "Enter the copies counted, 0 if none came back." in page
    assert "Enter an amount such as 40 or 12.50." in page
    assert 'value="58"' not in page or 'value="lots"' in page
    assert written(db) == before
    assert not till.is_closed(db.session, stall.event)


def test_a_cash_difference_needs_a_note(client, login_as, db, stall):
    login_as(stall.organiser)
    url = f"/groups/uk/events/{stall.event.id}/close-out"
    before = written(db)
    response = client.post(url, data=close_out_form(stall, cash_GBP="57.50"))
    assert response.status_code == 200
    assert "The cash differs from the £58.00 expected: say what happened." in response.data.decode()
    assert written(db) == before
    assert not till.is_closed(db.session, stall.event)

    response = client.post(
        url, data=close_out_form(stall, cash_GBP="57.50", note_GBP="50p for the tea")
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/groups/uk/reports/events/{stall.event.id}")
    close_out = closeout.close_out_of(db.session, stall.event)
    gbp = next(c for c in close_out.cash_counts if c.currency == "GBP")
    assert (gbp.float_amount, gbp.expected_amount, gbp.counted_amount, gbp.note) == (
        1000,
        5800,
        5750,
        "50p for the tea",
    )
    # A closed event's close-out page sends the organiser to the report.
    assert client.get(url).status_code == 302


def test_reopen_through_the_report_page(client, login_as, db, stall):
    close(db, stall)
    login_as(stall.organiser)
    url = f"/groups/uk/events/{stall.event.id}/reopen"
    before = written(db)
    refused = client.post(url, data={"reason": ""}, follow_redirects=True)
    assert "Say why the event is reopened." in refused.data.decode()
    assert written(db) == before
    assert till.is_closed(db.session, stall.event)
    response = client.post(url, data={"reason": "Counted the wrong box"}, follow_redirects=True)
    assert "open for sales again" in response.data.decode()
    assert not till.is_closed(db.session, stall.event)


def test_members_cannot_close_out(client, login_as, stall):
    login_as(stall.member)
    assert client.get(f"/groups/uk/events/{stall.event.id}/close-out").status_code == 403
    assert client.post(f"/groups/uk/events/{stall.event.id}/reopen").status_code == 403
    assert client.get(f"/groups/uk/reports/events/{stall.event.id}").status_code == 403


def hold_late_sales(db, stall, how_many: int) -> list[LateSale]:
    """Journals sold on a phone before the close-out and synced after it: held."""
    taken_at = (utcnow() - timedelta(minutes=20)).isoformat()
    results = record(
        db.session,
        stall.event,
        stall.member,
        Role.MEMBER,
        *(
            operation(
                "sale",
                publication_id=stall.titles["journal"].id,
                payment_method="cash",
                taken_at=taken_at,
            )
            for _ in range(how_many)
        ),
    )
    db.session.commit()
    assert [result["status"] for result in results] == ["held"] * how_many
    return list(
        db.session.scalars(
            sa.select(LateSale).where(LateSale.status == LateSaleStatus.HELD).order_by(LateSale.id)
        )
    )


def test_accepting_held_sales_squares_the_count_once(db, stall, count_statements):
    close(db, stall)
    first = hold_late_sales(db, stall, 6)[0]
    db.session.expire_all()
    with count_statements() as one:
        closeout.accept_late_sale(db.session, stall.event, first, stall.organiser)
    db.session.commit()
    db.session.expire_all()
    with count_statements() as five:
        assert closeout.accept_held_late_sales(db.session, stall.event, stall.organiser) == 5
    db.session.commit()
    # Each sale is booked on its own, but the levels, the count and the summaries once.
    assert five.count < 3 * one.count
    journal = next(
        f
        for f in title_figures(db.session, stall.event)
        if f.publication_id == stall.titles["journal"].id
    )
    # 16 were expected back and 16 counted; the 6 sold on phones came out of the 16: the count
    # found 6 more than the ledger now has, booked once as turned up.
    assert (journal.sold, journal.returned, journal.unaccounted, journal.left) == (10, 16, -6, 0)
    counts = closeout.current_counts(db.session, closeout.close_out_of(db.session, stall.event))
    assert (
        counts[stall.titles["journal"].id].expected,
        counts[stall.titles["journal"].id].counted,
    ) == (10, 16)


def test_the_group_home_page_lists_events_waiting_for_a_close_out(db, stall):
    def waiting() -> list[int]:
        now = utcnow()
        return [e.id for e in whats_next.waiting_for_close_out(db.session, stall.group, now)]

    assert waiting() == [stall.event.id]
    close(db, stall)
    assert waiting() == []
    closeout.reopen(db.session, stall.event, stall.organiser, "a late sale to record")
    db.session.commit()
    assert waiting() == [stall.event.id]
