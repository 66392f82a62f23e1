"""What the sale screen reads on every load: the last sales, the money taken and the copies out.

Read-only, and each one statement built once and reused with bound parameters (building the
expression trees cost more than running them).
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, aliased

from stallapp.events.models import Event
from stallapp.sales.models import ClientOperation, PaymentMethod, Sale, SaleKind, SaleLine
from stallapp.stock import lookups
from stallapp.stock import services as stock
from stallapp.stock.models import Place, Publication, SubscriptionOffer


@dataclass
class RecentSale:
    """A line of the sale screen's "last sales" (never an undo row), read as a plain row."""

    id: int
    kind: SaleKind
    amount: int
    currency: str
    payment_method: PaymentMethod | None
    created_by_id: int | None
    taken_at: datetime
    undone: bool
    #: The id the phone or form sent, so the screen can undo it offline.
    operation_id: str | None
    #: What it was, in a few words: "1 × Aurora 61", "Donation", the subscription's name.
    what: str = ""
    #: The title and copies when the sale has one line (the screen gives them back on undo).
    publication_id: int | None = None
    quantity: int | None = None


@cache
def _recent_statement() -> sa.Select:
    # Built once: the sale screen runs it on every load.
    # "Not an undo" is written so that no index can serve it: SQLite would otherwise walk the
    # unique index on reverses_id (every sale of the group) instead of the event's sales.
    # What each sale needs from other tables is a correlated subquery rather than a join:
    # PostgreSQL plans this in half the time of six joined tables, and planning was most of it.
    listed = aliased(Sale)
    latest = (
        sa.select(listed.id)
        .where(
            listed.event_id == sa.bindparam("event_id", type_=sa.Integer),
            sa.func.coalesce(listed.reverses_id, 0) == 0,
        )
        .order_by(listed.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    undo = aliased(Sale)
    return (
        sa.select(
            Sale.id,
            Sale.kind,
            Sale.amount,
            Sale.currency,
            Sale.payment_method,
            Sale.created_by_id,
            Sale.taken_at,
            sa.exists().where(undo.reverses_id == Sale.id),
            sa.select(ClientOperation.operation_id)
            .where(ClientOperation.sale_id == Sale.id)
            .limit(1)
            .scalar_subquery(),
            sa.select(SubscriptionOffer.name)
            .where(SubscriptionOffer.id == Sale.subscription_offer_id)
            .scalar_subquery(),
            SaleLine.publication_id,
            SaleLine.quantity,
            lookups.title_label(),
        )
        .outerjoin(SaleLine, SaleLine.sale_id == Sale.id)
        .outerjoin(Publication, Publication.id == SaleLine.publication_id)
        .where(Sale.id.in_(latest))
        .order_by(Sale.id.desc(), SaleLine.id)
    )


def recent_sales(session: Session, event: Event, limit: int = 8) -> list[RecentSale]:
    """Return the event's latest sales, newest first, with what the list shows, in one query."""
    rows = session.execute(_recent_statement(), {"event_id": event.id, "limit": limit})
    sales: dict[int, RecentSale] = {}
    lines: dict[int, list[tuple[int, int, str]]] = {}
    for sid, kind, amount, currency, method, by, taken, undone, op_id, offer, pid, q, title in rows:
        if sid not in sales:
            sales[sid] = RecentSale(sid, kind, amount, currency, method, by, taken, undone, op_id)
            if kind == SaleKind.DONATION:
                sales[sid].what = _("Donation")
            elif kind == SaleKind.SUBSCRIPTION:
                sales[sid].what = offer or _("Subscription")
        if pid is not None:
            lines.setdefault(sid, []).append((pid, q, title))
    for sid, sale_lines in lines.items():
        sales[sid].what = ", ".join(f"{q} × {title}" for _pid, q, title in sale_lines)
        if len(sale_lines) == 1:
            sales[sid].publication_id, sales[sid].quantity = sale_lines[0][:2]
    return list(sales.values())


@dataclass
class MoneyTotal:
    kind: SaleKind
    currency: str
    payment_method: PaymentMethod | None
    amount: int
    count: int


@dataclass
class EventTotals:
    """The running totals the sale screen shows, read together."""

    #: Copies sold and given away (undos subtracted).
    items: dict[Place, int]
    #: Takings per kind, currency and payment method (undos subtracted), by currency then kind.
    money: list[MoneyTotal]
    #: Copies left per title, as :func:`stock.services.event_levels` counts them.
    levels: dict[int, int]


@cache
def _totals_statement() -> sa.CompoundSelect:
    # One statement for the copies left and both totals: the screen and every sync answer show
    # them together. Copies come from the ledger's movements into and out of the event, grouped
    # by title and the place at the other end, money from the sales; the first column says which
    # a row is.
    event_id = sa.bindparam("event_id", type_=sa.Integer)
    flows = stock.event_flows(event_id)
    no_text = sa.cast(sa.null(), sa.String)
    copies = sa.select(
        sa.literal("copies", sa.String).label("part"),
        flows.c.publication_id,
        sa.cast(flows.c.other_place, sa.String).label("kind"),
        no_text.label("currency"),
        no_text.label("payment_method"),
        sa.func.sum(flows.c.quantity).label("amount"),
        sa.cast(sa.null(), sa.Integer).label("count"),
    ).group_by(flows.c.publication_id, flows.c.other_place)
    sign = sa.case((Sale.reverses_id.is_(None), 1), else_=-1)
    money = (
        sa.select(
            sa.literal("money", sa.String),
            sa.cast(sa.null(), sa.Integer),
            sa.cast(Sale.kind, sa.String),
            Sale.currency,
            sa.cast(Sale.payment_method, sa.String),
            sa.func.sum(Sale.amount * sign),
            sa.func.sum(sign),
        )
        .where(Sale.event_id == event_id, Sale.kind != SaleKind.GIVEAWAY)
        .group_by(Sale.kind, Sale.currency, Sale.payment_method)
    )
    return sa.union_all(copies, money)


#: The places copies leave an event for that the totals count (coming back is an undo).
_COUNTED = (Place.SOLD, Place.GIVEN_AWAY)


def event_totals(session: Session, event: Event) -> EventTotals:
    """Return the copies left, the copies out and the money taken at the event, in one query."""
    items = dict.fromkeys(_COUNTED, 0)
    levels: dict[int, int] = {}
    money = []
    for part, publication_id, kind, currency, method, amount, count in session.execute(
        _totals_statement(), {"event_id": event.id}
    ):
        if part == "copies":
            levels[publication_id] = levels.get(publication_id, 0) + int(amount)
            if kind in _COUNTED:
                # Flows are signed from the event's side: copies sold leave it (negative).
                items[Place(kind)] -= int(amount)
        elif count:
            method = PaymentMethod(method) if method is not None else None
            money.append(MoneyTotal(SaleKind(kind), currency, method, int(amount), int(count)))
    money.sort(key=lambda total: (total.currency, total.kind, total.payment_method or ""))
    return EventTotals(items, money, levels)


def money_totals(session: Session, event: Event) -> list[MoneyTotal]:
    """Return the event's takings per kind, currency and payment method (undos subtracted)."""
    return event_totals(session, event).money


def items_out(session: Session, event: Event) -> dict[Place, int]:
    """Return copies sold and given away at the event (undos subtracted), in one query."""
    return event_totals(session, event).items
