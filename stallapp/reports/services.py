"""Closing out an event, and the event and group reports.

The close-out books what came back as ledger movements (event → store for the copies counted,
event → adjustment for the ones unaccounted) and keeps the cash count in its own tables.
Every report figure is an SQL aggregate (``GROUP BY``) over the ledger and the sales: a page runs
the same handful of statements whatever the size of the group's history. The close-out also adds
up the event's sales into summaries (:class:`EventTitleSummary`, :class:`EventMoneySummary`), which
the group report reads for closed events, so a year's report costs in events, not sale lines.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased, selectinload

from stallapp.accounts.models import Group, User
from stallapp.contacts.models import Contact
from stallapp.database import utcnow
from stallapp.errors import EventClosed, NotAllowed, ValidationFailed
from stallapp.events.models import Event, EventKind, EventStatus, Registration, RegistrationStatus
from stallapp.money import is_valid_currency
from stallapp.qr.models import QrCode
from stallapp.reports.models import (
    CashCount,
    CloseOutAction,
    CloseOutLogEntry,
    EventCloseOut,
    EventMoneySummary,
    EventTitleSummary,
    StockCount,
)
from stallapp.rota.models import Assignment, Shift
from stallapp.sales import services as sales
from stallapp.sales import till as tills
from stallapp.sales.models import LateSale, LateSaleStatus, PaymentMethod, Sale, SaleKind, SaleLine
from stallapp.stock import services as stock
from stallapp.stock.models import Place, Publication, StockMovement, Store, SubscriptionOffer
from stallapp.times import NonexistentLocalTime, local_to_utc

#: Most money a cash count may hold, in minor units (as for any amount at the till).
MAX_CASH = stock.MAX_AMOUNT


# SQL helpers that differ between SQLite and PostgreSQL ---------------------------------------


class minutes_between(sa.sql.expression.FunctionElement):
    """Whole minutes from the first timestamp to the second, computed by the database."""

    type = sa.Integer()
    inherit_cache = True
    name = "minutes_between"


@compiles(minutes_between)
def _minutes_between_postgresql(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"CAST(ROUND(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)})) / 60) AS INTEGER)"
    )


@compiles(minutes_between, "sqlite")
def _minutes_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"CAST(ROUND((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 1440) AS INTEGER)"
    )


class year_month(sa.sql.expression.FunctionElement):
    """The ``YYYY-MM`` of a timestamp (UTC), computed by the database."""

    type = sa.String()
    inherit_cache = True
    name = "year_month"


@compiles(year_month)
def _year_month_postgresql(element, compiler, **kw):
    (moment,) = list(element.clauses)
    return f"to_char({compiler.process(moment, **kw)}, 'YYYY-MM')"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element, compiler, **kw):
    (moment,) = list(element.clauses)
    return f"strftime('%Y-%m', {compiler.process(moment, **kw)})"


def _title_label():
    """A title as people tell issues apart: "Revolutionary Perspectives No. 23"."""
    return sa.case(
        (Publication.issue_number == "", Publication.title),
        else_=Publication.title + " " + Publication.issue_number,
    )


_TITLE_GROUP = (Publication.title, Publication.issue_number)


def _signed(column):
    """``column`` counted positively on a sale and negatively on the undo that reverses it."""
    return sa.case((Sale.reverses_id.is_(None), column), else_=-column)


def _standing(query: sa.Select) -> sa.Select:
    """Keep only sale lines whose sale was not undone. (An undo is a sale row of its own with
    no lines, so a query joining lines never counts it; testing ``reverses_id IS NULL`` here
    would only tempt the planner into scanning that column's index.)"""
    undo = aliased(Sale)
    return query.where(~sa.exists().where(undo.reverses_id == Sale.id))


# Stock per title at an event ----------------------------------------------------------------


@dataclass
class TitleFigures:
    """Copies of one title at an event, as the ledger has them. ``left`` is always
    ``packed - sold - given_away - returned - unaccounted``."""

    publication_id: int
    title: str
    is_free: bool
    packed: int = 0
    sold: int = 0
    given_away: int = 0
    returned: int = 0
    unaccounted: int = 0

    @property
    def left(self) -> int:
        return self.packed - self.sold - self.given_away - self.returned - self.unaccounted


_LOSS_PLACES = (Place.ADJUSTMENT, Place.WRITTEN_OFF)
_COLUMNS = ("packed", "sold", "given_away", "returned", "unaccounted")


def _event_flows(event_ids):
    """One row per movement into or out of the events, split into the report's columns.

    Into the event: packing (+packed), the undo of a sale (−sold) or give-away (−given away),
    copies that turned up at a count (−unaccounted), the reversal of a return (−returned).
    Out of it: the mirror images. Their sum per title is the ledger's level at the event.
    """
    q = StockMovement.quantity
    corrected = StockMovement.reverses_id.is_not(None)
    inflow = sa.select(
        StockMovement.to_event_id.label("event_id"),
        StockMovement.publication_id.label("publication_id"),
        sa.case(
            (StockMovement.from_place.in_([Place.SOLD, Place.GIVEN_AWAY, *_LOSS_PLACES]), 0),
            (sa.and_(StockMovement.from_place == Place.STORE, corrected), 0),
            else_=q,
        ).label("packed"),
        sa.case((StockMovement.from_place == Place.SOLD, -q), else_=0).label("sold"),
        sa.case((StockMovement.from_place == Place.GIVEN_AWAY, -q), else_=0).label("given_away"),
        sa.case((sa.and_(StockMovement.from_place == Place.STORE, corrected), -q), else_=0).label(
            "returned"
        ),
        sa.case((StockMovement.from_place.in_(_LOSS_PLACES), -q), else_=0).label("unaccounted"),
    ).where(StockMovement.to_event_id.in_(event_ids))
    outflow = sa.select(
        StockMovement.from_event_id,
        StockMovement.publication_id,
        sa.case((sa.and_(StockMovement.to_place == Place.STORE, corrected), -q), else_=0),
        sa.case((StockMovement.to_place == Place.SOLD, q), else_=0),
        sa.case((StockMovement.to_place == Place.GIVEN_AWAY, q), else_=0),
        sa.case(
            (StockMovement.to_place.in_([Place.SOLD, Place.GIVEN_AWAY, *_LOSS_PLACES]), 0),
            (sa.and_(StockMovement.to_place == Place.STORE, corrected), 0),
            else_=q,
        ),
        sa.case((StockMovement.to_place.in_(_LOSS_PLACES), q), else_=0),
    ).where(StockMovement.from_event_id.in_(event_ids))
    return sa.union_all(inflow, outflow).subquery()


def title_figures(session: Session, event: Event) -> list[TitleFigures]:
    """Return packed, sold, given away, returned and unaccounted per title, in one query."""
    flows = _event_flows([event.id])
    rows = session.execute(
        sa.select(
            Publication.id,
            _title_label(),
            Publication.is_free,
            *(sa.func.sum(flows.c[name]) for name in _COLUMNS),
        )
        .join(flows, flows.c.publication_id == Publication.id)
        .group_by(Publication.id, *_TITLE_GROUP, Publication.is_free)
        .order_by(*_TITLE_GROUP, Publication.id)
    )
    return [
        TitleFigures(pid, title, is_free, *(int(value) for value in values))
        for pid, title, is_free, *values in rows
    ]


# Summaries of closed events ------------------------------------------------------------------


def _line_sums():
    """Per standing sale line: its event, title, currency, and copies sold, given away and
    money taken (the columns of :class:`EventTitleSummary`)."""
    return _standing(
        sa.select(
            Sale.event_id.label("event_id"),
            SaleLine.publication_id.label("publication_id"),
            Sale.currency.label("currency"),
            sa.case((Sale.kind == SaleKind.SALE, SaleLine.quantity), else_=0).label("sold"),
            sa.case((Sale.kind == SaleKind.GIVEAWAY, SaleLine.quantity), else_=0).label(
                "given_away"
            ),
            sa.case((Sale.kind == SaleKind.SALE, SaleLine.amount), else_=0).label("amount"),
        )
        .select_from(SaleLine)
        .join(Sale, Sale.id == SaleLine.sale_id)
    )


def _money_sums():
    """Per sale with money (not a give-away): its event, currency, kind and signed amount (the
    columns of :class:`EventMoneySummary`)."""
    return sa.select(
        Sale.event_id.label("event_id"),
        Sale.currency.label("currency"),
        Sale.kind.label("kind"),
        _signed(Sale.amount).label("amount"),
    ).where(Sale.kind != SaleKind.GIVEAWAY)


def write_summaries(session: Session, event_ids) -> None:
    """Add up the sale lines and sales of ``event_ids`` (a list or a select of ids) into their
    summaries, replacing any there were. Called with the event's till locked, so the sums are
    those of the books as they stay while the event is closed."""
    drop_summaries(session, event_ids)
    lines = _line_sums().where(Sale.event_id.in_(event_ids)).subquery()
    session.execute(
        sa.insert(EventTitleSummary).from_select(
            ["group_id", "event_id", "publication_id", "currency", "sold", "given_away", "amount"],
            sa.select(
                Event.group_id,
                lines.c.event_id,
                lines.c.publication_id,
                lines.c.currency,
                sa.func.sum(lines.c.sold),
                sa.func.sum(lines.c.given_away),
                sa.func.sum(lines.c.amount),
            )
            .join(Event, Event.id == lines.c.event_id)
            .group_by(Event.group_id, lines.c.event_id, lines.c.publication_id, lines.c.currency),
        )
    )
    money = _money_sums().where(Sale.event_id.in_(event_ids)).subquery()
    session.execute(
        sa.insert(EventMoneySummary).from_select(
            ["group_id", "event_id", "kind", "currency", "amount"],
            sa.select(
                Event.group_id,
                money.c.event_id,
                money.c.kind,
                money.c.currency,
                sa.func.sum(money.c.amount),
            )
            .join(Event, Event.id == money.c.event_id)
            .group_by(Event.group_id, money.c.event_id, money.c.kind, money.c.currency),
        )
    )


def drop_summaries(session: Session, event_ids) -> None:
    """Remove the summaries of ``event_ids``: reopened, they are added up live again."""
    for model in (EventTitleSummary, EventMoneySummary):
        session.execute(
            sa.delete(model)
            .where(model.event_id.in_(event_ids))
            .execution_options(synchronize_session=False)
        )


def _closed_now(event_id):
    """True for an event closed out and not reopened (its summaries stand for its sales)."""
    return sa.exists().where(
        EventCloseOut.event_id == event_id, EventCloseOut.reopened_at.is_(None)
    )


# Close-out ----------------------------------------------------------------------------------


def close_out_of(session: Session, event: Event) -> EventCloseOut | None:
    """Return the event's close-out (closed or reopened), with its counts, or None."""
    return session.scalar(
        sa.select(EventCloseOut)
        .where(EventCloseOut.event_id == event.id)
        .options(
            selectinload(EventCloseOut.cash_counts),
            selectinload(EventCloseOut.closed_by),
            selectinload(EventCloseOut.store),
        )
    )


def packing_store_id(session: Session, event: Event) -> int | None:
    """Return the store most of the event's copies were packed from (where they go back)."""
    return session.scalar(
        sa.select(StockMovement.from_store_id)
        .where(StockMovement.to_event_id == event.id, StockMovement.from_place == Place.STORE)
        .group_by(StockMovement.from_store_id)
        .order_by(sa.func.sum(StockMovement.quantity).desc(), StockMovement.from_store_id)
        .limit(1)
    )


def cash_taken(session: Session, event: Event) -> dict[str, int]:
    """Return the cash the till took per currency: sales, donations and subscriptions paid in
    cash, undos subtracted."""
    rows = session.execute(
        sa.select(Sale.currency, sa.func.sum(_signed(Sale.amount)))
        .where(Sale.event_id == event.id, Sale.payment_method == PaymentMethod.CASH)
        .group_by(Sale.currency)
    )
    return {currency: int(total) for currency, total in rows}


def cash_currencies(session: Session, event: Event) -> list[str]:
    """Return the currencies to count cash in: the till's main one and any the event sold in."""
    till = tills.till_of(session, event)
    main = till.main_currency if till is not None else event.group.currency
    used = session.scalars(sa.select(Sale.currency).where(Sale.event_id == event.id).distinct())
    return sorted({main, *used})


@dataclass(frozen=True)
class CashEntry:
    """What an organiser counted in one currency (minor units)."""

    currency: str
    float_amount: int
    counted_amount: int
    note: str = ""


def _check_counts(figures: list[TitleFigures], counts: Mapping[int, int]) -> None:
    for figure in figures:
        counted = counts.get(figure.publication_id)
        if counted is None:
            raise ValidationFailed(
                _("Enter how many copies of %(title)s came back.", title=figure.title),
                "count_missing",
            )
        if not isinstance(counted, int) or isinstance(counted, bool):
            raise ValidationFailed(_("A count must be a whole number."), "bad_count")
        if not 0 <= counted <= stock.MAX_QUANTITY:
            raise ValidationFailed(_("A count must be 0 or more."), "bad_count")


def _check_cash(cash: list[CashEntry]) -> None:
    seen = set()
    for entry in cash:
        if not is_valid_currency(entry.currency) or entry.currency in seen:
            raise ValidationFailed(_("Unknown or repeated currency."), "currency")
        seen.add(entry.currency)
        for amount in (entry.float_amount, entry.counted_amount):
            if not isinstance(amount, int) or not 0 <= amount <= MAX_CASH:
                raise ValidationFailed(_("An amount must be between 0 and a million."), "amount")


def close_out_open(event: Event, now: datetime | None = None) -> bool:
    """Tell whether the event may be closed out: once it has started, not before (nothing has
    been sold or handed out yet, and a count then would lock the sale screen for the day)."""
    return event.starts_at <= (now or utcnow())


def close_out(
    session: Session,
    event: Event,
    user: User,
    store: Store,
    counts: Mapping[int, int],
    cash: list[CashEntry],
    note: str = "",
) -> EventCloseOut:
    """Close out ``event``: book what came back and what is unaccounted, record the cash count,
    add up its sales into the summaries the group report reads, and lock the event for sales
    until it is reopened.

    ``counts`` maps each title the event's ledger knows (see :func:`title_figures`) to the copies
    counted. Counted copies go back to ``store``; the difference from the ledger's figure goes to
    (or, when more came back than it had, comes from) the adjustment place as "unaccounted".

    :raises EventClosed: code ``already_closed`` when it is closed out already.
    :raises NotAllowed: code ``not_started`` before the event has started.
    :raises ValidationFailed: on a missing or negative count, a bad amount, or a store of
        another group.
    """
    if not close_out_open(event):
        raise NotAllowed(
            _("The event has not started yet: close it out once it is under way."),
            "not_started",
        )
    till = tills.lock_till(session, event)
    existing = close_out_of(session, event)
    if existing is not None and existing.is_closed:
        raise EventClosed(_("This event is already closed out."), "already_closed")
    if store.group_id != event.group_id:
        raise ValidationFailed(_("Choose one of the group's stores."), "other_group")
    figures = title_figures(session, event)
    _check_counts(figures, counts)
    _check_cash(cash)
    now = utcnow()
    if existing is None:
        existing = EventCloseOut(group_id=event.group_id, event_id=event.id, closed_at=now)
        session.add(existing)
    existing.store_id = store.id
    existing.closed_at = now
    existing.closed_by_id = user.id
    existing.reopened_at = None
    existing.reopened_by_id = None
    existing.note = note.strip()
    existing.cash_counts.clear()
    session.flush()

    publications = {
        publication.id: publication
        for publication in session.scalars(
            sa.select(Publication).where(
                Publication.id.in_([figure.publication_id for figure in figures])
            )
        )
    }
    for figure in figures:
        publication = publications[figure.publication_id]
        counted = counts[figure.publication_id]
        expected = figure.left
        returned = adjustment = None
        if counted:
            returned = stock.return_copies(
                session,
                event,
                store,
                publication,
                counted,
                user,
                _("Counted back at the close-out"),
            )
        adjustment = _book_difference(session, event, publication, expected - counted, user)
        session.add(
            StockCount(
                close_out_id=existing.id,
                publication_id=publication.id,
                expected=expected,
                counted=counted,
                return_movement_id=returned.id if returned else None,
                adjustment_movement_id=adjustment.id if adjustment else None,
            )
        )

    taken = cash_taken(session, event)
    for entry in cash:
        existing.cash_counts.append(
            CashCount(
                currency=entry.currency,
                float_amount=entry.float_amount,
                expected_amount=entry.float_amount + taken.get(entry.currency, 0),
                counted_amount=entry.counted_amount,
                note=entry.note.strip()[:500],
            )
        )
    till.closed_at = now
    session.add(
        CloseOutLogEntry(
            group_id=event.group_id,
            event_id=event.id,
            action=CloseOutAction.CLOSED,
            user_id=user.id,
            at=now,
            note=existing.note,
        )
    )
    session.flush()
    write_summaries(session, [event.id])
    return existing


def reopen(session: Session, event: Event, user: User, reason: str) -> EventCloseOut:
    """Reopen a closed-out event: the count's movements are reversed (the copies are back at
    the event as before the count), sales are allowed again (the group report adds them up live
    until the next close-out, so the summaries go), and the reopen is logged.

    :raises NotAllowed: code ``not_closed`` when the event is not closed out.
    :raises ValidationFailed: code ``reason_missing`` without a reason.
    """
    till = tills.lock_till(session, event)
    close_out_row = close_out_of(session, event)
    if close_out_row is None or not close_out_row.is_closed:
        raise NotAllowed(_("This event is not closed out."), "not_closed")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the event is reopened."), "reason_missing")
    counts = session.scalars(
        sa.select(StockCount)
        .where(StockCount.close_out_id == close_out_row.id, StockCount.current.is_(True))
        .options(
            selectinload(StockCount.return_movement).selectinload(StockMovement.publication),
            selectinload(StockCount.adjustment_movement).selectinload(StockMovement.publication),
        )
    ).all()
    for count in counts:
        for movement in (count.return_movement, count.adjustment_movement):
            if movement is not None:
                stock.reverse_movement(session, movement, user, _("Event reopened"))
        count.current = False
    now = utcnow()
    close_out_row.reopened_at = now
    close_out_row.reopened_by_id = user.id
    till.closed_at = None
    drop_summaries(session, [event.id])
    session.add(
        CloseOutLogEntry(
            group_id=event.group_id,
            event_id=event.id,
            action=CloseOutAction.REOPENED,
            user_id=user.id,
            at=now,
            note=reason[:2000],
        )
    )
    session.flush()
    return close_out_row


def accept_late_sale(session: Session, event: Event, late: LateSale, user: User) -> Sale:
    """Book a held late sale, and square the close-out's count with it.

    The close-out counted the copies without this sale, so it booked them as unaccounted (or
    found fewer than it should have). For each title the sale moves, the count's difference is
    booked again: its adjustment is reversed and the new difference booked in its place, so the
    report shows the copies as sold rather than unaccounted, the event's level stays at 0, and a
    reopen still reverses exactly what the count booked. The event's summaries are added up
    again with the sale in them.

    :raises NotAllowed: code ``already_decided``.
    :raises StallError: when the sale services refuse the sale; nothing is booked then.
    """
    tills.lock_till(session, event)  # the levels read next must not change under us
    before = stock.event_levels(session, event)
    sale = sales.book_late_sale(session, event, late, user)
    close_out_row = close_out_of(session, event)
    if close_out_row is None or not close_out_row.is_closed:
        return sale
    after = stock.event_levels(session, event)
    for publication_id in sorted(set(before) | set(after)):
        delta = after.get(publication_id, 0) - before.get(publication_id, 0)
        if delta:
            _square_count(session, event, close_out_row, publication_id, delta, user)
    session.flush()
    write_summaries(session, [event.id])
    return sale


def _book_difference(
    session: Session, event: Event, publication: Publication, missing: int, user: User
) -> StockMovement | None:
    """Book a title's close-out difference: ``missing`` copies the ledger had at the event but
    nobody counted back (to adjustment), or, when negative, copies counted beyond it (from
    adjustment). Nothing when the count agrees."""
    if missing > 0:
        return stock.record_movement(
            session,
            publication=publication,
            quantity=missing,
            from_place=Place.EVENT,
            from_event=event,
            to_place=Place.ADJUSTMENT,
            user=user,
            note=_("Unaccounted at the close-out"),
        )
    if missing < 0:
        return stock.record_movement(
            session,
            publication=publication,
            quantity=-missing,
            from_place=Place.ADJUSTMENT,
            to_place=Place.EVENT,
            to_event=event,
            user=user,
            note=_("More came back than the ledger had at the close-out"),
        )
    return None


def accept_held_late_sales(session: Session, event: Event, user: User) -> int:
    """Book every late sale of the event still held, oldest first; return how many.

    The list is read under the till's lock, so sales another organiser decided a moment ago
    are not booked again.

    :raises StallError: when the sale services refuse one; nothing is booked then.
    """
    tills.lock_till(session, event)
    held = [
        line.late
        for line in sales.late_sales(session, event)
        if line.late.status == LateSaleStatus.HELD
    ]
    for late in held:
        accept_late_sale(session, event, late, user)
    return len(held)


def _square_count(
    session: Session,
    event: Event,
    close_out_row: EventCloseOut,
    publication_id: int,
    delta: int,
    user: User,
) -> None:
    """Book a title's close-out difference again after a late sale changed the ledger's
    figure by ``delta`` copies."""
    count = session.scalar(
        sa.select(StockCount)
        .where(
            StockCount.close_out_id == close_out_row.id,
            StockCount.publication_id == publication_id,
            StockCount.current.is_(True),
        )
        .options(selectinload(StockCount.adjustment_movement))
    )
    if count is None:
        # A title sold though never packed: the count found none of it, as expected now.
        count = StockCount(
            close_out_id=close_out_row.id, publication_id=publication_id, expected=0, counted=0
        )
        session.add(count)
    elif count.adjustment_movement is not None:
        stock.reverse_movement(
            session,
            count.adjustment_movement,
            user,
            _("A late sale was accepted: the close-out's difference is booked again"),
        )
    count.expected += delta
    publication = session.get(Publication, publication_id)
    movement = _book_difference(session, event, publication, count.expected - count.counted, user)
    count.adjustment_movement_id = movement.id if movement else None
    session.flush()


def reject_late_sale(
    session: Session, event: Event, late: LateSale, user: User, note: str
) -> LateSale:
    """Leave a held late sale out of the books, with the organiser's note.

    :raises NotAllowed: code ``already_decided``.
    :raises ValidationFailed: code ``note_missing``.
    """
    return sales.reject_late_sale(session, event, late, user, note)


def close_out_log(session: Session, event: Event) -> list[CloseOutLogEntry]:
    """Return every close and reopen of the event, oldest first, with who did it."""
    return list(
        session.scalars(
            sa.select(CloseOutLogEntry)
            .where(CloseOutLogEntry.event_id == event.id)
            .options(selectinload(CloseOutLogEntry.user))
            .order_by(CloseOutLogEntry.at, CloseOutLogEntry.id)
        )
    )


def current_counts(session: Session, close_out_row: EventCloseOut) -> dict[int, StockCount]:
    """Return ``{publication id: count}`` of the close-out standing now."""
    return {
        count.publication_id: count
        for count in session.scalars(
            sa.select(StockCount).where(
                StockCount.close_out_id == close_out_row.id, StockCount.current.is_(True)
            )
        )
    }


# The event report ---------------------------------------------------------------------------


@dataclass
class MoneyRow:
    currency: str
    kind: SaleKind
    payment_method: PaymentMethod
    amount: int
    count: int


@dataclass
class TitleTakings:
    publication_id: int
    title: str
    currency: str
    copies: int
    amount: int


@dataclass
class SubscriptionRow:
    name: str
    currency: str
    count: int
    amount: int


@dataclass
class CashRow:
    """Expected against counted cash in one currency; counted is None before the close-out."""

    currency: str
    float_amount: int
    taken: int
    counted: int | None
    note: str = ""

    @property
    def expected(self) -> int:
        return self.float_amount + self.taken

    @property
    def difference(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected


@dataclass
class Outreach:
    sign_ups: int
    sign_ups_by_qr: int
    registrations: int
    qr_scans: int
    #: Registrations (places taken) that came through an announcement's event link.
    registrations_from_announcements: int = 0


@dataclass
class StaffRow:
    user_id: int
    name: str
    shifts: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


@dataclass
class EventReport:
    event: Event
    close_out: EventCloseOut | None
    titles: list[TitleFigures]
    takings: list[TitleTakings]
    money: list[MoneyRow]
    subscriptions: list[SubscriptionRow]
    cash: list[CashRow]
    outreach: Outreach
    qr_codes: list[tuple[str, int]]
    staff: list[StaffRow]
    totals: dict[str, int] = field(default_factory=dict)
    #: Sales phones synced after the close-out, held ones first.
    late_sales: list[sales.LateSaleLine] = field(default_factory=list)

    @property
    def held_count(self) -> int:
        return sum(1 for line in self.late_sales if line.late.status == LateSaleStatus.HELD)

    @property
    def money_by_currency(self) -> dict[str, int]:
        """Return all the money taken per currency (never added across currencies)."""
        totals: dict[str, int] = {}
        for row in self.money:
            totals[row.currency] = totals.get(row.currency, 0) + row.amount
        return dict(sorted(totals.items()))

    @property
    def staff_minutes(self) -> int:
        return sum(row.minutes for row in self.staff)


def money_rows(session: Session, event: Event) -> list[MoneyRow]:
    """Return money per currency, kind and payment method (undos subtracted), in one query."""
    rows = session.execute(
        sa.select(
            Sale.currency,
            Sale.kind,
            Sale.payment_method,
            sa.func.sum(_signed(Sale.amount)),
            sa.func.sum(_signed(sa.literal(1))),
        )
        .where(Sale.event_id == event.id, Sale.kind != SaleKind.GIVEAWAY)
        .group_by(Sale.currency, Sale.kind, Sale.payment_method)
        .order_by(Sale.currency, Sale.kind, Sale.payment_method)
    )
    return [
        MoneyRow(currency, SaleKind(kind), PaymentMethod(method), int(amount), int(count))
        for currency, kind, method, amount, count in rows
        if count
    ]


def title_takings(session: Session, event: Event) -> list[TitleTakings]:
    """Return copies sold and money taken per title and currency (sales not undone)."""
    rows = session.execute(
        _standing(
            sa.select(
                Publication.id,
                _title_label(),
                Sale.currency,
                sa.func.sum(SaleLine.quantity),
                sa.func.sum(SaleLine.amount),
            ).select_from(Sale)
        )
        .join(SaleLine, SaleLine.sale_id == Sale.id)
        .join(Publication, Publication.id == SaleLine.publication_id)
        .where(
            Sale.event_id == event.id,
            Sale.kind == SaleKind.SALE,
        )
        .group_by(Publication.id, *_TITLE_GROUP, Sale.currency)
        .order_by(*_TITLE_GROUP, Sale.currency)
    )
    return [
        TitleTakings(pid, title, cur, int(n), int(amount)) for pid, title, cur, n, amount in rows
    ]


def subscription_rows(session: Session, event: Event) -> list[SubscriptionRow]:
    """Return subscriptions sold per offer and currency (undos subtracted)."""
    rows = session.execute(
        sa.select(
            SubscriptionOffer.name,
            Sale.currency,
            sa.func.sum(_signed(sa.literal(1))),
            sa.func.sum(_signed(Sale.amount)),
        )
        .join(SubscriptionOffer, SubscriptionOffer.id == Sale.subscription_offer_id)
        .where(Sale.event_id == event.id, Sale.kind == SaleKind.SUBSCRIPTION)
        .group_by(SubscriptionOffer.name, Sale.currency)
        .order_by(SubscriptionOffer.name, Sale.currency)
    )
    return [
        SubscriptionRow(name, currency, int(count), int(amount))
        for name, currency, count, amount in rows
        if count
    ]


def cash_rows(session: Session, event: Event, close_out_row: EventCloseOut | None) -> list[CashRow]:
    """Return expected against counted cash per currency.

    Expected is the float plus the cash taken now (undos after a reopen included), so a count
    that no longer matches the ledger shows up.
    """
    taken = cash_taken(session, event)
    counted = {}
    if close_out_row is not None and close_out_row.is_closed:
        counted = {count.currency: count for count in close_out_row.cash_counts}
    currencies = sorted(set(taken) | set(counted))
    return [
        CashRow(
            currency=currency,
            float_amount=counted[currency].float_amount if currency in counted else 0,
            taken=taken.get(currency, 0),
            counted=counted[currency].counted_amount if currency in counted else None,
            note=counted[currency].note if currency in counted else "",
        )
        for currency in currencies
    ]


def outreach(session: Session, event: Event) -> Outreach:
    """Count sign-ups, registrations (and those from announcements) and QR scans that came from
    the event, in one query. A sign-up counts once its address is confirmed by email, as the
    mailing list itself does: an address nobody confirmed may be a typo or someone else's."""
    event_codes = sa.select(QrCode.id).where(QrCode.event_id == event.id)
    confirmed = Contact.confirmed_at.is_not(None)
    row = session.execute(
        sa.select(
            sa.select(sa.func.count(Contact.id))
            .where(Contact.source_event_id == event.id, confirmed)
            .scalar_subquery(),
            sa.select(sa.func.count(Contact.id))
            .where(Contact.source_qr_code_id.in_(event_codes), confirmed)
            .scalar_subquery(),
            sa.select(sa.func.count(Registration.id))
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.REGISTERED,
            )
            .scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.sum(QrCode.scan_count), 0))
            .where(QrCode.event_id == event.id)
            .scalar_subquery(),
            sa.select(sa.func.count(Registration.id))
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.REGISTERED,
                Registration.source_announcement_id.is_not(None),
            )
            .scalar_subquery(),
        )
    ).one()
    return Outreach(*(int(value) for value in row))


