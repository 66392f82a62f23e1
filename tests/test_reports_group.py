"""Group reports over a date range: titles by kind of event, money per month, events held,
stock to reprint, volunteer hours and unfilled shifts — each checked against what was built."""

import csv
import io
import re
from datetime import timedelta

import pytest

from stallapp.accounts.models import Role
from stallapp.database import utcnow
from stallapp.events.models import EventKind, EventStatus
from stallapp.reports import closeout
from stallapp.reports import group_report as group_reports
from stallapp.rota import shifts
from stallapp.rota.models import ShiftRole
from stallapp.stock import services as stock
from stallapp.times import utc_to_local
from tests.builders import add_rota, build_stall, event_row, operation, record


@pytest.fixture
def year(db, uk, organiser, member, make_event):
    """A stall 3 days ago (the full build), a meeting 40 days ago, one 400 days ago (outside
    the period) and a cancelled one."""
    now = utcnow()
    stall_event = make_event(uk, title="Bookfair", starts_at=now - timedelta(days=3))
    stall = build_stall(db, uk, organiser, member, stall_event)
    meeting = event_row(
        db.session, uk, kind=EventKind.PUBLIC_MEETING, starts_at=now - timedelta(days=40)
    )
    old = event_row(
        db.session,
        uk,
        kind=EventKind.PUBLIC_MEETING,
        title="Old meeting",
        starts_at=now - timedelta(days=400),
    )
    cancelled = event_row(
        db.session,
        uk,
        title="Rained off",
        starts_at=now - timedelta(days=10),
        hours=2,
        venue_name=None,
        address=None,
    )
    db.session.commit()
    cancelled.status = EventStatus.CANCELLED
    journal, aurora = stall.titles["journal"], stall.titles["aurora"]
    stock.pack_for_event(db.session, stall.store, meeting, {journal: 5, aurora: 5}, organiser)
    stock.pack_for_event(db.session, stall.store, old, {journal: 5}, organiser)
    db.session.commit()
    record(
        db.session,
        meeting,
        organiser,
        Role.ORGANISER,
        operation("sale", publication_id=journal.id, quantity=2, payment_method="cash"),
        operation("giveaway", publication_id=aurora.id),
        operation("donation", amount="20", payment_method="card"),
    )
    record(
        db.session,
        old,
        organiser,
        Role.ORGANISER,
        operation("sale", publication_id=journal.id, quantity=5, payment_method="cash"),
    )
    db.session.commit()
    today = utc_to_local(now, uk.timezone).date()
    return {
        "stall": stall,
        "meeting": meeting,
        "old": old,
        "period": group_reports.Period(today - timedelta(days=365), today),
    }


def test_sales_by_title_and_kind_of_event(db, uk, year):
    period = year["period"]
    titles = {
        t.title: (t.sold, t.given_away)
        for t in group_reports.sales_by_title(db.session, uk, period)
    }
    # The stall's 4 journals and the meeting's 2; the old meeting is outside the dates.
    assert titles["Revolutionary Perspectives 23"] == (6, 0)
    assert titles["Aurora 61"] == (0, 13)
    assert titles["Bordiga"] == (3, 0)
    assert titles["1917"] == (2, 0)
    by_kind = {
        (k.title, k.event_kind): (k.sold, k.given_away)
        for k in group_reports.sales_by_event_kind(db.session, uk, period)
    }
    assert by_kind[("Revolutionary Perspectives 23", EventKind.STALL)] == (4, 0)
    assert by_kind[("Revolutionary Perspectives 23", EventKind.PUBLIC_MEETING)] == (2, 0)
    assert by_kind[("Aurora 61", EventKind.PUBLIC_MEETING)] == (0, 1)
    money = {
        (m.title, m.currency): m.amount
        for m in group_reports.money_by_title(db.session, uk, period)
    }
    assert money[("Revolutionary Perspectives 23", "GBP")] == 1200 + 800
    assert money[("Revolutionary Perspectives 23", "EUR")] == 500


def test_money_per_month_and_currency(db, uk, year):
    months = group_reports.money_by_month(db.session, uk, year["period"])
    stall_month = year["stall"].event.starts_at.strftime("%Y-%m")
    meeting_month = year["meeting"].starts_at.strftime("%Y-%m")
    by_key = {(m.month, m.currency): m for m in months}
    # The stall: GBP sales 2800 cash + 1200 card, donations 800, subscription 1500.
    # 37 days apart: always two different months.
    assert stall_month != meeting_month
    stall_gbp = by_key[(stall_month, "GBP")]
    assert (stall_gbp.sales, stall_gbp.donations, stall_gbp.subscriptions) == (4000, 800, 1500)
    assert stall_gbp.total == 6300
    meeting_gbp = by_key[(meeting_month, "GBP")]
    assert (meeting_gbp.sales, meeting_gbp.donations, meeting_gbp.total) == (800, 2000, 2800)
    eur = by_key[(stall_month, "EUR")]
    assert (eur.sales, eur.subscriptions, eur.total) == (500, 2400, 2900)
    assert all(m.currency in ("GBP", "EUR") for m in months)


