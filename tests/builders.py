"""The one place tests build domain rows.

Two ways to make an event, chosen by what the test is about:

- :func:`event_row` writes a plain ``Event`` row (no events service), for tests of other
  packages that only need an event to hang shifts, sales or sign-ups on;
- :func:`add_event` / :func:`add_meeting` go through the events services, as an organiser's
  form would, for tests where what those services do is part of the story.

The rest build what hangs off an event: registrations, and a stall taken through every
service the UI uses (stock, sales, QR codes, sign-ups, rota) for the reports tests.
"""

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stallapp.accounts.models import Group, Role, User
from stallapp.contacts.services import record_contact
from stallapp.database import utcnow
from stallapp.events import registrations
from stallapp.events import services as events
from stallapp.events.models import (
    Event,
    EventKind,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from stallapp.qr.models import QrPurpose
from stallapp.qr.services import count_scan, create_qr_code
from stallapp.rota import shifts
from stallapp.rota.models import Assignment, ShiftRole
from stallapp.sales import operations as sale_operations
from stallapp.sales import recording as sale_recording
from stallapp.stock import services as stock
from stallapp.stock.models import Publication, PublicationKind, Store
from stallapp.times import local_to_utc, utc_to_local

# Events -----------------------------------------------------------------------------------

#: What a plain stall row holds unless the test says otherwise: a day at the bookfair.
STALL_ROW = {
    "title": "Peterborough Radical Bookfair",
    "hours": 7,
    "venue_name": "The George Alcock Centre",
    "address": "Whittlesey Rd, Stanground, Peterborough",
}
#: Any other kind is an evening meeting, with no venue unless the test gives one.
MEETING_ROW = {"title": "Public meeting", "hours": 2}


def event_row(
    session,
    group: Group,
    *,
    kind: EventKind = EventKind.STALL,
    title: str | None = None,
    starts_at: datetime | None = None,
    local: datetime | None = None,
    ends_at: datetime | None = None,
    hours: float | None = None,
    timezone: str | None = None,
    status: EventStatus = EventStatus.PUBLISHED,
    **columns,
) -> Event:
    """Add a published event row of ``group`` and flush; return it.

    The start is ``starts_at`` (UTC), or ``local`` (a naive wall-clock time in ``timezone``,
    the group's by default), or ``hours`` before ``ends_at``; with none of them, 10:00 local
    ten days from now. Title, length and venue default by kind (:data:`STALL_ROW`,
    :data:`MEETING_ROW`); ``columns`` sets any other column (``venue_name=None`` clears it).
    """
    defaults = STALL_ROW if kind == EventKind.STALL else MEETING_ROW
    timezone = timezone or group.timezone
    hours = defaults["hours"] if hours is None else hours
    if local is not None:
        starts_at = local_to_utc(local, timezone)
    elif starts_at is None and ends_at is not None:
        starts_at = ends_at - timedelta(hours=hours)
    elif starts_at is None:
        day = (utcnow() + timedelta(days=10)).date()
        starts_at = local_to_utc(datetime(day.year, day.month, day.day, 10), timezone)
    venue = {key: defaults[key] for key in ("venue_name", "address") if key in defaults}
    event = Event(
        group_id=group.id,
        public_code=columns.pop("public_code", None) or secrets.token_urlsafe(8),
        kind=kind,
        title=title or defaults["title"],
        starts_at=starts_at,
        ends_at=ends_at or starts_at + timedelta(hours=hours),
        timezone=timezone,
        status=status,
        **{**venue, **columns},
    )
    session.add(event)
    session.flush()
    return event


def meeting_row(session, group: Group, **columns) -> Event:
    """Add a published public meeting taking registrations, a week from now unless ``starts_at``
    or ``ends_at`` says otherwise (the contacts tests' event)."""
    if "starts_at" not in columns and "ends_at" not in columns:
        columns["starts_at"] = utcnow() + timedelta(days=7)
    columns.setdefault("registration_required", True)
    return event_row(session, group, kind=EventKind.PUBLIC_MEETING, **columns)


def details(group: Group, *, start=None, hours=2, **overrides) -> events.EventDetails:
    """Return event details; ``start`` is a naive local time (default: a week from now, 18:00)."""
    if start is None:
        day = utc_to_local(utcnow(), group.timezone).date() + timedelta(days=7)
        start = datetime.combine(day, datetime.min.time()).replace(hour=18)
    values = {
        "kind": EventKind.PUBLIC_MEETING,
        "title": "Public meeting",
        "timezone": group.timezone,
        "start": start,
        "end": start + timedelta(hours=hours),
        "venue_name": "Peculier Pub",
        "address": "145 Bleecker St, New York",
        "postcode": "10012",
    }
    values.update(overrides)
    return events.EventDetails(**values)


def add_event(db, group: Group, *, publish=True, start=None, hours=2, **overrides) -> Event:
    """Create (and by default publish) an event of ``group`` through the service and commit."""
    event = events.create_event(
        db.session, group, details(group, start=start, hours=hours, **overrides), publish=publish
    )
    db.session.commit()
    return event


def add_meeting(db, group: Group, *, capacity=2, **overrides) -> Event:
    """A published meeting with registration on and ``capacity`` places."""
    return add_event(db, group, registration_required=True, capacity=capacity, **overrides)


# Registrations ----------------------------------------------------------------------------


def register(db, event: Event, email: str, name="Reg Istrant", note=""):
    """Register through the service and commit; return the result (with its cancel token)."""
    result = registrations.register(
        db.session,
        event,
        name=name,
        email=email,
        note=note,
        consent_text="I agree.",
    )
    db.session.commit()
    return result


def add_registration(
    db, event: Event, *, email: str, name="Reg Istrant", contact=None, note="vegetarian"
) -> Registration:
    """Add a registration row, as the events package would (with a cancel-link hash), and flush."""
    registration = Registration(
        event_id=event.id,
        contact_id=contact.id if contact is not None else None,
        status=RegistrationStatus.REGISTERED,
        name=name,
        email=email,
        note=note,
        consent_text="I agree to be contacted about this event.",
        cancel_token_hash=secrets.token_hex(32),
    )
    db.session.add(registration)
    db.session.flush()
    return registration


# A stall taken through every service the UI uses (the reports tests) ----------------------


def operation(kind: str, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, **fields}


def record(session, event: Event, user: User, role: Role, *raw_operations, currency="GBP"):
    """Record operations as the sale screen does and return their results."""
    parsed = [sale_operations.parse_operation(raw, currency) for raw in raw_operations]
    return sale_recording.record_operations(
        session, event, sale_recording.Seller(user, role), parsed
    )


@dataclass
class Stall:
    group: Group
    event: Event
    store: Store
    organiser: User
    member: User
    titles: dict[str, Publication] = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)