def qr_codes_of(session: Session, event: Event) -> list[tuple[str, int]]:
    """Return ``(label, scans)`` of the event's QR codes."""
    rows = session.execute(
        sa.select(QrCode.label, QrCode.scan_count)
        .where(QrCode.event_id == event.id)
        .order_by(QrCode.label)
    )
    return [(label, int(scans)) for label, scans in rows]


def _staffing(where) -> sa.Select:
    return (
        sa.select(
            User.id,
            User.name,
            sa.func.count(Assignment.id),
            sa.func.sum(minutes_between(Shift.starts_at, Shift.ends_at)),
        )
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.withdrawn_at.is_(None), Shift.cancelled_at.is_(None), where)
        .group_by(User.id, User.name)
    )


def staff_rows(session: Session, event: Event) -> list[StaffRow]:
    """Return who staffed the event and for how long (shifts not cancelled, not withdrawn)."""
    rows = session.execute(_staffing(Shift.event_id == event.id).order_by(User.name))
    return [StaffRow(uid, name, int(n), int(minutes or 0)) for uid, name, n, minutes in rows]


def event_report(session: Session, event: Event) -> EventReport:
    """Gather the event's report: a fixed number of aggregate queries."""
    close_out_row = close_out_of(session, event)
    titles = title_figures(session, event)
    report = EventReport(
        event=event,
        close_out=close_out_row,
        titles=titles,
        takings=title_takings(session, event),
        money=money_rows(session, event),
        subscriptions=subscription_rows(session, event),
        cash=cash_rows(session, event, close_out_row),
        outreach=outreach(session, event),
        qr_codes=qr_codes_of(session, event),
        staff=staff_rows(session, event),
        late_sales=sales.late_sales(session, event),
    )
    report.totals = {name: sum(getattr(t, name) for t in titles) for name in _COLUMNS}
    return report