def test_events_held(db, uk, year):
    closeout.close_out(
        db.session,
        year["stall"].event,
        year["stall"].organiser,
        year["stall"].store,
        {p.id: 0 for p in year["stall"].titles.values()},
        [],
    )
    db.session.commit()
    held = {
        k.kind: (k.held, k.closed_out)
        for k in group_reports.events_held(db.session, uk, year["period"])
    }
    # The cancelled stall and the old meeting do not count; events still to come neither.
    assert held == {EventKind.STALL: (1, 1), EventKind.PUBLIC_MEETING: (1, 0)}
    lines = group_reports.recent_events(db.session, uk, year["period"])
    assert [(line.title, line.closed) for line in lines] == [
        ("Bookfair", True),
        ("Public meeting", False),
    ]


def test_stock_on_hand_puts_titles_to_reprint_first(db, uk, organiser, year):
    stall = year["stall"]
    lockup = stock.create_store(db.session, uk, "Lock-up")
    stock.move_between_stores(
        db.session, stall.store, lockup, stall.titles["journal"], 10, organiser
    )
    book = stall.titles["book"]
    # 20 received, 5 packed: 15 left. "Reprint when fewer than 15" does not flag it yet, in the
    # report as in the catalogue (one rule: stock.needs_reprint).
    book.reorder_level = 15
    db.session.commit()
    at_level = group_reports.stock_on_hand(db.session, uk)
    assert not any(line.to_reprint for line in at_level)
    assert not stock.needs_reprint(15, book.reorder_level)
    book.reorder_level = 16
    db.session.commit()
    lines = group_reports.stock_on_hand(db.session, uk)
    assert lines[0].title == "1917" and lines[0].to_reprint
    assert (lines[0].store, lines[0].copies, lines[0].total) == ("Spare room", 15, 15)
    journal = [
        (line.store, line.copies, line.total)
        for line in lines
        if line.title.startswith("Revolutionary")
    ]
    # 100 received, 20 + 5 + 5 packed, 10 moved to the lock-up.
    assert sorted(journal) == [("Lock-up", 10, 70), ("Spare room", 60, 70)]
    assert not any(line.to_reprint for line in lines[1:] if line.title != "1917")


def test_a_title_with_no_stock_still_shows_to_reprint(db, uk, year):
    title = stock.create_publication(
        db.session,
        uk,
        stock.PublicationData(
            title="Out of print",
            kind="pamphlet",
            language="en",
            reorder_level=5,
            prices={"GBP": 100},
        ),
    )
    db.session.commit()
    lines = group_reports.stock_on_hand(db.session, uk)
    assert (lines[0].title, lines[0].store, lines[0].total, lines[0].to_reprint) == (
        title.title,
        None,
        0,
        True,
    )


