"""Copies of each title at an event, as the ledger has them: packed, sold, given away, returned
and unaccounted. The close-out counts against these and the event report shows them."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.events.models import Event
from stallapp.reports.sql import TITLE_GROUP
from stallapp.stock.lookups import title_label
from stallapp.stock.models import Place, Publication, StockMovement


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
#: The figures a title has at an event, in the order of :class:`TitleFigures`.
COLUMNS = ("packed", "sold", "given_away", "returned", "unaccounted")


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
            title_label(),
            Publication.is_free,
            *(sa.func.sum(flows.c[name]) for name in COLUMNS),
        )
        .join(flows, flows.c.publication_id == Publication.id)
        .group_by(Publication.id, *TITLE_GROUP, Publication.is_free)
        .order_by(*TITLE_GROUP, Publication.id)
    )
    return [
        TitleFigures(pid, title, is_free, *(int(value) for value in values))
        for pid, title, is_free, *values in rows
    ]