# Group reports over a date range ------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` inclusive, in the group's time zone."""

    first: date
    last: date

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        """Return the UTC instants ``[start, end)`` of the period in ``zone``."""
        return _day_start(self.first, zone), _day_start(self.last + timedelta(days=1), zone)


def _day_start(day: date, zone: str) -> datetime:
    """Return when ``day`` begins in ``zone``: midnight, or 01:00 where a clock change skips
    midnight (Santiago, Beirut...)."""
    try:
        return local_to_utc(datetime.combine(day, time()), zone)
    except NonexistentLocalTime:
        return local_to_utc(datetime.combine(day, time(1)), zone)


def default_period(today: date) -> Period:
    """The twelve months up to today."""
    return Period(date(today.year - 1, today.month, 1), today)


def _events_in(group: Group, period: Period) -> sa.Select:
    start, end = period.bounds(group.timezone)
    return sa.select(Event.id).where(
        Event.group_id == group.id,
        Event.starts_at >= start,
        Event.starts_at < end,
        Event.status != EventStatus.CANCELLED,
    )


@dataclass
class TitleSales:
    publication_id: int
    title: str
    sold: int
    given_away: int


@dataclass
class TitleMoney:
    publication_id: int
    title: str
    currency: str
    amount: int


@dataclass
class KindSales:
    title: str
    event_kind: EventKind
    sold: int
    given_away: int


