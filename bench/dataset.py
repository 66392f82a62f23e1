"""A group's synthetic history, bulk-inserted with SQLAlchemy core (``insert()`` executemany).

Used by the query-budget test (``tests/test_reports_scale.py``) and by ``bench/run.py``. The rows
are what the services would have written — sales with their lines and ledger movements, packs,
donations, subscriptions, shifts — but inserted in bulk: building 100,000 sale lines through
the services would take many minutes. Ids are assigned here so lines and movements can point at
their sales without a round trip; PostgreSQL's sequences are moved past them at the end.
"""

import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group, Membership, Role, User
from stallapp.events.models import Event, EventKind, EventStatus
from stallapp.reports import summaries
from stallapp.reports.models import EventCloseOut
from stallapp.rota.models import Assignment, Shift, ShiftRole
from stallapp.sales.models import EventTill, PaymentMethod, Sale, SaleKind, SaleLine
from stallapp.stock.models import (
    Place,
    Publication,
    PublicationKind,
    PublicationPrice,
    StockMovement,
    Store,
    SubscriptionOffer,
    SubscriptionPrice,
)

CHUNK = 5_000
EVENT_KINDS = [
    EventKind.STALL,
    EventKind.STALL,
    EventKind.STALL,
    EventKind.PUBLIC_MEETING,
    EventKind.DISCUSSION,
    EventKind.INTERVENTION,
]
PUBLICATION_KINDS = list(PublicationKind)
TITLES_PER_EVENT = 10


@dataclass
class History:
    """What was loaded: ids a caller may need (the benchmark's pages, the test's checks)."""

    event_ids: list[int] = field(default_factory=list)
    publication_ids: list[int] = field(default_factory=list)
    store_ids: list[int] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)
    lines: int = 0


def _next_id(session: Session, model) -> int:
    return (session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def _insert(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(sa.insert(model), rows[start : start + CHUNK])


def _move_sequences(session: Session, models) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        # Table names come from the models, never from input.
        statement = f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))"  # noqa: S608, E501
        session.execute(sa.text(statement))


