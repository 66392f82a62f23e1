"""The sale screen's catalogue kept in memory: read once per change of the group's catalogue, and
never shown after a title, price or offer changed, whoever changed it and however."""

import re

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from stallapp import create_app
from stallapp.accounts.models import Group
from stallapp.events.models import Event
from stallapp.extensions import db as _db
from stallapp.sales.models import Sale
from stallapp.stock import services as stock
from stallapp.stock.models import Publication, PublicationPrice, SubscriptionPrice
from stallapp.stock.sale_catalogue import (
    KEPT_GROUPS,
    forget_kept_catalogues,
    read_sale_catalogue,
    sale_catalogue,
)
from tests.conftest import PASSWORD, base_test_config
from tests.sales_fixtures import screen_url, tap


def screen(client, event) -> str:
    response = client.get(screen_url(event))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def stamp_of(db, group) -> str:
    return db.session.scalar(sa.select(Group.catalogue_stamp).where(Group.id == group.id))


CATALOGUE_READ = re.compile(r"^SELECT (publication|publication_price|subscription_offer)\.")


def reads_of_the_catalogue(statements: list[str]) -> list[str]:
    """The statements that load titles, their prices or offers (the last sales only name them)."""
    return [s for s in statements if CATALOGUE_READ.match(s.lstrip())]


def journal_data(**changes) -> stock.PublicationData:
    data = {"title": "Revolutionary Perspectives", "kind": "journal_issue", "language": "en"}
    return stock.PublicationData(**{**data, "prices": {"GBP": 400, "EUR": 500}, **changes})


def test_a_second_load_reads_no_catalogue_and_a_change_is_read_at_once(
    db, client, login_as, member, event, stall, count_statements
):
    login_as(member)
    forget_kept_catalogues()
    with count_statements() as cold:
        assert "£4.00" in screen(client, event)
    with count_statements() as warm:
        assert "£4.00" in screen(client, event)
    assert len(reads_of_the_catalogue(cold.statements)) == 3
    assert reads_of_the_catalogue(warm.statements) == []
    assert warm.count == cold.count - 3

    stock.update_publication(db.session, stall["journal"], journal_data(prices={"GBP": 450}))
    db.session.commit()
    page = screen(client, event)
    assert "£4.50" in page and "£4.00" not in page


def test_a_price_changed_on_the_organisers_form_shows_on_the_members_next_screen(
    db, app, client, login_as, member, organiser, event, stall
):
    login_as(member)
    assert "£4.00" in screen(client, event)
    organisers_phone = app.test_client()
    organisers_phone.post("/login", data={"email": organiser.email, "password": PASSWORD})
    response = organisers_phone.post(
        f"/groups/uk/stock/publications/{stall['journal'].id}",
        data={
            "title": "Revolutionary Perspectives",
            "issue_number": "No. 25",
            "kind": "journal_issue",
            "language": "en",
            "prices": "GBP 5",
            "reorder_level": "0",
            "active": "y",
        },
    )
    assert response.status_code == 302
    page = screen(client, event)
    assert "Revolutionary Perspectives No. 25" in page
    assert "£5.00" in page and "£4.00" not in page


def test_a_change_committed_by_another_worker_is_seen(db, client, login_as, member, event, stall):
    login_as(member)
    assert "£4.00" in screen(client, event)
    with Session(db.engine) as other_worker:
        journal = other_worker.get(Publication, stall["journal"].id)
        next(price for price in journal.prices if price.currency == "GBP").amount = 475
        other_worker.commit()
    assert "£4.75" in screen(client, event)


def test_a_rolled_back_change_leaves_the_stamp_and_the_screen(
    db, client, login_as, member, event, stall
):
    login_as(member)
    before = stamp_of(db, event.group)
    stock.update_publication(db.session, stall["journal"], journal_data(prices={"GBP": 999}))
    db.session.rollback()
    assert stamp_of(db, event.group) == before
    assert "£4.00" in screen(client, event) and "£9.99" not in screen(client, event)


