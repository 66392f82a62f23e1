"""Demo history for the reports: a year of past stalls and meetings of the UK group, with sales
recorded through the till's services, counted back and closed out. Loaded by ``flask
demo-data`` after the stock demo, idempotently.

The Sheffield stall of the events' demo gets sales too but is left open, so a visitor can try
the close-out; the Newcastle one is closed out.
"""

import uuid
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group, Role, User
from stallapp.database import utcnow
from stallapp.events import services as event_services
from stallapp.events.models import Event, EventKind
from stallapp.reports import closeout
from stallapp.reports.figures import title_figures
from stallapp.sales import operations as sale_operations
from stallapp.sales import recording as sale_recording
from stallapp.sales.models import Sale
from stallapp.stock import services as stock
from stallapp.stock.lookups import publication_named
from stallapp.stock.models import Store
from stallapp.times import utc_to_local

HISTORY_STORE = "Lock-up"
#: (months ago, kind, title, venue) of the past year's events.
HISTORY = [
    (11, EventKind.STALL, "May Day stall", "Cathedral Square, Peterborough"),
    (10, EventKind.PUBLIC_MEETING, "Public meeting: the war in Ukraine", "The Ostrich Inn"),
    (9, EventKind.STALL, "Stall at the Norwich bookfair", "The Forum, Norwich"),
    (8, EventKind.STALL, "Market stall", "Peterborough market"),
    (7, EventKind.PUBLIC_MEETING, "Public meeting: 1917 and after", "The Ostrich Inn"),
    (6, EventKind.INTERVENTION, "Leafleting the picket line", "Royal Mail depot"),
    (5, EventKind.STALL, "Stall at the Leeds bookfair", "Leeds Central Library"),
    (4, EventKind.PUBLIC_MEETING, "Public meeting: the cost of living", "The Ostrich Inn"),
    (3, EventKind.STALL, "Market stall", "Peterborough market"),
    (2, EventKind.DISCUSSION, "Discussion: what is the party?", "Online"),
]
SHEFFIELD = "Sheffield Radical Bookfair"
NEWCASTLE = "Newcastle Ewan Brown Anarchist Bookfair"


def _past_event(session: Session, group: Group, title: str) -> Event | None:
    return session.scalars(
        sa.select(Event)
        .where(Event.group_id == group.id, Event.title == title, Event.starts_at <= utcnow())
        .order_by(Event.starts_at.desc())
        .limit(1)
    ).first()


def _has_sales(session: Session, event: Event) -> bool:
    return session.scalar(sa.select(Sale.id).where(Sale.event_id == event.id).limit(1)) is not None


def _sell(session: Session, event: Event, organiser: User, titles: dict, round_: int) -> None:
    """Record a stall's worth of till operations, varying with ``round_``."""
    journal, aurora, book = titles["journal"], titles["aurora"], titles["book"]

    def op(kind: str, **fields) -> sale_operations.Operation:
        return sale_operations.parse_operation(
            {"id": str(uuid.uuid4()), "type": kind, **fields}, "GBP"
        )

    operations = [
        op("sale", publication_id=journal.id, quantity=2 + round_ % 4, payment_method="cash"),
        op("sale", publication_id=journal.id, payment_method="card"),
        op("giveaway", publication_id=aurora.id, quantity=8 + 3 * (round_ % 5)),
        op("donation", amount=str(3 + round_ % 7), payment_method="cash"),
    ]
    if event.kind in (EventKind.STALL, EventKind.PUBLIC_MEETING) and round_ % 2 == 0:
        operations.append(op("sale", publication_id=book.id, payment_method="cash"))
    if round_ % 3 == 0:
        operations.append(
            op("sale", publication_id=journal.id, currency="EUR", payment_method="cash")
        )
    offers = stock.subscription_offers_of(session, event.group, active_only=True)
    if offers and round_ % 3 == 1:
        operations.append(op("subscription", offer_id=offers[0].id, payment_method="cash"))
    sale_recording.record_operations(
        session, event, sale_recording.Seller(organiser, Role.ORGANISER), operations
    )


def _close(session: Session, event: Event, organiser: User, store: Store, missing: int) -> None:
    """Count everything back but ``missing`` copies of the first title, and the cash exactly."""
    figures = title_figures(session, event)
    counts = {}
    for index, figure in enumerate(figures):
        counts[figure.publication_id] = max(figure.left - (missing if index == 0 else 0), 0)
    taken = closeout.cash_taken(session, event)
    cash = [
        closeout.CashEntry(
            currency, 2000 if currency == "GBP" else 0, 2000 * (currency == "GBP") + amount
        )
        for currency, amount in sorted(taken.items())
    ]
    closeout.close_out(session, event, organiser, store, counts, cash, "Demo close-out")


def load_demo_reports(session: Session, groups: dict[str, Group], organiser: User | None) -> None:
    """Give the UK group a year of closed-out events and sales at the Sheffield stall."""
    uk = groups["uk"]
    if organiser is None:
        return
    titles = {
        "journal": publication_named(session, uk, "Revolutionary Perspectives", "No. 23"),
        "aurora": publication_named(session, uk, "Aurora"),
        "book": publication_named(session, uk, "1917"),
    }
    if any(title is None for title in titles.values()):
        return
    store = session.scalar(
        sa.select(Store).where(Store.group_id == uk.id, Store.name == HISTORY_STORE)
    )
    if store is None:
        # The history is made once, with its store: loading again adds nothing.
        store = stock.create_store(session, uk, HISTORY_STORE)
        for key, copies in (("journal", 400), ("aurora", 1000), ("book", 60)):
            stock.receive(session, store, titles[key], copies, organiser, "Demo print run")
        today = utc_to_local(utcnow(), uk.timezone).date()
        for round_, (months_ago, kind, title, venue) in enumerate(HISTORY):
            start = datetime.combine(_saturday_near(today, months_ago), time(11, 0))
            event = event_services.create_event(
                session,
                uk,
                event_services.EventDetails(
                    kind=kind,
                    title=title,
                    timezone=uk.timezone,
                    start=start,
                    end=start + timedelta(hours=4),
                    venue_name=venue,
                ),
                publish=True,
            )
            _stall_day(session, event, organiser, store, titles, round_, close=True)
    for title, close in ((NEWCASTLE, True), (SHEFFIELD, False)):
        event = _past_event(session, uk, title)
        if event is not None and not _has_sales(session, event):
            _stall_day(session, event, organiser, store, titles, len(title), close=close)
    session.flush()


def _stall_day(session, event, organiser, store, titles, round_: int, *, close: bool) -> None:
    stock.pack_for_event(
        session,
        store,
        event,
        {titles["journal"]: 15, titles["aurora"]: 40, titles["book"]: 3},
        organiser,
    )
    _sell(session, event, organiser, titles, round_)
    if close:
        _close(session, event, organiser, store, missing=round_ % 3)


def _saturday_near(today: date, months_ago: int) -> date:
    """Return the Saturday on or before the same day ``months_ago`` months back."""
    year, month = today.year, today.month - months_ago
    while month < 1:
        month += 12
        year -= 1
    day = date(year, month, min(today.day, 28))
    return day - timedelta(days=(day.weekday() - 5) % 7)
