"""Putting the ledger right: reversing an entry, and booking a count's difference.

Nothing is edited or deleted: a correction is one more movement, pointing at what it reverses.
"""

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from stallapp.accounts.models import User
from stallapp.errors import NotAllowed, StallError, ValidationFailed
from stallapp.stock.models import Place, Publication, StockMovement, Store
from stallapp.stock.services import MAX_QUANTITY, lock_store, record_movement, store_level


class AlreadyReversed(StallError):
    code = "already_reversed"


def record_count(
    session: Session, store: Store, publication: Publication, counted: int, user: User, reason: str
) -> StockMovement | None:
    """Book the difference between a count and the ledger's level as an adjustment.

    Returns None when the count agrees with the ledger.

    :raises ValidationFailed: on a negative or non-whole count.
    """
    if (
        not isinstance(counted, int)
        or isinstance(counted, bool)
        or not 0 <= counted <= MAX_QUANTITY
    ):
        raise ValidationFailed(_("The count must be a whole number, 0 or more."), "quantity")
    lock_store(session, store)
    level = store_level(session, store, publication)
    difference = counted - level
    if difference == 0:
        return None
    note = _(
        "Count: %(counted)d, ledger said %(level)d. %(reason)s",
        counted=counted,
        level=level,
        reason=reason,
    )
    if difference > 0:
        return record_movement(
            session,
            publication=publication,
            quantity=difference,
            from_place=Place.ADJUSTMENT,
            to_place=Place.STORE,
            to_store=store,
            user=user,
            note=note,
        )
    return record_movement(
        session,
        publication=publication,
        quantity=-difference,
        from_place=Place.STORE,
        from_store=store,
        to_place=Place.ADJUSTMENT,
        user=user,
        note=note,
    )


def reverse_movement(
    session: Session, movement: StockMovement, user: User, note: str = "", *, for_sale: bool = False
) -> StockMovement:
    """Append the movement that undoes ``movement``: same copies, the other way.

    :raises AlreadyReversed: when it was reversed before (the unique constraint decides races).
    :raises NotAllowed: code ``is_reversal`` for a reversal, ``sale_movement`` for a movement of a
        sale (undo the sale instead).
    """
    if movement.reverses_id is not None:
        raise NotAllowed(_("This entry is itself a correction."), "is_reversal")
    if movement.sale_line_id is not None and not for_sale:
        raise NotAllowed(_("Undo the sale on the sale screen instead."), "sale_movement")
    try:
        with session.begin_nested():
            reversal = record_movement(
                session,
                publication=movement.publication,
                quantity=movement.quantity,
                from_place=movement.to_place,
                from_store=movement.to_store,
                from_event=movement.to_event,
                to_place=movement.from_place,
                to_store=movement.from_store,
                to_event=movement.from_event,
                user=user,
                note=note or _("Correction"),
                sale_line_id=movement.sale_line_id,
                reverses=movement,
            )
    except sa.exc.IntegrityError as error:
        raise AlreadyReversed(_("This entry was already corrected.")) from error
    return reversal
