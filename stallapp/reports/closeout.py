"""Closing out an event, reopening it, and deciding the late sales held after a close-out.

The close-out books what came back as ledger movements (event → store for the copies counted,
event → adjustment for the ones unaccounted), keeps the cash count in its own tables, and adds up
the event's sales into its summaries. Whether the event is closed is stored once, in
``EventTill.closed_at`` (see :mod:`stallapp.sales.till`): the close-out sets it and a reopen
clears it, both under the till's lock; who did it, when and why is in :class:`CloseOutLogEntry`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import User
from stallapp.database import utcnow
from stallapp.errors import EventClosed, NotAllowed, ValidationFailed
from stallapp.events.models import Event
from stallapp.money import format_money, is_valid_currency
from stallapp.reports.figures import TitleFigures, title_figures
from stallapp.reports.models import (
    CashCount,
    CloseOutAction,
    CloseOutLogEntry,
    EventCloseOut,
    StockCount,
)
from stallapp.reports.sql import signed
from stallapp.reports.summaries import drop_summaries, write_summaries
from stallapp.sales import late as sales_late
from stallapp.sales import till as tills
from stallapp.sales.models import LateSale, LateSaleStatus, PaymentMethod, Sale
from stallapp.stock import corrections
from stallapp.stock import services as stock
from stallapp.stock.models import Place, Publication, StockMovement, Store

#: Most money a cash count may hold, in minor units (as for any amount at the till).
MAX_CASH = stock.MAX_AMOUNT


def close_out_of(session: Session, event: Event) -> EventCloseOut | None:
    """Return the event's close-out (standing or reopened), with its cash counts, or None.

    Whether it stands is the till's to say: :func:`stallapp.sales.till.is_closed`.
    """
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
        sa.select(Sale.currency, sa.func.sum(signed(Sale.amount)))
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


def _check_cash(cash: list[CashEntry], taken: Mapping[str, int]) -> None:
    """Refuse a bad or repeated currency, an amount out of range, and a count that differs
    from the float plus the cash taken without a note saying why."""
    seen = set()
    for entry in cash:
        if not is_valid_currency(entry.currency) or entry.currency in seen:
            raise ValidationFailed(_("Unknown or repeated currency."), "currency")
        seen.add(entry.currency)
        for amount in (entry.float_amount, entry.counted_amount):
            if not isinstance(amount, int) or not 0 <= amount <= MAX_CASH:
                raise ValidationFailed(_("An amount must be between 0 and a million."), "amount")
        expected = entry.float_amount + taken.get(entry.currency, 0)
        if entry.counted_amount != expected and not entry.note.strip():
            raise ValidationFailed(
                _(
                    "The cash differs from the %(expected)s expected: say what happened.",
                    expected=format_money(expected, entry.currency),
                ),
                "cash_difference_needs_note",
            )


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
    :raises ValidationFailed: on a missing or negative count, a bad amount, a store of another
        group, or (code ``cash_difference_needs_note``) cash that differs from the float plus
        the cash taken without a note.
    """
    if not close_out_open(event):
        raise NotAllowed(
            _("The event has not started yet: close it out once it is under way."),
            "not_started",
        )
    till = tills.lock_till(session, event)
    if till.closed_at is not None:
        raise EventClosed(_("This event is already closed out."), "already_closed")
    if store.group_id != event.group_id:
        raise ValidationFailed(_("Choose one of the group's stores."), "other_group")
    figures = title_figures(session, event)
    _check_counts(figures, counts)
    taken = cash_taken(session, event)
    _check_cash(cash, taken)

    existing = close_out_of(session, event)
    if existing is None:
        existing = EventCloseOut(group_id=event.group_id, event_id=event.id)
        session.add(existing)
    existing.store_id = store.id
    existing.closed_by_id = user.id
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
        returned = None
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
    now = utcnow()
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


