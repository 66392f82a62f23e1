"""Builders for the reports tests: a stall taken through every service the UI uses."""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from stallapp.accounts.models import Group, Role, User
from stallapp.contacts.services import record_contact
from stallapp.database import utcnow
from stallapp.events.models import Event, Registration, RegistrationStatus
from stallapp.qr.models import QrPurpose
from stallapp.qr.services import count_scan, create_qr_code
from stallapp.rota import services as rota
from stallapp.rota.models import Assignment, ShiftRole
from stallapp.sales import services as sales
from stallapp.stock import services as stock
from stallapp.stock.models import Publication, PublicationKind, Store


def operation(kind: str, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, **fields}


def record(session, event: Event, user: User, role: Role, *raw_operations, currency="GBP"):
    """Record operations as the sale screen does and return their results."""
    parsed = [sales.parse_operation(raw, currency) for raw in raw_operations]
    return sales.record_operations(session, event, sales.Seller(user, role), parsed)


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
    morning = rota.add_shift(
        session, stall.event, ShiftRole.STAFFING, start, start + timedelta(hours=3), people_needed=2
    )
    afternoon = rota.add_shift(
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
    cancelled = rota.add_shift(
        session,
        stall.event,
        ShiftRole.SETUP,
        start + timedelta(hours=7),
        start + timedelta(hours=8),
    )
    _place(session, cancelled, stall.organiser)
    rota.cancel_shift(session, cancelled)
    evening = rota.add_shift(
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