def load_history(
    session: Session,
    group: Group,
    organiser: User,
    *,
    events: int = 500,
    titles: int = 200,
    lines: int = 100_000,
    members: int = 20,
    now: datetime | None = None,
    seed: int = 1917,
    close_out: bool = False,
) -> History:
    """Insert a year of ``group``'s history ending at ``now``; the caller commits.

    With ``close_out``, every event but the latest is closed out, as a group's past events are:
    a close-out row and the summaries the close-out writes (not its stock and cash counts).
    """
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    history = History()
    created = now

    # Members who staff the rota (their password is the organiser's: the bench never logs in
    # as them).
    user_id = _next_id(session, User)
    users = [
        {
            "id": user_id + n,
            "email": f"volunteer{user_id + n}@bench.example.org",
            "name": f"Volunteer {n + 1}",
            "password_hash": "!",
            "created_at": created,
        }
        for n in range(members)
    ]
    _insert(session, User, users)
    membership_id = _next_id(session, Membership)
    _insert(
        session,
        Membership,
        [
            {
                "id": membership_id + n,
                "user_id": row["id"],
                "group_id": group.id,
                "role": Role.MEMBER,
                "created_at": created,
            }
            for n, row in enumerate(users)
        ],
    )
    history.member_ids = [row["id"] for row in users] + [organiser.id]

    store_id = _next_id(session, Store)
    stores = [
        {"id": store_id + n, "group_id": group.id, "name": name, "note": "", "created_at": created}
        for n, name in enumerate(["Spare room", "Lock-up", "Bookshop back room"])
    ]
    _insert(session, Store, stores)
    history.store_ids = [row["id"] for row in stores]

    publication_id = _next_id(session, Publication)
    publications, prices, free = [], [], set()
    for n in range(titles):
        pid = publication_id + n
        is_free = n % 10 == 9
        if is_free:
            free.add(pid)
        publications.append(
            {
                "id": pid,
                "group_id": group.id,
                "title": f"Title {n + 1:03d}",
                "kind": PUBLICATION_KINDS[n % len(PUBLICATION_KINDS)],
                "language": "en",
                "issue_number": "",
                "isbn": "",
                "is_free": is_free,
                "reorder_level": rng.choice([0, 10, 50, 1000]),
                "active": True,
                "created_at": created,
            }
        )
        if not is_free:
            prices.append(
                {"publication_id": pid, "currency": "GBP", "amount": 100 * rng.randint(1, 15)}
            )
            if n % 2:
                prices.append(
                    {"publication_id": pid, "currency": "EUR", "amount": 150 * rng.randint(1, 15)}
                )
    _insert(session, Publication, publications)
    _insert(session, PublicationPrice, prices)
    price_of = {(p["publication_id"], p["currency"]): p["amount"] for p in prices}
    history.publication_ids = [row["id"] for row in publications]

    offer_id = _next_id(session, SubscriptionOffer)
    _insert(
        session,
        SubscriptionOffer,
        [
            {
                "id": offer_id,
                "group_id": group.id,
                "name": "Joint sub",
                "description": "",
                "active": True,
                "created_at": created,
            }
        ],
    )
    _insert(
        session,
        SubscriptionPrice,
        [
            {"offer_id": offer_id, "currency": "GBP", "amount": 1500},
            {"offer_id": offer_id, "currency": "EUR", "amount": 2400},
        ],
    )

    movements = []
    for pid in history.publication_ids:
        for sid in history.store_ids:
            movements.append(
                {
                    "group_id": group.id,
                    "publication_id": pid,
                    "quantity": 2_000,
                    "from_place": Place.OUTSIDE,
                    "to_place": Place.STORE,
                    "to_store_id": sid,
                    "note": "print run",
                    "created_at": created,
                }
            )

    event_id = _next_id(session, Event)
    event_rows, packed = [], {}
    for n in range(events):
        eid = event_id + n
        starts = now - timedelta(days=365) + timedelta(days=365 * n / max(events, 1), hours=10)
        event_rows.append(
            {
                "id": eid,
                "group_id": group.id,
                "public_code": secrets.token_urlsafe(8),
                "kind": EVENT_KINDS[n % len(EVENT_KINDS)],
                "title": f"Event {n + 1}",
                "description": "",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=6),
                "timezone": group.timezone,
                "venue_name": "",
                "address": "",
                "postcode": "",
                "online_url": "",
                "registration_required": False,
                "status": EventStatus.PUBLISHED,
                "created_at": created,
            }
        )
        packed[eid] = rng.sample(history.publication_ids, min(TITLES_PER_EVENT, titles))
        store = history.store_ids[n % len(history.store_ids)]
        for pid in packed[eid]:
            movements.append(
                {
                    "group_id": group.id,
                    "publication_id": pid,
                    "quantity": 30,
                    "from_place": Place.STORE,
                    "from_store_id": store,
                    "to_place": Place.EVENT,
                    "to_event_id": eid,
                    "note": "Packed for the event",
                    "created_at": created,
                }
            )
    _insert(session, Event, event_rows)
    history.event_ids = [row["id"] for row in event_rows]
    starts_of = {row["id"]: row["starts_at"] for row in event_rows}

    sale_id = _next_id(session, Sale)
    line_id = _next_id(session, SaleLine)
    sales, sale_lines = [], []
    for n in range(lines):
        eid = history.event_ids[n % events]
        pid = rng.choice(packed[eid])
        quantity = rng.choice([1, 1, 1, 2, 3])
        currency = "EUR" if n % 20 == 0 and (pid, "EUR") in price_of else "GBP"
        if pid in free:
            kind, method, unit, amount = SaleKind.GIVEAWAY, None, None, 0
        else:
            kind = SaleKind.SALE
            method = PaymentMethod.CASH if n % 3 else PaymentMethod.CARD
            unit = price_of[(pid, currency)]
            amount = unit * quantity
        sid, lid = sale_id + n, line_id + n
        taken = starts_of[eid] + timedelta(minutes=n % 360)
        sales.append(
            {
                "id": sid,
                "group_id": group.id,
                "event_id": eid,
                "kind": kind,
                "currency": currency,
                "amount": amount,
                "payment_method": method,
                "created_by_id": organiser.id,
                "taken_at": taken,
                "created_at": taken,
            }
        )
        sale_lines.append(
            {
                "id": lid,
                "sale_id": sid,
                "publication_id": pid,
                "quantity": quantity,
                "unit_price": unit,
                "amount": amount,
            }
        )
        movements.append(
            {
                "group_id": group.id,
                "publication_id": pid,
                "quantity": quantity,
                "from_place": Place.EVENT,
                "from_event_id": eid,
                "to_place": Place.GIVEN_AWAY if pid in free else Place.SOLD,
                "sale_line_id": lid,
                "note": "",
                "created_at": taken,
            }
        )
    next_sale = sale_id + lines
    for n, eid in enumerate(history.event_ids):
        extras = [(SaleKind.DONATION, None, 500)]
        if n % 5 == 0:
            extras.append((SaleKind.SUBSCRIPTION, offer_id, 1500))
        for kind, offer, amount in extras:
            sales.append(
                {
                    "id": next_sale,
                    "group_id": group.id,
                    "event_id": eid,
                    "kind": kind,
                    "currency": "GBP",
                    "amount": amount,
                    "payment_method": PaymentMethod.CASH,
                    "subscription_offer_id": offer,
                    "created_by_id": organiser.id,
                    "taken_at": starts_of[eid],
                    "created_at": starts_of[eid],
                }
            )
            next_sale += 1
    _insert(session, Sale, sales)
    _insert(session, SaleLine, sale_lines)
    _insert(session, StockMovement, movements)
    history.lines = len(sale_lines)

    shift_id = _next_id(session, Shift)
    shifts, assignments = [], []
    for n, eid in enumerate(history.event_ids):
        for part in range(2):
            start = starts_of[eid] + timedelta(hours=3 * part)
            sid = shift_id + 2 * n + part
            shifts.append(
                {
                    "id": sid,
                    "event_id": eid,
                    "group_id": group.id,
                    "role": ShiftRole.STAFFING,
                    "custom_role": "",
                    "starts_at": start,
                    "ends_at": start + timedelta(hours=3),
                    "people_needed": 2,
                    "notes": "",
                    "created_at": created,
                }
            )
            for user in rng.sample(history.member_ids, rng.choice([1, 2, 2])):
                assignments.append({"shift_id": sid, "user_id": user, "created_at": created})
    _insert(session, Shift, shifts)
    _insert(session, Assignment, assignments)
    if close_out:
        close_out_id = _next_id(session, EventCloseOut)
        _insert(
            session,
            EventCloseOut,
            [
                {
                    "id": close_out_id + n,
                    "group_id": group.id,
                    "event_id": eid,
                    "store_id": history.store_ids[n % len(history.store_ids)],
                    "closed_by_id": organiser.id,
                    "note": "",
                    "created_at": starts_of[eid] + timedelta(hours=6),
                }
                for n, eid in enumerate(history.event_ids[:-1])
            ],
        )
        # Whether an event is closed is its till's to say (see stallapp.sales.till).
        _insert(
            session,
            EventTill,
            [
                {
                    "event_id": eid,
                    "group_id": group.id,
                    "main_currency": group.currency,
                    "default_payment_method": PaymentMethod.CASH,
                    "closed_at": starts_of[eid] + timedelta(hours=6),
                    "created_at": starts_of[eid],
                }
                for eid in history.event_ids[:-1]
            ],
        )
        summaries.write_summaries(
            session, sa.select(EventCloseOut.event_id).where(EventCloseOut.group_id == group.id)
        )
    _move_sequences(
        session,
        [
            User,
            Membership,
            Store,
            Publication,
            SubscriptionOffer,
            Event,
            Sale,
            SaleLine,
            Shift,
            EventCloseOut,
            EventTill,
        ],
    )
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # What autovacuum would have done by now on a live database: without statistics the
        # planner takes these freshly filled tables for empty ones.
        session.execute(sa.text("ANALYZE"))
    return history