@dataclass
class TitleBreakdown:
    """What the period's sale lines say per title: totals, money per currency, and copies per
    kind of event — from one pass over the lines."""

    titles: list[TitleSales]
    money: list[TitleMoney]
    by_kind: list[KindSales]


def _title_sources(group: Group, period: Period):
    """The period's title sums, one row per event, title and currency at most: the summaries of
    closed events and the live sale lines of open ones, in one union (one snapshot)."""
    events = _events_in(group, period)
    summed = sa.select(
        EventTitleSummary.event_id,
        EventTitleSummary.publication_id,
        EventTitleSummary.currency,
        EventTitleSummary.sold,
        EventTitleSummary.given_away,
        EventTitleSummary.amount,
    ).where(EventTitleSummary.event_id.in_(events))
    live = _line_sums().where(Sale.event_id.in_(events.where(~_closed_now(Event.id))))
    return sa.union_all(summed, live).subquery()


def title_breakdown(session: Session, group: Group, period: Period) -> TitleBreakdown:
    """Return sales per title, per title and currency, and per title and kind of event.

    One ``GROUP BY`` over the period's title sums (summaries of closed events, sale lines of
    open ones) by title, kind of event and currency; window sums over those groups give the
    per-title and per-currency totals, so the database does all the adding in one pass.
    """
    rows = _title_sources(group, period)
    sold = sa.func.sum(rows.c.sold)
    given = sa.func.sum(rows.c.given_away)
    taken = sa.func.sum(rows.c.amount)
    per_title = {"partition_by": Publication.id}
    title_sold = sa.func.sum(sold).over(**per_title)
    title_given = sa.func.sum(given).over(**per_title)
    currency_taken = sa.func.sum(taken).over(partition_by=(Publication.id, rows.c.currency))
    currency_sold = sa.func.sum(sold).over(partition_by=(Publication.id, rows.c.currency))
    kind_sold = sa.func.sum(sold).over(partition_by=(Publication.id, Event.kind))
    kind_given = sa.func.sum(given).over(partition_by=(Publication.id, Event.kind))
    query = (
        sa.select(
            Publication.id,
            _title_label(),
            Event.kind,
            rows.c.currency,
            title_sold,
            title_given,
            currency_sold,
            currency_taken,
            kind_sold,
            kind_given,
        )
        .select_from(rows)
        .join(Event, Event.id == rows.c.event_id)
        .join(Publication, Publication.id == rows.c.publication_id)
        .group_by(Publication.id, *_TITLE_GROUP, Event.kind, rows.c.currency)
        .order_by(title_sold.desc(), title_given.desc(), *_TITLE_GROUP, Publication.id, Event.kind)
    )
    breakdown = TitleBreakdown([], [], [])
    seen_titles, seen_money, seen_kinds = set(), set(), set()
    for (
        pid,
        title,
        kind,
        currency,
        t_sold,
        t_given,
        c_sold,
        c_taken,
        k_sold,
        k_given,
    ) in session.execute(query):
        if pid not in seen_titles:
            seen_titles.add(pid)
            breakdown.titles.append(TitleSales(pid, title, int(t_sold), int(t_given)))
        if (pid, currency) not in seen_money and c_sold:
            seen_money.add((pid, currency))
            breakdown.money.append(TitleMoney(pid, title, currency, int(c_taken)))
        if (pid, kind) not in seen_kinds:
            seen_kinds.add((pid, kind))
            breakdown.by_kind.append(KindSales(title, EventKind(kind), int(k_sold), int(k_given)))
    breakdown.money.sort(key=lambda row: (row.title, row.publication_id, row.currency))
    breakdown.by_kind.sort(key=lambda row: (row.title, list(EventKind).index(row.event_kind)))
    return breakdown


