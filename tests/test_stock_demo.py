"""The demo catalogue: the seed's titles and prices, a store per group, the Peterborough stall
packed as in journey 3; loading twice adds nothing."""

import sqlalchemy as sa

from stallapp.accounts.models import Group
from stallapp.demo import load_demo_data
from stallapp.events.models import Event
from stallapp.stock import services as stock
from stallapp.stock.models import Publication, StockMovement, Store, SubscriptionOffer


def test_demo_stock(db):
    load_demo_data(db.session)
    db.session.commit()
    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Publication, Store, StockMovement, SubscriptionOffer)
    ]
    load_demo_data(db.session)
    db.session.commit()
    assert counts == [
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Publication, Store, StockMovement, SubscriptionOffer)
    ]

    uk = db.session.scalar(sa.select(Group).where(Group.slug == "uk"))
    book = db.session.scalar(
        sa.select(Publication).where(Publication.group_id == uk.id, Publication.title == "1917")
    )
    assert {p.currency: p.amount for p in book.prices} == {
        "GBP": 1200,
        "EUR": 2000,
        "AUD": 4200,
        "USD": 2700,
    }
    aurora = db.session.scalar(
        sa.select(Publication).where(Publication.group_id == uk.id, Publication.title == "Aurora")
    )
    assert aurora.is_free
    titles = set(db.session.scalars(sa.select(Publication.title)))
    assert {"Mutiny", "Mutinerie", "Revolutionary Perspectives"} <= titles
    assert {g.id for g in db.session.scalars(sa.select(Group))} == set(
        db.session.scalars(sa.select(Store.group_id))
    )

    peterborough = db.session.scalar(
        sa.select(Event).where(
            Event.group_id == uk.id, Event.title == "Peterborough Radical Bookfair"
        )
    )
    levels = stock.event_levels(db.session, peterborough)
    by_title = {
        (p.title, p.issue_number): levels.get(p.id)
        for p in db.session.scalars(sa.select(Publication).where(Publication.group_id == uk.id))
    }
    assert by_title[("Revolutionary Perspectives", "No. 24")] == 20
    assert by_title[("Aurora", "")] == 30
    assert by_title[("1917", "")] == 5
