"""Builders shared by the stock and sales tests: a group with a store, titles, an event."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from stallapp.stock import services as stock
from stallapp.stock.models import PublicationKind
from tests.builders import event_row


def screen_url(event):
    """The sale screen of ``event`` (of the ``uk`` group)."""
    return f"/groups/uk/sell/{event.id}"


def tap(client, event, publication, **fields):
    """Post the sale screen's form for ``publication``: one sale at list price unless ``fields``
    say otherwise."""
    data = {
        "operation_id": fields.pop("operation_id", str(uuid.uuid4())),
        "type": fields.pop("type", "sale"),
        "publication_id": str(publication.id),
        **fields,
    }
    return client.post(f"{screen_url(event)}/record", data=data)


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


@pytest.fixture
def organiser(make_user, uk):
    return make_user(name="Olive Organiser", groups={uk: "organiser"})


@pytest.fixture
def member(make_user, uk):
    return make_user(name="Max Member", groups={uk: "member"})


@pytest.fixture
def make_event(db):
    def make(group, title="Peterborough Radical Bookfair", starts_at=None):
        # Under way: an hour in, six to go (a stall is closed out once it has started).
        starts_at = starts_at or datetime.now(UTC) - timedelta(hours=1)
        event = event_row(
            db.session, group, title=title, starts_at=starts_at, venue_name=None, address=None
        )
        db.session.commit()
        return event

    return make


@pytest.fixture
def event(make_event, uk):
    return make_event(uk)


@pytest.fixture
def make_publication(db):
    def make(group, title="Revolutionary Perspectives", prices=None, is_free=False, **extra):
        publication = stock.create_publication(
            db.session,
            group,
            stock.PublicationData(
                title=title,
                kind=extra.pop("kind", PublicationKind.JOURNAL_ISSUE),
                language=extra.pop("language", "en"),
                is_free=is_free,
                prices={} if is_free else (prices if prices is not None else {"GBP": 400}),
                **extra,
            ),
        )
        db.session.commit()
        return publication

    return make


@pytest.fixture
def store(db, uk):
    created = stock.create_store(db.session, uk, "Spare room")
    db.session.commit()
    return created


@pytest.fixture
def stall(db, uk, organiser, store, event, make_publication):
    """The Peterborough stall packed as in journey 3: RP at £4, Aurora free, "1917" at £12."""
    journal = make_publication(uk, "Revolutionary Perspectives", {"GBP": 400, "EUR": 500})
    aurora = make_publication(uk, "Aurora", is_free=True, kind=PublicationKind.BROADSHEET)
    book = make_publication(
        uk,
        "1917",
        {"GBP": 1200, "EUR": 2000, "AUD": 4200, "USD": 2700},
        kind=PublicationKind.BOOK,
    )
    for publication, copies in ((journal, 100), (aurora, 200), (book, 20)):
        stock.receive(db.session, store, publication, copies, organiser, "print run")
    stock.pack_for_event(db.session, store, event, {journal: 20, aurora: 30, book: 5}, organiser)
    db.session.commit()
    return {"journal": journal, "aurora": aurora, "book": book}