def sales_by_title(session: Session, group: Group, period: Period) -> list[TitleSales]:
    """Return copies sold and given away per title over the period, most sold first."""
    return title_breakdown(session, group, period).titles


def money_by_title(session: Session, group: Group, period: Period) -> list[TitleMoney]:
    """Return money taken per title and currency over the period."""
    return title_breakdown(session, group, period).money


def sales_by_event_kind(session: Session, group: Group, period: Period) -> list[KindSales]:
    """Return copies sold and given away per title and kind of event (stall, meeting...)."""
    return title_breakdown(session, group, period).by_kind


@dataclass
class MonthMoney:
    month: str
    currency: str
    sales: int
    donations: int
    subscriptions: int
    total: int


def _money_sources(group: Group, period: Period):
    """The period's money, per event, kind and currency: the summaries of closed events and the
    live sales of open ones, in one union."""
    events = _events_in(group, period)
    summed = sa.select(
        EventMoneySummary.event_id,
        EventMoneySummary.currency,
        EventMoneySummary.kind,
        EventMoneySummary.amount,
    ).where(EventMoneySummary.event_id.in_(events))
    live = _money_sums().where(Sale.event_id.in_(events.where(~_closed_now(Event.id))))
    return sa.union_all(summed, live).subquery()


def money_by_month(session: Session, group: Group, period: Period) -> list[MonthMoney]:
    """Return money per month (of the event's start, UTC) and currency, per kind and in all."""
    month = year_month(Event.starts_at)
    money = _money_sources(group, period)

    def of(kind: SaleKind):
        return sa.func.sum(sa.case((money.c.kind == kind, money.c.amount), else_=0))

    rows = session.execute(
        sa.select(
            month,
            money.c.currency,
            of(SaleKind.SALE),
            of(SaleKind.DONATION),
            of(SaleKind.SUBSCRIPTION),
            sa.func.sum(money.c.amount),
        )
        .select_from(money)
        .join(Event, Event.id == money.c.event_id)
        .group_by(month, money.c.currency)
        .order_by(money.c.currency, month)
    )
    return [MonthMoney(m, c, int(s), int(d), int(sub), int(t)) for m, c, s, d, sub, t in rows]


