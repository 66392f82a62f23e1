"""Demo catalogue and stock from the groups' public pages (prices from the seed's publications
page; per-issue journal prices are demo values). Loaded by ``flask demo-data``, idempotently."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group, User
from stallapp.events.models import Event
from stallapp.stock import public_settings, services
from stallapp.stock.lookups import publication_named
from stallapp.stock.models import PublicationKind, StockMovement, Store

UK_HOW_TO_ORDER = (
    "Order by email: ask us for our bank details, or donate the cost of the publications via "
    "Paypal. Please add postage. In the UK, paying direct to our bank account, first class "
    "postage is free; via Paypal add £2. For Europe a copy of “1917” with postage is €20, for "
    "Australia $42 (AUD), for the USA and anywhere else $27 (USD)."
)

# group slug → (title, kind, language, issue number, issue date, free, prices)
DEMO_TITLES = {
    "uk": [
        (
            "Revolutionary Perspectives",
            PublicationKind.JOURNAL_ISSUE,
            "en",
            "No. 23",
            date(2024, 2, 1),
            False,
            {"GBP": 400, "EUR": 500},
        ),
        (
            "Revolutionary Perspectives",
            PublicationKind.JOURNAL_ISSUE,
            "en",
            "No. 24",
            date(2024, 9, 1),
            False,
            {"GBP": 400, "EUR": 500},
        ),
        ("Aurora", PublicationKind.BROADSHEET, "en", "", date(2024, 8, 1), True, {}),
        (
            "1917",
            PublicationKind.BOOK,
            "en",
            "",
            None,
            False,
            {"GBP": 1200, "EUR": 2000, "AUD": 4200, "USD": 2700},
        ),
    ],
    "nyc": [
        ("Aurora", PublicationKind.BROADSHEET, "en", "", date(2024, 8, 1), True, {}),
        ("1917", PublicationKind.BOOK, "en", "", None, False, {"USD": 2700}),
    ],
    "montreal": [
        ("Mutiny", PublicationKind.BROADSHEET, "en", "", date(2024, 9, 1), True, {}),
        ("Mutinerie", PublicationKind.BROADSHEET, "fr", "", date(2024, 9, 1), True, {}),
    ],
    # The PCInt's leaflets from the seed, given away, in Italian and English.
    "italia": [
        ("Volantino sulla Palestina", PublicationKind.LEAFLET, "it", "", None, True, {}),
        ("Leaflet on Palestine", PublicationKind.LEAFLET, "en", "", None, True, {}),
        (
            "Volantino: manifestazione di Firenze, 26 marzo",
            PublicationKind.LEAFLET,
            "it",
            "",
            None,
            True,
            {},
        ),
        ("Volantino: No Draghi Day", PublicationKind.LEAFLET, "it", "", None, True, {}),
    ],
}
DEMO_STORES = {
    "uk": "Spare room",
    "nyc": "Comrade's closet",
    "montreal": "Local",
    "italia": "Sede",
}
# group slug → copies received per (title, issue number)
DEMO_PRINT_RUNS = {
    "uk": {
        ("Revolutionary Perspectives", "No. 23"): 30,
        ("Revolutionary Perspectives", "No. 24"): 150,
        ("Aurora", ""): 300,
        ("1917", ""): 40,
    },
    "nyc": {("Aurora", ""): 200, ("1917", ""): 15},
    "montreal": {("Mutiny", ""): 100, ("Mutinerie", ""): 200},
    "italia": {
        ("Volantino sulla Palestina", ""): 500,
        ("Leaflet on Palestine", ""): 200,
        ("Volantino: manifestazione di Firenze, 26 marzo", ""): 300,
        ("Volantino: No Draghi Day", ""): 300,
    },
}
DEMO_OFFERS = {
    "uk": [
        (
            "Joint subscription",
            "Revolutionary Perspectives (3 issues) and Aurora (at least 4 issues)",
            {"GBP": 1500, "EUR": 2400, "USD": 3000},
        ),
        (
            "Supporter’s joint subscription",
            "The joint subscription plus priority mailings of Aurora and other free pamphlets",
            {"GBP": 2500, "EUR": 3600},
        ),
    ],
}
PETERBOROUGH = "Peterborough Radical Bookfair"


def load_demo_stock(session: Session, groups: dict[str, Group], organiser: User | None) -> None:
    """Create the demo titles, stores, print runs and offers that do not exist yet, and pack the
    next Peterborough stall of ``uk`` (when the events' demo data made it) if nothing is packed."""
    for slug, titles in DEMO_TITLES.items():
        group = groups[slug]
        for title, kind, language, issue, issued, free, prices in titles:
            if publication_named(session, group, title, issue) is None:
                services.create_publication(
                    session,
                    group,
                    services.PublicationData(
                        title=title,
                        kind=kind,
                        language=language,
                        issue_number=issue,
                        issue_date=issued,
                        is_free=free,
                        prices=prices,
                        reorder_level=10,
                    ),
                )
        store = session.scalar(
            sa.select(Store).where(Store.group_id == group.id, Store.name == DEMO_STORES[slug])
        )
        if store is None:
            store = services.create_store(session, group, DEMO_STORES[slug])
            for (title, issue), copies in DEMO_PRINT_RUNS[slug].items():
                publication = publication_named(session, group, title, issue)
                services.receive(session, store, publication, copies, organiser, "Print run")
        if not services.subscription_offers_of(session, group):
            for name, description, prices in DEMO_OFFERS.get(slug, []):
                services.save_subscription_offer(
                    session, group, name=name, description=description, prices=prices
                )
    if public_settings.catalogue_settings(session, groups["uk"]) is None:
        public_settings.save_how_to_order(session, groups["uk"], UK_HOW_TO_ORDER)
    _pack_peterborough(session, groups["uk"], organiser)
    session.flush()


def _pack_peterborough(session: Session, uk: Group, organiser: User | None) -> None:
    """Pack journey 3's stock for the next Peterborough stall, once."""
    event = session.scalar(
        sa.select(Event)
        .where(Event.group_id == uk.id, Event.title == PETERBOROUGH)
        .order_by(Event.starts_at.desc())
        .limit(1)
    )
    if event is None:
        return
    packed = session.scalar(
        sa.select(StockMovement.id).where(StockMovement.to_event_id == event.id).limit(1)
    )
    if packed is not None:
        return
    store = session.scalar(
        sa.select(Store).where(Store.group_id == uk.id, Store.name == DEMO_STORES["uk"])
    )
    services.pack_for_event(
        session,
        store,
        event,
        {
            publication_named(session, uk, "Revolutionary Perspectives", "No. 24"): 20,
            publication_named(session, uk, "Aurora", ""): 30,
            publication_named(session, uk, "1917", ""): 5,
        },
        organiser,
    )
