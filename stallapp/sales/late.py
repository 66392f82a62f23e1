"""Sales that reached a closed-out event: held for an organiser, who books or rejects them.

:func:`stallapp.sales.recording.record_operations` holds them; the close-out page lists them
(:func:`late_sales`) and books them through the usual sale services (:func:`book_late_sale`).
"""

import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Role, User
from stallapp.database import utcnow
from stallapp.errors import EventClosed, NotAllowed, ValidationFailed
from stallapp.events.models import Event
from stallapp.sales.models import LateSale, LateSaleStatus, Sale
from stallapp.sales.operations import Operation
from stallapp.sales.recording import Seller, apply_operation, refusal
from stallapp.sales.till import lock_till
from stallapp.stock import lookups
from stallapp.stock.models import Publication, SubscriptionOffer


def book_late_sale(session: Session, event: Event, late: LateSale, organiser: User) -> Sale:
    """Book a held late sale through the usual sale services, as taken by its member.

    Only the sale is booked; the close-out's count is squared with it by
    :func:`stallapp.reports.closeout.accept_late_sale`, which calls this.

    :raises NotAllowed: code ``already_decided`` when it was accepted or rejected already.
    :raises StallError: whatever the sale services refuse (a title no longer in the
        catalogue, no price in its currency); it then stays held.
    """
    till = lock_till(session, event)
    _check_still_held(session, late)
    operation = Operation.from_json(late.payload)
    # Accepted by an organiser: their authority covers an undo beyond the member's 15 minutes.
    seller = Seller(user=late.user or organiser, role=Role.ORGANISER)
    with session.begin_nested():
        sale, result = apply_operation(session, event, till, seller, operation, late.taken_at)
    _decide(late, LateSaleStatus.ACCEPTED, organiser, "")
    late.sale_id = sale.id
    late.client_operation.sale_id = sale.id
    late.client_operation.result = json.dumps({**result, "late": True})
    session.flush()
    return sale


def reject_late_sale(
    session: Session, event: Event, late: LateSale, organiser: User, note: str
) -> LateSale:
    """Leave a held late sale out of the books for good, saying why.

    :raises NotAllowed: code ``already_decided`` when it was accepted or rejected already.
    :raises ValidationFailed: code ``note_missing`` without a note.
    """
    lock_till(session, event)
    _check_still_held(session, late)
    note = note.strip()
    if not note:
        raise ValidationFailed(_("Say why the late sale is rejected."), "note_missing")
    _decide(late, LateSaleStatus.REJECTED, organiser, note)
    error = EventClosed(_("Rejected by an organiser: %(note)s", note=note), "late_rejected")
    late.client_operation.result = json.dumps(refusal(Operation.from_json(late.payload), error))
    session.flush()
    return late


def _check_still_held(session: Session, late: LateSale) -> None:
    """Read the late sale again now that the till is locked, and refuse it unless still held.

    The caller loaded it before taking the lock: two organisers accepting (or one accepting, one
    rejecting) at the same moment would each see it held and book it twice. Under the lock,
    whoever came second reads the first one's decision.
    """
    session.refresh(late)
    if late.status != LateSaleStatus.HELD:
        raise NotAllowed(_("This late sale was already accepted or rejected."), "already_decided")


def _decide(late: LateSale, status: LateSaleStatus, organiser: User, note: str) -> None:
    late.status = status
    late.decided_by_id = organiser.id
    late.decided_at = utcnow()
    late.note = note[:2000]


def held_count(session: Session, event: Event) -> int:
    """Return how many late sales of the event wait for an organiser."""
    return session.scalar(
        sa.select(sa.func.count(LateSale.id)).where(
            LateSale.event_id == event.id, LateSale.status == LateSaleStatus.HELD
        )
    )


@dataclass
class LateSaleLine:
    """A late sale as the close-out page and the report list it."""

    late: LateSale
    #: What it was: "1 × Aurora 61", "Donation", the subscription's name, "Undo".
    what: str
    #: The amount typed on the phone, if any (None: the list price).
    amount: int | None
    currency: str | None
    operation: Operation


def late_sales(session: Session, event: Event) -> list[LateSaleLine]:
    """Return the event's late sales, held ones first, each oldest first (at most five
    queries, one when there are none)."""
    lates = session.scalars(
        sa.select(LateSale)
        .where(LateSale.event_id == event.id)
        .options(selectinload(LateSale.user), selectinload(LateSale.decided_by))
        .order_by(LateSale.status != LateSaleStatus.HELD, LateSale.taken_at, LateSale.id)
    ).all()
    if not lates:
        return []
    operations = [Operation.from_json(late.payload) for late in lates]
    titles = dict(
        session.execute(
            sa.select(Publication.id, lookups.title_label()).where(
                Publication.id.in_({op.publication_id for op in operations if op.publication_id})
            )
        ).all()
    )
    offers = dict(
        session.execute(
            sa.select(SubscriptionOffer.id, SubscriptionOffer.name).where(
                SubscriptionOffer.id.in_({op.offer_id for op in operations if op.offer_id})
            )
        ).all()
    )
    lines = []
    for late, op in zip(lates, operations, strict=True):
        if op.type in ("sale", "giveaway"):
            what = f"{op.quantity} × {titles.get(op.publication_id, '?')}"
            if op.type == "giveaway":
                what = _("Given away: %(what)s", what=what)
        elif op.type == "donation":
            what = _("Donation")
        elif op.type == "subscription":
            what = offers.get(op.offer_id) or _("Subscription")
        else:
            what = _("Undo of an earlier sale")
        lines.append(LateSaleLine(late, what, op.amount, op.currency, op))
    return lines
