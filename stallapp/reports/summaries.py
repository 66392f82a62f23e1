"""The sums a close-out writes for its event (:class:`EventTitleSummary`,
:class:`EventMoneySummary`), so the group report reads a closed event's few summary rows rather
than all its sale lines: written at the close-out, dropped by a reopen, written again when a late
sale is accepted. Open events are added up live from the same queries."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.events.models import Event
from stallapp.reports.models import EventMoneySummary, EventTitleSummary
from stallapp.reports.sql import signed, standing
from stallapp.sales.models import EventTill, Sale, SaleKind, SaleLine


def line_sums() -> sa.Select:
    """Per standing sale line: its event, title, currency, and copies sold, given away and
    money taken (the columns of :class:`EventTitleSummary`)."""
    return standing(
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


def money_sums() -> sa.Select:
    """Per sale with money (not a give-away): its event, currency, kind and signed amount (the
    columns of :class:`EventMoneySummary`)."""
    return sa.select(
        Sale.event_id.label("event_id"),
        Sale.currency.label("currency"),
        Sale.kind.label("kind"),
        signed(Sale.amount).label("amount"),
    ).where(Sale.kind != SaleKind.GIVEAWAY)


def write_summaries(session: Session, event_ids) -> None:
    """Add up the sale lines and sales of ``event_ids`` (a list or a select of ids) into their
    summaries, replacing any there were. Called with the event's till locked, so the sums are
    those of the books as they stay while the event is closed."""
    drop_summaries(session, event_ids)
    lines = line_sums().where(Sale.event_id.in_(event_ids)).subquery()
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
    money = money_sums().where(Sale.event_id.in_(event_ids)).subquery()
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


def closed_now(event_id) -> sa.Exists:
    """True for an event closed out now (its summaries stand for its sales): its till says so."""
    return sa.exists().where(EventTill.event_id == event_id, EventTill.closed_at.is_not(None))