def build_stall(db, group: Group, organiser: User, member: User, event: Event) -> Stall:
    """Receive, pack and sell at ``event`` through the services, as journey 3 and 4 do.

    Packed: 20 journals (£4 / €5), 30 Aurora (free), 5 × "1917" (£12), 2 × "Bordiga" (£2).
    At the till: 3 journals cash, 1 journal in euros, 2 books (one card, one "pay what you can"
    £10 cash), Aurora 10 given + 2 tapped as a sale (a free title is given), 3 Bordiga (one more
    than packed), 2 journals sold then undone, donations £5 cash and £3 card, a joint sub £15
    cash with a consenting subscriber, a joint sub €24 paid "other".
    """
    session = db.session
    store = stock.create_store(session, group, "Spare room")
    titles = {}
    for key, title, kind, prices, free in (
        (
            "journal",
            "Revolutionary Perspectives 23",
            PublicationKind.JOURNAL_ISSUE,
            {"GBP": 400, "EUR": 500},
            False,
        ),
        ("aurora", "Aurora 61", PublicationKind.BROADSHEET, {}, True),
        ("book", "1917", PublicationKind.BOOK, {"GBP": 1200}, False),
        ("pamphlet", "Bordiga", PublicationKind.PAMPHLET, {"GBP": 200}, False),
    ):
        titles[key] = stock.create_publication(
            session,
            group,
            stock.PublicationData(
                title=title, kind=kind, language="en", is_free=free, prices=prices
            ),
        )
    for key, copies in (("journal", 100), ("aurora", 200), ("book", 20), ("pamphlet", 10)):
        stock.receive(session, store, titles[key], copies, organiser, "print run")
    stock.pack_for_event(
        session,
        store,
        event,
        {titles["journal"]: 20, titles["aurora"]: 30, titles["book"]: 5, titles["pamphlet"]: 2},
        organiser,
    )
    offer = stock.save_subscription_offer(
        session, group, name="Joint sub", description="", prices={"GBP": 1500, "EUR": 2400}
    )
    session.commit()

    stall = Stall(group, event, store, organiser, member, titles)
    mistaken = operation("sale", publication_id=titles["journal"].id, quantity=2)
    results = record(
        session,
        event,
        member,
        Role.MEMBER,
        operation("sale", publication_id=titles["journal"].id, quantity=3, payment_method="cash"),
        operation(
            "sale",
            publication_id=titles["journal"].id,
            currency="EUR",
            payment_method="cash",
        ),
        operation("sale", publication_id=titles["book"].id, payment_method="card"),
        operation("sale", publication_id=titles["book"].id, amount="10", payment_method="cash"),
        operation("giveaway", publication_id=titles["aurora"].id, quantity=10),
        operation("sale", publication_id=titles["aurora"].id, quantity=2),
        operation("sale", publication_id=titles["pamphlet"].id, quantity=3, payment_method="cash"),
        mistaken,
        operation("undo", target=mistaken["id"]),
        operation("donation", amount="5", payment_method="cash"),
        operation("donation", amount="3", payment_method="card"),
        operation(
            "subscription",
            offer_id=offer.id,
            payment_method="cash",
            subscriber={"name": "Sam Subscriber", "email": "sam@example.org", "consent": True},
        ),
        operation("subscription", offer_id=offer.id, currency="EUR", payment_method="other"),
    )
    assert all(result["status"] == "done" for result in results), results
    session.commit()
    stall.results = {"results": results}
    return stall