def test_volunteer_hours_and_unfilled_shifts(client, login_as, db, uk, year, make_user):
    stall = year["stall"]
    # The stall happened 3 days ago; its shifts are made while it is still to come.
    upcoming = event_row(
        db.session,
        uk,
        title="Next stall",
        starts_at=utcnow() + timedelta(days=2),
        hours=2,
        venue_name=None,
        address=None,
    )
    db.session.commit()
    stall.event = upcoming
    add_rota(db, stall)
    extra = shifts.add_shift(
        db.session,
        upcoming,
        ShiftRole.CUSTOM,
        upcoming.starts_at,
        upcoming.starts_at + timedelta(hours=1),
        people_needed=3,
        custom_role="Bring the urn",
    )
    shifts.sign_up(db.session, extra, make_user(groups={uk: "member"}, name="Una"))
    db.session.commit()
    today = utc_to_local(utcnow(), uk.timezone).date()
    period = group_reports.Period(today, today + timedelta(days=7))
    hours = {
        (v.name, v.shifts, v.minutes) for v in group_reports.volunteer_hours(db.session, uk, period)
    }
    assert hours == {
        (stall.member.name, 2, 7 * 60),
        (stall.organiser.name, 1, 3 * 60),
        ("Una", 1, 60),
    }
    unfilled = group_reports.unfilled_shifts(db.session, uk, period)
    assert [(u.role, u.custom_role, u.needed, u.filled, u.missing) for u in unfilled] == [
        ("custom", "Bring the urn", 3, 1, 2),
        ("driver", "", 1, 0, 1),
    ]
    assert group_reports.unfilled_totals(db.session, uk, period) == (2, 3)
    # The CSV has each start as a local time with its offset (ISO 8601), whatever the season.
    login_as(year["stall"].organiser)
    response = client.get(
        f"/groups/uk/reports/unfilled.csv?first={period.first}&last={period.last}"
    )
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeffstarts_at,event,role,needed,filled,missing\r\n")
    rows = list(csv.reader(io.StringIO(body[1:])))
    local_start = utc_to_local(unfilled[1].starts_at, "Europe/London")
    assert rows[2][:3] == [local_start.isoformat(timespec="seconds"), "Next stall", "driver"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", rows[2][0])
    # Outside the dates nothing shows.
    before = group_reports.Period(today - timedelta(days=30), today - timedelta(days=1))
    assert group_reports.volunteer_hours(db.session, uk, before) == []
    assert group_reports.unfilled_totals(db.session, uk, before) == (0, 0)


def test_group_report_page_and_csv(client, login_as, db, uk, organiser, year):
    login_as(organiser)
    period = year["period"]
    args = f"first={period.first}&last={period.last}"
    response = client.get(f"/groups/uk/reports?{args}")
    assert response.status_code == 200
    page = response.data.decode()
    assert "Revolutionary Perspectives 23" in page and "<svg" in page
    assert "Old meeting" not in page
    assert "style=" not in page
    for table in (
        "titles",
        "takings",
        "kinds",
        "months",
        "events",
        "event_money",
        "stock",
        "volunteers",
        "unfilled",
    ):
        response = client.get(f"/groups/uk/reports/{table}.csv?{args}")
        assert response.status_code == 200, table
        assert response.mimetype == "text/csv"
    months = list(
        csv.reader(
            io.StringIO(
                client.get(f"/groups/uk/reports/months.csv?{args}").data.decode("utf-8-sig")
            )
        )
    )
    assert months[0] == ["month", "currency", "sales", "donations", "subscriptions", "total"]
    eur = [row for row in months if row[1] == "EUR"]
    assert eur == [
        [year["stall"].event.starts_at.strftime("%Y-%m"), "EUR", "5.00", "0.00", "24.00", "29.00"]
    ]
    assert client.get(f"/groups/uk/reports/nonsense.csv?{args}").status_code == 404


def test_bad_dates_fall_back_to_the_last_year(client, login_as, organiser, year):
    login_as(organiser)
    response = client.get("/groups/uk/reports?first=2026-05-01&last=2026-01-01")
    assert response.status_code == 200
    assert "The end must not be before the start." in response.data.decode()
    response = client.get("/groups/uk/reports?first=nonsense&last=")
    assert response.status_code == 200


def test_a_period_starts_at_local_midnight_even_when_midnight_is_skipped():
    from datetime import UTC, date, datetime

    london = group_reports.Period(date(2024, 10, 1), date(2024, 10, 31)).bounds("Europe/London")
    assert london == (
        datetime(2024, 9, 30, 23, 0, tzinfo=UTC),
        datetime(2024, 11, 1, 0, 0, tzinfo=UTC),
    )
    # Santiago skipped 8 September 2024 00:00–01:00: the day starts at 01:00 (04:00 UTC).
    start, _end = group_reports.Period(date(2024, 9, 8), date(2024, 9, 8)).bounds(
        "America/Santiago"
    )
    assert start == datetime(2024, 9, 8, 4, 0, tzinfo=UTC)


def test_bar_chart_scales_bars_to_the_largest():
    from stallapp.reports.charts import VALUE_ROOM, WIDTH, bar_chart

    chart = bar_chart(
        "Sold",
        [
            ("Aurora", 40, "40", "bar-free"),
            ("1917", 10, "10", "bar-sold"),
            ("Undone", -1, "-1", "x"),
        ],
    )
    widths = [bar.bar_width for bar in chart.bars]
    assert widths == [WIDTH - VALUE_ROOM, (WIDTH - VALUE_ROOM) // 4, 0]
    assert chart.height == 3 * 40
    assert bar_chart("Nothing", []).bars == []
    long = bar_chart("Long", [("x" * 80, 1, "1", "bar-sold")]).bars[0].label
    assert len(long) <= 42 and long.endswith("…")