def reopen(session: Session, event: Event, user: User, reason: str) -> None:
    """Reopen a closed-out event: the count's movements are reversed (the copies are back at
    the event as before the count), sales are allowed again (the group report adds them up live
    until the next close-out, so the summaries go), and the reopen is logged.

    :raises NotAllowed: code ``not_closed`` when the event is not closed out.
    :raises ValidationFailed: code ``reason_missing`` without a reason.
    """
    till = tills.lock_till(session, event)
    if till.closed_at is None:
        raise NotAllowed(_("This event is not closed out."), "not_closed")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the event is reopened."), "reason_missing")
    counts = session.scalars(
        sa.select(StockCount)
        .join(EventCloseOut, EventCloseOut.id == StockCount.close_out_id)
        .where(EventCloseOut.event_id == event.id, StockCount.current.is_(True))
        .options(
            selectinload(StockCount.return_movement).selectinload(StockMovement.publication),
            selectinload(StockCount.adjustment_movement).selectinload(StockMovement.publication),
        )
    ).all()
    for count in counts:
        for movement in (count.return_movement, count.adjustment_movement):
            if movement is not None:
                corrections.reverse_movement(session, movement, user, _("Event reopened"))
        count.current = False
    now = utcnow()
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


# Late sales held after a close-out -----------------------------------------------------------


def accept_late_sale(session: Session, event: Event, late: LateSale, user: User) -> Sale:
    """Book a held late sale, and square the close-out's count with it (see
    :func:`_book_and_square`).

    :raises NotAllowed: code ``already_decided``.
    :raises StallError: when the sale services refuse the sale; nothing is booked then.
    """
    (sale,) = _book_and_square(session, event, [late], user)
    return sale


def accept_held_late_sales(session: Session, event: Event, user: User) -> int:
    """Book every late sale of the event still held, oldest first; return how many.

    The list is read under the till's lock, so sales another organiser decided a moment ago
    are not booked again.

    :raises StallError: when the sale services refuse one; nothing is booked then.
    """
    tills.lock_till(session, event)
    held = [
        line.late
        for line in sales_late.late_sales(session, event)
        if line.late.status == LateSaleStatus.HELD
    ]
    _book_and_square(session, event, held, user)
    return len(held)


def _book_and_square(
    session: Session, event: Event, lates: Sequence[LateSale], user: User
) -> list[Sale]:
    """Book late sales, then square the close-out's count with all of them at once.

    The close-out counted the copies without these sales, so it booked them as unaccounted (or
    found fewer than it should have). For each title the sales move, the count's difference is
    booked again: its adjustment is reversed and the new difference booked in its place, so the
    report shows the copies as sold rather than unaccounted, the event's level stays at 0, and a
    reopen still reverses exactly what the count booked. The event's summaries are added up
    again with the sales in them. A reopened event has no count to square.
    """
    till = tills.lock_till(session, event)  # the levels read next must not change under us
    closed = till.closed_at is not None
    before = stock.event_levels(session, event) if closed else {}
    booked = [sales_late.book_late_sale(session, event, late, user) for late in lates]
    if not closed or not booked:
        return booked
    close_out_row = close_out_of(session, event)
    after = stock.event_levels(session, event)
    changed = {
        publication_id: after.get(publication_id, 0) - before.get(publication_id, 0)
        for publication_id in sorted(set(before) | set(after))
    }
    changed = {publication_id: delta for publication_id, delta in changed.items() if delta}
    if close_out_row is not None and changed:
        _square_counts(session, event, close_out_row, changed, user)
    write_summaries(session, [event.id])
    return booked


def _square_counts(
    session: Session,
    event: Event,
    close_out_row: EventCloseOut,
    changed: Mapping[int, int],
    user: User,
) -> None:
    """Book the close-out's difference again for each title whose ledger figure late sales
    changed, by ``changed[publication id]`` copies."""
    counts = {
        count.publication_id: count
        for count in session.scalars(
            sa.select(StockCount)
            .where(
                StockCount.close_out_id == close_out_row.id,
                StockCount.publication_id.in_(changed),
                StockCount.current.is_(True),
            )
            .options(selectinload(StockCount.adjustment_movement))
        )
    }
    publications = {
        publication.id: publication
        for publication in session.scalars(
            sa.select(Publication).where(Publication.id.in_(changed))
        )
    }
    for publication_id, delta in changed.items():
        count = counts.get(publication_id)
        if count is None:
            # A title sold though never packed: the count found none of it, as expected now.
            count = StockCount(
                close_out_id=close_out_row.id, publication_id=publication_id, expected=0, counted=0
            )
            session.add(count)
        elif count.adjustment_movement is not None:
            corrections.reverse_movement(
                session,
                count.adjustment_movement,
                user,
                _("A late sale was accepted: the close-out's difference is booked again"),
            )
        count.expected += delta
        movement = _book_difference(
            session, event, publications[publication_id], count.expected - count.counted, user
        )
        count.adjustment_movement_id = movement.id if movement else None
    session.flush()


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
