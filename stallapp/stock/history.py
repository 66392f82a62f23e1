"""The ledger's pages: movements a page at a time, filtered, and which were reversed."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Group
from stallapp.stock.models import StockMovement
from stallapp.times import local_day_start

#: Ledger rows per page: a phone screenful or three, not the whole history.
LEDGER_PER_PAGE = 20


@dataclass(frozen=True)
class LedgerFilter:
    """Which movements the ledger shows: of one store (in or out), of one title, and from one
    local day to another (both included, in the group's zone); None leaves that out."""

    store_id: int | None = None
    publication_id: int | None = None
    first_day: date | None = None
    last_day: date | None = None


def ledger_page(
    session: Session, group: Group, chosen: LedgerFilter, page: int = 1
) -> tuple[list[StockMovement], bool]:
    """Return a page of the group's movements, latest first, that ``chosen`` lets through, and
    whether more follow."""
    query = sa.select(StockMovement).where(StockMovement.group_id == group.id)
    if chosen.store_id is not None:
        query = query.where(
            sa.or_(
                StockMovement.from_store_id == chosen.store_id,
                StockMovement.to_store_id == chosen.store_id,
            )
        )
    if chosen.publication_id is not None:
        query = query.where(StockMovement.publication_id == chosen.publication_id)
    if chosen.first_day is not None:
        since = local_day_start(chosen.first_day, group.timezone)
        query = query.where(StockMovement.created_at >= since)
    if chosen.last_day is not None:
        until = local_day_start(chosen.last_day + timedelta(days=1), group.timezone)
        query = query.where(StockMovement.created_at < until)
    page = min(max(page, 1), 100_000)
    rows = list(
        session.scalars(
            query.options(
                selectinload(StockMovement.publication),
                selectinload(StockMovement.from_store),
                selectinload(StockMovement.to_store),
                selectinload(StockMovement.from_event),
                selectinload(StockMovement.to_event),
                selectinload(StockMovement.created_by),
            )
            .order_by(StockMovement.id.desc())
            .offset((page - 1) * LEDGER_PER_PAGE)
            .limit(LEDGER_PER_PAGE + 1)
        )
    )
    return rows[:LEDGER_PER_PAGE], len(rows) > LEDGER_PER_PAGE


def reversed_ids(session: Session, movement_ids: Iterable[int]) -> set[int]:
    """Return which of ``movement_ids`` have been reversed."""
    ids = list(movement_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            sa.select(StockMovement.reverses_id).where(StockMovement.reverses_id.in_(ids))
        )
    )