@dataclass
class KindCount:
    kind: EventKind
    held: int
    closed_out: int


def events_held(session: Session, group: Group, period: Period) -> list[KindCount]:
    """Return how many events of each kind took place in the period, and how many are closed
    out (events still to come are not counted)."""
    closed = sa.case((EventCloseOut.id.is_not(None), 1), else_=0)
    rows = session.execute(
        sa.select(Event.kind, sa.func.count(Event.id), sa.func.sum(closed))
        .outerjoin(
            EventCloseOut,
            sa.and_(EventCloseOut.event_id == Event.id, EventCloseOut.reopened_at.is_(None)),
        )
        .where(Event.id.in_(_events_in(group, period)), Event.starts_at <= utcnow())
        .group_by(Event.kind)
        .order_by(Event.kind)
    )
    return [KindCount(EventKind(kind), int(n), int(c or 0)) for kind, n, c in rows]


@dataclass
class EventLine:
    event_id: int
    title: str
    kind: EventKind
    starts_at: datetime
    timezone: str
    closed: bool


def recent_events(
    session: Session, group: Group, period: Period, limit: int | None = 20
) -> list[EventLine]:
    """Return the period's events that took place, latest first, with whether each is closed."""
    query = (
        sa.select(
            Event.id,
            Event.title,
            Event.kind,
            Event.starts_at,
            Event.timezone,
            EventCloseOut.id.is_not(None),
        )
        .outerjoin(
            EventCloseOut,
            sa.and_(EventCloseOut.event_id == Event.id, EventCloseOut.reopened_at.is_(None)),
        )
        .where(Event.id.in_(_events_in(group, period)), Event.starts_at <= utcnow())
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        EventLine(i, t, EventKind(k), s, z, bool(c)) for i, t, k, s, z, c in session.execute(query)
    ]