def test_a_copy_read_with_unsent_changes_is_never_kept_for_others(db, uk, stall):
    """A transaction that reads the catalogue while its own change is still unsent (no flush
    yet), then rolls back, leaves no copy with that change for the next reader."""
    sale_catalogue(db.session, uk)  # kept under the committed stamp
    gbp = next(price for price in stall["journal"].prices if price.currency == "GBP")
    gbp.amount = 999
    pending = sale_catalogue(db.session, uk)
    assert next(t for t in pending.titles if t.id == stall["journal"].id).price_in("GBP") == 999
    db.session.rollback()
    again = sale_catalogue(db.session, db.session.get(Group, uk.id))
    assert next(t for t in again.titles if t.id == stall["journal"].id).price_in("GBP") == 400


def test_a_title_moved_to_another_group_gives_both_a_new_stamp(db, uk, make_group, stall):
    nyc = make_group(slug="nyc", currency="USD")
    before = {group.id: stamp_of(db, group) for group in (uk, nyc)}
    stall["book"].group_id = nyc.id
    db.session.commit()
    assert all(stamp_of(db, group) != before[group.id] for group in (uk, nyc))


@pytest.mark.parametrize(
    "change",
    [
        "new title",
        "rename",
        "new price",
        "price amount",
        "price removed",
        "retired",
        "new offer",
        "offer price",
        "offer retired",
        "price deleted alone",
        "bulk update",
        "bulk insert",
        "bulk delete",
    ],
)
def test_every_change_to_titles_prices_or_offers_gives_a_new_stamp(
    db, uk, make_group, make_publication, stall, change
):
    other_group = make_group(slug="nyc", currency="USD")
    offer = stock.save_subscription_offer(
        db.session, uk, name="Joint", description="", prices={"GBP": 1500}
    )
    db.session.commit()
    journal = stall["journal"]
    before, others_before = stamp_of(db, uk), stamp_of(db, other_group)
    if change == "new title":
        make_publication(uk, "Aurora 61")
    elif change == "rename":
        stock.update_publication(db.session, journal, journal_data(title="Revolutionary P."))
    elif change == "new price":
        stock.update_publication(db.session, journal, journal_data(prices={"GBP": 400, "USD": 6}))
    elif change == "price amount":
        stock.update_publication(db.session, journal, journal_data(prices={"GBP": 401, "EUR": 500}))
    elif change == "price removed":
        stock.update_publication(db.session, journal, journal_data(prices={"GBP": 400}))
    elif change == "retired":
        stock.update_publication(db.session, journal, journal_data(active=False))
    elif change == "new offer":
        stock.save_subscription_offer(
            db.session, uk, name="Aurora", description="", prices={"GBP": 5}
        )
    elif change == "offer price":
        stock.save_subscription_offer(
            db.session, uk, name="Joint", description="", prices={"GBP": 1600}, offer=offer
        )
    elif change == "offer retired":
        stock.save_subscription_offer(
            db.session,
            uk,
            name="Joint",
            description="",
            prices={"GBP": 1500},
            offer=offer,
            active=False,
        )
    elif change == "price deleted alone":
        db.session.delete(db.session.scalar(sa.select(SubscriptionPrice)))
    elif change == "bulk update":
        db.session.execute(sa.update(PublicationPrice).values(amount=PublicationPrice.amount + 1))
    elif change == "bulk insert":
        db.session.execute(
            sa.insert(PublicationPrice).values(publication_id=journal.id, currency="CAD", amount=9)
        )
    elif change == "bulk delete":
        db.session.execute(sa.delete(PublicationPrice).where(PublicationPrice.currency == "EUR"))
    db.session.commit()
    assert stamp_of(db, uk) != before
    if change.startswith("bulk"):
        # A statement on the table could have touched any group's prices.
        assert stamp_of(db, other_group) != others_before
    else:
        assert stamp_of(db, other_group) == others_before


def test_sales_packing_and_event_edits_keep_the_stamp(
    db, client, login_as, member, organiser, store, event, stall
):
    before = stamp_of(db, event.group)
    login_as(member)
    assert tap(client, event, stall["journal"]).status_code == 302
    stock.pack_for_event(db.session, store, event, {stall["book"]: 1}, organiser)
    db.session.get(Event, event.id).title = "Peterborough stall, moved"
    db.session.commit()
    assert stamp_of(db, event.group) == before