def add_outreach(db, stall: Stall) -> None:
    """Two QR codes of the event scanned 5 times, a confirmed sign-up through one and an
    unconfirmed one, 2 registrations (and one cancelled), and a sign-up of another event; the
    unconfirmed and the other event's must not count."""
    session = db.session
    table_card = create_qr_code(session, stall.group, QrPurpose.EVENT, "table card", stall.event)
    create_qr_code(session, stall.group, QrPurpose.EVENT, "leaflet", stall.event)
    for _ in range(3):
        count_scan(session, table_card.code)
    reader = record_contact(
        session,
        stall.group,
        email="reader@example.org",
        source_event_id=stall.event.id,
        source_qr_code_id=table_card.id,
    )
    reader.confirmed_at = utcnow()
    # Signed up at the table but never confirmed the address: not counted.
    record_contact(
        session,
        stall.group,
        email="typo@example.org",
        source_event_id=stall.event.id,
        source_qr_code_id=table_card.id,
    )
    record_contact(session, stall.group, email="elsewhere@example.org")
    for index, status in enumerate(
        (RegistrationStatus.REGISTERED, RegistrationStatus.REGISTERED, RegistrationStatus.CANCELLED)
    ):
        session.add(
            Registration(
                event_id=stall.event.id,
                status=status,
                name=f"Person {index}",
                email=f"person{index}@example.org",
            )
        )
    session.commit()


def add_rota(db, stall: Stall) -> None:
    """A 3-hour morning shift for two (member and organiser) and a 4-hour afternoon one for
    the member; a withdrawn member and a cancelled shift that must not count."""
    session = db.session
    start = stall.event.starts_at
    morning = shifts.add_shift(
        session, stall.event, ShiftRole.STAFFING, start, start + timedelta(hours=3), people_needed=2
    )
    afternoon = shifts.add_shift(
        session,
        stall.event,
        ShiftRole.PACKDOWN,
        start + timedelta(hours=3),
        start + timedelta(hours=7),
    )
    # The stall is under way: its shifts have started and take no sign-ups, so the places are
    # written as they were taken beforehand.
    _place(session, morning, stall.member)
    _place(session, morning, stall.organiser)
    _place(session, afternoon, stall.member)
    cancelled = shifts.add_shift(
        session,
        stall.event,
        ShiftRole.SETUP,
        start + timedelta(hours=7),
        start + timedelta(hours=8),
    )
    _place(session, cancelled, stall.organiser)
    shifts.cancel_shift(session, cancelled)
    evening = shifts.add_shift(
        session,
        stall.event,
        ShiftRole.DRIVER,
        start + timedelta(hours=8),
        start + timedelta(hours=9),
    )
    _place(session, evening, stall.member).withdrawn_at = utcnow()
    session.commit()


def _place(session, shift, user: User) -> Assignment:
    assignment = Assignment(shift=shift, user=user)
    session.add(assignment)
    session.flush()
    return assignment