@dataclass
class EventMoney:
    event_id: int
    title: str
    starts_at: datetime
    kind: EventKind
    currency: str
    amount: int


def money_by_event(session: Session, group: Group, period: Period) -> list[EventMoney]:
    """Return money taken per event and currency (all kinds, undos subtracted)."""
    money = _money_sources(group, period)
    rows = session.execute(
        sa.select(
            Event.id,
            Event.title,
            Event.starts_at,
            Event.kind,
            money.c.currency,
            sa.func.sum(money.c.amount),
        )
        .select_from(money)
        .join(Event, Event.id == money.c.event_id)
        .group_by(Event.id, Event.title, Event.starts_at, Event.kind, money.c.currency)
        .order_by(Event.starts_at, Event.id, money.c.currency)
    )
    return [EventMoney(i, t, s, EventKind(k), c, int(a)) for i, t, s, k, c, a in rows]


@dataclass
class StockLine:
    publication_id: int
    title: str
    store: str | None
    copies: int
    total: int
    reorder_level: int

    @property
    def to_reprint(self) -> bool:
        return stock.needs_reprint(self.total, self.reorder_level)


def stock_on_hand(session: Session, group: Group) -> list[StockLine]:
    """Return copies per store and title now, titles to reprint first.

    A title with no copies anywhere still shows once (without a store), so it can be reprinted.
    """
    flows = stock._holding_flows(Place.STORE, group.id)
    per_store = (
        sa.select(
            flows.c.holder_id.label("store_id"),
            flows.c.publication_id.label("publication_id"),
            sa.func.sum(flows.c.quantity).label("copies"),
        )
        .group_by(flows.c.holder_id, flows.c.publication_id)
        .subquery()
    )
    per_title = (
        sa.select(
            per_store.c.publication_id.label("publication_id"),
            sa.func.sum(per_store.c.copies).label("total"),
        )
        .group_by(per_store.c.publication_id)
        .subquery()
    )
    total = sa.func.coalesce(per_title.c.total, 0)
    rows = session.execute(
        sa.select(
            Publication.id,
            _title_label(),
            Store.name,
            sa.func.coalesce(per_store.c.copies, 0),
            total,
            Publication.reorder_level,
        )
        .outerjoin(per_title, per_title.c.publication_id == Publication.id)
        .outerjoin(
            per_store,
            sa.and_(per_store.c.publication_id == Publication.id, per_store.c.copies != 0),
        )
        .outerjoin(Store, Store.id == per_store.c.store_id)
        .where(Publication.group_id == group.id, Publication.active.is_(True))
        .order_by(
            sa.case((stock.needs_reprint_clause(total, Publication.reorder_level), 0), else_=1),
            *_TITLE_GROUP,
            Publication.id,
            Store.name,
        )
    )
    return [
        StockLine(pid, title, store, int(n), int(t), level)
        for pid, title, store, n, t, level in rows
    ]


