"""A closed event's summaries always equal the sums of its sale lines and sales, through
close-out, reopen, re-close and late sales accepted; the group report reads them for closed
events and adds up open ones live, and shows the same figures either way."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from stallapp.accounts.models import Role
from stallapp.database import utcnow
from stallapp.reports import closeout
from stallapp.reports import group_report as group_reports
from stallapp.reports.figures import title_figures
from stallapp.reports.models import EventMoneySummary, EventTitleSummary
from stallapp.sales.models import LateSale, Sale, SaleKind
from stallapp.stock import services as stock
from stallapp.times import utc_to_local
from tests.builders import build_stall, operation, record


def ledger_sums(db, event) -> tuple[dict, dict]:
    """Add up the event's books in Python, the slow obvious way: sale lines of sales not
    undone per title and currency, and money (undos subtracted) per kind and currency."""
    db.session.expire_all()
    sales = db.session.scalars(sa.select(Sale).where(Sale.event_id == event.id)).all()
    undone = {sale.reverses_id for sale in sales if sale.reverses_id is not None}
    titles: dict[tuple[int, str], list[int]] = {}
    money: dict[tuple[str, str], int] = {}
    for sale in sales:
        if sale.kind != SaleKind.GIVEAWAY:
            key = (sale.kind.value, sale.currency)
            sign = -1 if sale.reverses_id is not None else 1
            money[key] = money.get(key, 0) + sign * sale.amount
        if sale.id in undone:
            continue
        for line in sale.lines:
            sums = titles.setdefault((line.publication_id, sale.currency), [0, 0, 0])
            if sale.kind == SaleKind.SALE:
                sums[0] += line.quantity
                sums[2] += line.amount
            else:
                sums[1] += line.quantity
    return {key: tuple(value) for key, value in titles.items()}, money


def summaries(db, event) -> tuple[dict, dict]:
    titles = {
        (row.publication_id, row.currency): (row.sold, row.given_away, row.amount)
        for row in db.session.scalars(
            sa.select(EventTitleSummary).where(EventTitleSummary.event_id == event.id)
        )
    }
    money = {
        (row.kind.value, row.currency): row.amount
        for row in db.session.scalars(
            sa.select(EventMoneySummary).where(EventMoneySummary.event_id == event.id)
        )
    }
    return titles, money


def assert_summaries_match(db, event) -> None:
    titles, money = summaries(db, event)
    assert titles, "a closed event with sales has summaries"
    assert (titles, money) == ledger_sums(db, event)


def everything_back(db, stall) -> dict[int, int]:
    """The count: every copy the ledger has at the event came back (none of a title sold
    beyond what was packed)."""
    return {f.publication_id: max(f.left, 0) for f in title_figures(db.session, stall.event)}


def close(db, stall) -> None:
    closeout.close_out(
        db.session,
        stall.event,
        stall.organiser,
        stall.store,
        everything_back(db, stall),
        [closeout.CashEntry("GBP", 0, 0, note="Not counted in this test")],
    )
    db.session.commit()


def group_figures(db, group) -> tuple:
    """What the group report (and its CSVs) say about the past year."""
    today = utc_to_local(utcnow(), group.timezone).date()
    period = group_reports.Period(today - timedelta(days=365), today)
    breakdown = group_reports.title_breakdown(db.session, group, period)
    return (
        breakdown.titles,
        breakdown.money,
        breakdown.by_kind,
        group_reports.money_by_month(db.session, group, period),
        group_reports.money_by_event(db.session, group, period),
    )


@pytest.fixture
def stall(db, uk, organiser, member, make_event):
    """The full stall of the reports tests (pounds and euros, a free title given and tapped,
    a sale undone before the close-out, donations, subscriptions), started two hours ago."""
    started = make_event(uk, title="Bookfair", starts_at=utcnow() - timedelta(hours=2))
    return build_stall(db, uk, organiser, member, started)


def test_summaries_follow_close_out_reopen_re_close_and_late_sales(db, uk, stall):
    journal, aurora = stall.titles["journal"], stall.titles["aurora"]
    assert summaries(db, stall.event) == ({}, {})
    live = group_figures(db, uk)

    close(db, stall)
    assert_summaries_match(db, stall.event)
    titles, money = summaries(db, stall.event)
    # The undone sale of two journals is not in; the euro sale is kept apart; the free title's
    # copies are all given away (tapped as a sale, it is given), never money.
    assert titles[(journal.id, "GBP")] == (3, 0, 1200)
    assert titles[(journal.id, "EUR")] == (1, 0, 500)
    assert titles[(aurora.id, "GBP")] == (0, 12, 0)
    assert money[("subscription", "EUR")] == 2400
    assert money[("donation", "GBP")] == 800
    # Closed, the group report reads the summaries and says what it said live.
    assert group_figures(db, uk) == live

    closeout.reopen(db.session, stall.event, stall.organiser, "recount")
    db.session.commit()
    assert summaries(db, stall.event) == ({}, {})
    assert group_figures(db, uk) == live

    # Reopened: another sale, and an organiser undoes the euro journal.
    euro_sale = stall.results["results"][1]["id"]
    results = record(
        db.session,
        stall.event,
        stall.organiser,
        Role.ORGANISER,
        operation("sale", publication_id=journal.id, quantity=2, payment_method="card"),
        operation("undo", target=euro_sale),
    )
    assert [r["status"] for r in results] == ["done", "done"]
    db.session.commit()
    live = group_figures(db, uk)
    close(db, stall)
    assert_summaries_match(db, stall.event)
    titles, _money = summaries(db, stall.event)
    assert titles[(journal.id, "GBP")] == (5, 0, 2000)
    assert (journal.id, "EUR") not in titles
    assert group_figures(db, uk) == live

    # A sale and an undo taken on a phone before the close-out reach it after: held, then
    # accepted; the summaries are added up again with them.
    taken = (utcnow() - timedelta(minutes=5)).isoformat()
    book = stall.titles["book"]
    results = record(
        db.session,
        stall.event,
        stall.member,
        Role.MEMBER,
        operation("sale", publication_id=book.id, payment_method="cash", taken_at=taken),
        operation("undo", target=stall.results["results"][0]["id"], taken_at=taken),
    )
    assert [r["status"] for r in results] == ["held", "held"]
    db.session.commit()
    assert_summaries_match(db, stall.event)
    for late in db.session.scalars(sa.select(LateSale).order_by(LateSale.id)).all():
        closeout.accept_late_sale(db.session, stall.event, late, stall.organiser)
    db.session.commit()
    assert_summaries_match(db, stall.event)
    titles, money = summaries(db, stall.event)
    assert titles[(journal.id, "GBP")] == (2, 0, 800)
    assert titles[(book.id, "GBP")] == (3, 0, 3400)
    by_title = {row.publication_id: row.sold for row in group_figures(db, uk)[0]}
    assert by_title[journal.id] == 2 and by_title[book.id] == 3


def test_the_group_report_reads_a_closed_event_from_its_summaries(db, uk, stall, make_event):
    """Proof that closed events' lines are not read: a summary changed behind the report's back
    shows; an open event's sales are added up live next to it."""
    journal = stall.titles["journal"]
    close(db, stall)
    meeting = make_event(uk, title="Meeting", starts_at=utcnow() - timedelta(hours=1))
    stock.pack_for_event(db.session, stall.store, meeting, {journal: 5}, stall.organiser)
    record(
        db.session,
        meeting,
        stall.organiser,
        Role.ORGANISER,
        operation("sale", publication_id=journal.id, quantity=2, payment_method="cash"),
    )
    db.session.commit()
    db.session.execute(
        sa.update(EventTitleSummary)
        .where(
            EventTitleSummary.event_id == stall.event.id,
            EventTitleSummary.publication_id == journal.id,
            EventTitleSummary.currency == "GBP",
        )
        .values(sold=100)
    )
    db.session.execute(
        sa.update(EventMoneySummary)
        .where(EventMoneySummary.event_id == stall.event.id, EventMoneySummary.kind == "donation")
        .values(amount=0)
    )
    titles, _money, _kinds, months, events = group_figures(db, uk)
    # 100 from the (changed) summary, 1 in euros from the summary, 2 live at the meeting.
    assert next(t.sold for t in titles if t.publication_id == journal.id) == 103
    per_event = {(row.event_id, row.currency): row.amount for row in events}
    assert per_event[(meeting.id, "GBP")] == 800
    gbp = [row for row in months if row.currency == "GBP"]
    assert sum(row.donations for row in gbp) == 0
    db.session.rollback()


def test_the_report_pages_run_as_many_statements_closed_as_open(
    client, login_as, db, uk, stall, count_statements
):
    """Closing out swaps where the figures come from, not how many statements fetch them."""
    login_as(stall.organiser)
    pages = [f"/groups/{uk.slug}/reports", f"/groups/{uk.slug}/reports/event_money.csv"]
    for url in pages:
        client.get(url)

    def statements() -> list[int]:
        counts = []
        for url in pages:
            with count_statements() as counter:
                response = client.get(url)
            assert response.status_code == 200, url
            counts.append(counter.count)
        return counts

    open_counts = statements()
    assert "Revolutionary Perspectives 23" in client.get(pages[0]).get_data(as_text=True)
    close(db, stall)
    assert statements() == open_counts
    assert "Revolutionary Perspectives 23" in client.get(pages[0]).get_data(as_text=True)