def test_what_is_kept_matches_what_the_database_says(
    db, uk, event, stall, make_publication, count_statements
):
    retired = make_publication(uk, "Old pamphlet", {"CAD": 100}, active=False)
    stock.save_subscription_offer(db.session, uk, name="Joint", description="", prices={"AUD": 9})
    stock.save_subscription_offer(
        db.session, uk, name="Gone", description="", prices={"JPY": 500}, active=False
    )
    db.session.commit()
    catalogue = read_sale_catalogue(db.session, uk)
    titles = {title.id: title for title in catalogue.titles}
    assert titles[stall["journal"].id].price_in("EUR") == 500
    assert titles[stall["aurora"].id].is_free and titles[stall["aurora"].id].prices == ()
    assert [offer.name for offer in catalogue.offers] == ["Joint"]
    # Every price's currency, as before the copy was kept: retired titles and offers included.
    assert catalogue.currencies == {"GBP", "EUR", "AUD", "USD", "CAD", "JPY"}
    packed = catalogue.packed({stall["book"].id, retired.id})
    assert [title.full_title for title in packed] == ["1917", "Old pamphlet"]
    others = dict(catalogue.others({stall["book"].id}))
    assert retired.id not in others and stall["journal"].id in others
    assert stall["book"].id not in others


def test_a_worker_keeps_a_bounded_number_of_groups(db, uk, make_group):
    forget_kept_catalogues()
    groups = [uk] + [make_group(slug=f"g{n}") for n in range(KEPT_GROUPS)]
    for group in groups:
        sale_catalogue(db.session, group)
    from stallapp.stock import sale_catalogue as module

    assert len(module._kept) == KEPT_GROUPS
    assert uk.id not in module._kept  # the least recently read went first


@pytest.mark.backends("sqlite")
def test_the_upgrade_gives_each_existing_group_its_own_stamp(tmp_path):
    app = create_app(base_test_config(f"sqlite:///{tmp_path / 'stamps.sqlite'}"))
    with app.app_context():
        upgrade(revision="0008_one_truth_for_closed")
        with _db.engine.begin() as connection:
            for slug in ("uk", "nyc"):
                connection.execute(
                    sa.text(
                        'INSERT INTO "group" (slug, name, timezone, currency, language, '
                        "created_at) VALUES (:slug, :slug, 'Europe/London', 'GBP', "
                        "'en', '2026-01-01 00:00:00')"
                    ),
                    {"slug": slug},
                )
        upgrade()
        with _db.engine.connect() as connection:
            stamps = connection.scalars(sa.text('SELECT catalogue_stamp FROM "group"')).all()
        _db.engine.dispose()
    assert len(stamps) == 2 and len(set(stamps)) == 2 and all(len(s) == 32 for s in stamps)


def test_the_pickers_titles_are_escaped_and_a_refused_choice_stays_chosen(
    db, client, login_as, member, uk, event, stall, make_publication
):
    unpacked = make_publication(uk, 'Aurora <b>"61"</b>', {"GBP": 100})
    login_as(member)
    page = screen(client, event)
    assert f'<option value="{unpacked.id}">Aurora &lt;b&gt;&#34;61&#34;&lt;/b&gt;</option>' in page
    assert "<b>" not in page

    response = tap(client, event, unpacked, quantity="0")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<option value="{unpacked.id}" selected>' in page
    assert page.count(" selected>") == 1 + page.count('value="GBP" selected>')
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 0


def test_a_price_moved_to_another_groups_title_gives_both_a_new_stamp(
    db, uk, make_group, make_publication, stall
):
    nyc = make_group(slug="nyc", currency="USD")
    theirs = make_publication(nyc, "Internationalist Notes", {"USD": 300})
    before = {group.id: stamp_of(db, group) for group in (uk, nyc)}
    price = db.session.scalar(sa.select(PublicationPrice).where(PublicationPrice.currency == "AUD"))
    db.session.commit()  # expired: the old title is not in memory when the new one is set
    price.publication_id = theirs.id
    db.session.commit()
    assert all(stamp_of(db, group) != before[group.id] for group in (uk, nyc))