def volunteer_hours(session: Session, group: Group, period: Period) -> list[StaffRow]:
    """Return shifts and hours per member over the period, most hours first."""
    start, end = period.bounds(group.timezone)
    minutes = sa.func.sum(minutes_between(Shift.starts_at, Shift.ends_at))
    rows = session.execute(
        _staffing(
            sa.and_(Shift.group_id == group.id, Shift.starts_at >= start, Shift.starts_at < end)
        ).order_by(minutes.desc(), User.name)
    )
    return [StaffRow(uid, name, int(n), int(m or 0)) for uid, name, n, m in rows]


@dataclass
class UnfilledShift:
    shift_id: int
    event_id: int
    event_title: str
    role: str
    custom_role: str
    starts_at: datetime
    timezone: str
    needed: int
    filled: int

    @property
    def missing(self) -> int:
        return self.needed - self.filled


def _unfilled_query(group: Group, period: Period) -> sa.Select:
    start, end = period.bounds(group.timezone)
    filled = (
        sa.select(sa.func.count(Assignment.id))
        .where(Assignment.shift_id == Shift.id, Assignment.withdrawn_at.is_(None))
        .correlate(Shift)
        .scalar_subquery()
    )
    return (
        sa.select(
            Shift.id,
            Event.id,
            Event.title,
            Shift.role,
            Shift.custom_role,
            Shift.starts_at,
            Event.timezone,
            Shift.people_needed,
            filled.label("filled"),
        )
        .join(Event, Event.id == Shift.event_id)
        .where(
            Shift.group_id == group.id,
            Shift.cancelled_at.is_(None),
            Event.status != EventStatus.CANCELLED,
            Shift.starts_at >= start,
            Shift.starts_at < end,
            filled < Shift.people_needed,
        )
        .order_by(Shift.starts_at, Shift.id)
    )


def unfilled_shifts(
    session: Session, group: Group, period: Period, limit: int | None = None
) -> list[UnfilledShift]:
    """Return the period's shifts with fewer people than needed, soonest first."""
    query = _unfilled_query(group, period)
    if limit is not None:
        query = query.limit(limit)
    return [
        UnfilledShift(sid, eid, title, str(role), custom, starts, zone, needed, int(filled))
        for sid, eid, title, role, custom, starts, zone, needed, filled in session.execute(query)
    ]


def unfilled_totals(session: Session, group: Group, period: Period) -> tuple[int, int]:
    """Return (shifts short, places missing) over the period, in one query."""
    short = _unfilled_query(group, period).order_by(None).subquery()
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(short.c.people_needed - short.c.filled), 0),
        ).select_from(short)
    ).one()
    return int(row[0]), int(row[1])


@dataclass
class GroupReport:
    group: Group
    period: Period
    titles: list[TitleSales]
    title_money: dict[int, list[TitleMoney]]
    by_kind: list[KindSales]
    months: list[MonthMoney]
    held: list[KindCount]
    events: list[EventLine]
    stock: list[StockLine]
    volunteers: list[StaffRow]
    unfilled: list[UnfilledShift]
    unfilled_count: tuple[int, int]

    @property
    def money_by_currency(self) -> dict[str, int]:
        """Return all the money taken in the period per currency."""
        totals: dict[str, int] = {}
        for row in self.months:
            totals[row.currency] = totals.get(row.currency, 0) + row.total
        return dict(sorted(totals.items()))

    @property
    def to_reprint(self) -> list[str]:
        """Return the titles to reprint, once each."""
        return list(dict.fromkeys(line.title for line in self.stock if line.to_reprint))


#: Unfilled shifts listed on the page (the CSV has them all).
UNFILLED_ON_PAGE = 50


def group_report(session: Session, group: Group, period: Period) -> GroupReport:
    """Gather the group's report over ``period``: a fixed number of aggregate queries."""
    breakdown = title_breakdown(session, group, period)
    title_money: dict[int, list[TitleMoney]] = {}
    for row in breakdown.money:
        title_money.setdefault(row.publication_id, []).append(row)
    return GroupReport(
        group=group,
        period=period,
        titles=breakdown.titles,
        title_money=title_money,
        by_kind=breakdown.by_kind,
        months=money_by_month(session, group, period),
        held=events_held(session, group, period),
        events=recent_events(session, group, period),
        stock=stock_on_hand(session, group),
        volunteers=volunteer_hours(session, group, period),
        unfilled=unfilled_shifts(session, group, period, limit=UNFILLED_ON_PAGE),
        unfilled_count=unfilled_totals(session, group, period),
    )
